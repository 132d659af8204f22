"""Tests for the evaluation set and the extraction metrics (report_extractor.evaluation)."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from pathlib import Path

import pytest

from report_extractor.errors import InputError
from report_extractor.evaluation import (
    EVALSET_PATH,
    EvalCase,
    EvalMetrics,
    EvalPart,
    ReportStyle,
    gold_extractions,
    load_evalset,
    organ_count,
    score,
)
from schemas.records import (
    Count,
    CountKind,
    ExtractionStatus,
    Lesion,
    OrganFinding,
    OrganStatus,
    Provenance,
    ReportExtraction,
    Size,
    text_sha256,
)
from schemas.vocabulary import Organ, PancreasPart, Side

CASES = load_evalset()
DEVSET_PATH = EVALSET_PATH.with_name("devset.jsonl")
DEV_CASES = load_evalset(DEVSET_PATH)
ALL_CASES = CASES + DEV_CASES


# ------------------------------------------------------------------------------------------ helpers


def lesion(
    organ: Organ = Organ.LIVER,
    mm: float | None = None,
    *,
    segments: tuple[int, ...] = (),
    parts: tuple[PancreasPart, ...] = (),
    side: Side | None = None,
    count: Count | None = None,
) -> Lesion:
    """A lesion with the fields the metrics look at."""
    return Lesion(
        organ=organ,
        size=Size(diameters_mm=(mm,)) if mm is not None else None,
        liver_segments=segments,
        pancreas_parts=parts,
        side=side,
        count=count or Count(),
    )


def record(
    report_id: str,
    lesions: tuple[Lesion, ...] = (),
    normal: tuple[Organ, ...] = (),
    *,
    counts: dict[Organ, Count] | None = None,
    status: ExtractionStatus = ExtractionStatus.OK,
    provenance: Provenance | None = None,
) -> ReportExtraction:
    """A record whose lesion organs have status ``lesion`` and ``normal`` organs status ``normal``."""
    counts = counts or {}
    organs = [
        OrganFinding(organ=o, status=OrganStatus.LESION, count=counts.get(o))
        for o in dict.fromkeys(les.organ for les in lesions)
    ]
    organs += [OrganFinding(organ=o, status=OrganStatus.NORMAL) for o in normal]
    return ReportExtraction(
        report_id=report_id,
        text_sha256=text_sha256(report_id),
        status=status,
        error=None if status is ExtractionStatus.OK else "backend failed",
        organs=tuple(organs),
        lesions=lesions,
        provenance=provenance or Provenance(backend="test", extractor_version="0"),
    )


N_ORGANS = len(Organ)


# ------------------------------------------------------------------------------------------ gold set


def test_evalset_has_at_least_70_cases() -> None:
    assert len(CASES) >= 70


def test_evalset_ids_unique_in_file() -> None:
    lines = [line for line in EVALSET_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]
    ids = [json.loads(line)["id"] for line in lines]
    assert len(ids) == len(set(ids)) == len(CASES)


def test_evalset_style_mix() -> None:
    styles = Counter(case.style for case in ALL_CASES)
    assert set(styles) == set(ReportStyle)
    assert Counter(case.style for case in CASES)[ReportStyle.NORMAL] >= 0.15 * len(CASES)


def test_devset_ids_are_new_and_both_parts_present() -> None:
    assert not {c.id for c in CASES} & {c.id for c in DEV_CASES}
    parts = Counter(case.part for case in DEV_CASES)
    assert parts[EvalPart.HELDOUT] >= 0.3 * len(DEV_CASES)
    assert parts[EvalPart.TUNING] >= 0.3 * len(DEV_CASES)
    assert all(case.part is EvalPart.TUNING for case in CASES)


def test_devset_parts_follow_the_sha256_rule() -> None:
    """Within each style, the 40 % of ids with the smallest sha256 (rounded half up) are held out."""
    by_style: dict[ReportStyle, list[EvalCase]] = {}
    for case in DEV_CASES:
        by_style.setdefault(case.style, []).append(case)
    for style, cases in by_style.items():
        ordered = sorted(cases, key=lambda c: hashlib.sha256(c.id.encode()).hexdigest())
        n_heldout = math.floor(0.4 * len(ordered) + 0.5)
        expected = [EvalPart.HELDOUT] * n_heldout + [EvalPart.TUNING] * (len(ordered) - n_heldout)
        assert [c.part for c in ordered] == expected, style


def test_devset_has_the_recist_and_addendum_styles() -> None:
    styles = Counter(case.style for case in DEV_CASES)
    assert styles[ReportStyle.RECIST] >= 25
    assert styles[ReportStyle.ADDENDUM] >= 25
    assert len(ALL_CASES) >= 300


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])
def test_gold_record_validates(case: EvalCase) -> None:
    gold = case.to_extraction()
    assert gold.report_id == case.id
    assert gold.text_sha256 == text_sha256(case.text)
    assert gold.provenance.backend == "gold"
    assert len(gold.lesions) == len(case.expected.lesions)


_NUMBER = re.compile(r"(?<![\d,.])(\d+(?:[.,]\d+)?)")


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])
def test_gold_diameters_occur_in_text(case: EvalCase) -> None:
    """Every gold diameter is a number of the report, read in mm or in cm."""
    values = {float(m.replace(",", ".")) for m in _NUMBER.findall(case.text)}
    readable = {round(v, 3) for v in values} | {round(v * 10, 3) for v in values}
    for les in case.expected.lesions:
        for mm in les.diameters_mm:
            assert round(mm, 3) in readable, f"{case.id}: {mm} mm does not occur in the text"


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])
def test_gold_organ_count_is_sum_of_lesions(case: EvalCase) -> None:
    gold = case.to_extraction()
    for finding in gold.organs:
        if finding.status is OrganStatus.LESION:
            derived = organ_count(gold.model_copy(update={"organs": ()}), finding.organ)
            assert derived == finding.count, f"{case.id}: {finding.organ.value}"
            assert gold.lesions_of(finding.organ), f"{case.id}: {finding.organ.value} has no lesion entry"


def test_gold_covers_training_organs_and_hard_cases() -> None:
    gold = gold_extractions(CASES)
    lesions = [les for g in gold for les in g.lesions]
    for organ in (Organ.LIVER, Organ.PANCREAS, Organ.KIDNEY):
        assert sum(les.organ is organ for les in lesions) >= 10
    assert any(les.count.kind is CountKind.MULTIPLE for les in lesions)
    assert any(les.count.kind is CountKind.AT_LEAST for les in lesions)
    assert any(les.side is Side.BILATERAL for les in lesions)
    assert any(g.finding(o).status is OrganStatus.ABSENT for g in gold for o in Organ)


def test_gold_scores_one_against_itself() -> None:
    gold = gold_extractions(CASES)
    metrics = score(gold, gold)
    for name, part in metrics.overall:
        for field in ("value", "precision", "recall", "f1"):
            if hasattr(part, field):
                assert getattr(part, field) == 1.0, f"overall.{name}.{field}"
    for organ, organ_metrics in metrics.per_organ.items():
        for name, part in organ_metrics:
            for field in ("value", "precision", "recall", "f1"):
                value = getattr(part, field, None)
                assert value in (None, 1.0), f"{organ.value}.{name}.{field}"
    for organ in (Organ.LIVER, Organ.PANCREAS, Organ.KIDNEY):
        focus = metrics.per_organ[organ]
        assert focus.lesions.f1 == focus.location.value == focus.largest_diameter.value == 1.0
    assert metrics.n_missing == metrics.n_failed == metrics.n_extra == 0


# ------------------------------------------------------------------------------------------ loader


def _write(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _row(case_id: str, organs: list[dict[str, object]], lesions: list[dict[str, object]]) -> str:
    return json.dumps(
        {
            "id": case_id,
            "style": "ed",
            "text": "Liver: 2 cm lesion.",
            "expected": {"organs": organs, "lesions": lesions},
        }
    )


LIVER_LESION: dict[str, object] = {"organ": "liver", "status": "lesion", "count": 1}
ONE_LESION: dict[str, object] = {"organ": "liver", "diameters_mm": [20.0]}


def test_load_evalset_reads_a_valid_file(tmp_path: Path) -> None:
    cases = load_evalset(_write(tmp_path, [_row("a", [LIVER_LESION], [ONE_LESION]), ""]))
    assert [c.id for c in cases] == ["a"]
    gold = cases[0].to_extraction()
    assert gold.lesions[0].size is not None
    assert gold.lesions[0].size.largest_mm == 20.0


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        pytest.param(["{not json"], "set.jsonl:1: not valid JSON", id="bad-json"),
        pytest.param(
            [_row("a", [{"organ": "liver", "status": "normal"}], [ONE_LESION])],
            "set.jsonl:1: invalid case",
            id="lesion-on-normal-organ",
        ),
        pytest.param(
            [_row("a", [LIVER_LESION], [{"organ": "pancreas", "liver_segments": [2]}])],
            "set.jsonl:1: invalid case",
            id="segments-on-pancreas",
        ),
        pytest.param(
            [_row("a", [LIVER_LESION], [{"organ": "liver", "diameters_mm": [10.0, 20.0]}])],
            "largest first",
            id="unsorted-diameters",
        ),
        pytest.param(
            [_row("a", [LIVER_LESION], [ONE_LESION]), _row("a", [LIVER_LESION], [ONE_LESION])],
            "set.jsonl:2: duplicate id 'a'",
            id="duplicate-id",
        ),
    ],
)
def test_load_evalset_rejects_bad_files(tmp_path: Path, rows: list[str], message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        load_evalset(_write(tmp_path, rows))


def test_load_evalset_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the evaluation set"):
        load_evalset(tmp_path / "nope.jsonl")


# ------------------------------------------------------------------------------------------ metrics


def test_organ_status_accuracy_all_and_mentioned() -> None:
    gold = [record("r1", (lesion(mm=20),), normal=(Organ.PANCREAS,))]
    pred = [record("r1", (lesion(mm=20),))]  # pancreas left not_mentioned
    metrics = score(gold, pred)
    assert metrics.overall.status.correct == N_ORGANS - 1
    assert metrics.organ_status_accuracy == (N_ORGANS - 1) / N_ORGANS
    assert metrics.overall.status_mentioned.correct == 1
    assert metrics.organ_status_accuracy_mentioned == 0.5
    assert metrics.per_organ[Organ.PANCREAS].status_mentioned.value == 0.0


def test_presence_precision_recall() -> None:
    gold = [
        record("r1", (lesion(mm=20),)),
        record("r2", (lesion(mm=20),)),
        record("r3", normal=(Organ.LIVER,)),
    ]
    pred = [
        record("r1", (lesion(mm=20),)),
        record("r2", normal=(Organ.LIVER,)),
        record("r3", (lesion(mm=20),)),
    ]
    presence = score(gold, pred).per_organ[Organ.LIVER].presence
    assert (presence.tp, presence.fp, presence.fn) == (1, 1, 1)
    assert presence.precision == presence.recall == presence.f1 == 0.5


def test_one_missed_lesion_halves_lesion_recall() -> None:
    gold = [record("r1", (lesion(mm=30, segments=(8,)), lesion(mm=12, segments=(3,))))]
    pred = [record("r1", (lesion(mm=31, segments=(8,)),))]
    metrics = score(gold, pred)
    assert metrics.lesions.recall == 0.5
    assert metrics.lesions.precision == 1.0
    assert metrics.lesions.f1 == pytest.approx(2 / 3)
    assert metrics.presence.f1 == 1.0
    assert metrics.overall.count.value == 0.0  # 1 != 2
    assert metrics.overall.largest_diameter.value == 1.0


@pytest.mark.parametrize(
    ("gold_count", "pred_count", "ok"),
    [
        pytest.param(Count(kind=CountKind.MULTIPLE, value=None), Count(value=1), False, id="multiple-vs-1"),
        pytest.param(Count(value=1), Count(kind=CountKind.MULTIPLE, value=None), False, id="1-vs-multiple"),
        pytest.param(
            Count(kind=CountKind.MULTIPLE, value=None),
            Count(kind=CountKind.MULTIPLE, value=None),
            True,
            id="multiple-vs-multiple",
        ),
        pytest.param(Count(kind=CountKind.AT_LEAST, value=3), Count(value=3), False, id="at-least-3-vs-3"),
        pytest.param(Count(value=2), Count(value=2), True, id="2-vs-2"),
    ],
)
def test_count_exact_match(gold_count: Count, pred_count: Count, ok: bool) -> None:
    gold = [record("r1", (lesion(mm=20, count=gold_count),))]
    pred = [record("r1", (lesion(mm=20, count=pred_count),))]
    count = score(gold, pred).overall.count
    assert (count.correct, count.total) == (int(ok), 1)


def test_organ_count_sums_lesions_and_prefers_the_organ_count() -> None:
    multiple = Count(kind=CountKind.MULTIPLE, value=None)
    at_least_2 = Count(kind=CountKind.AT_LEAST, value=2)
    assert organ_count(record("r", (lesion(mm=5), lesion(mm=9))), Organ.LIVER) == Count(value=2)
    assert organ_count(record("r", (lesion(mm=5), lesion(count=at_least_2))), Organ.LIVER) == Count(
        kind=CountKind.AT_LEAST, value=3
    )
    assert organ_count(record("r", (lesion(mm=5), lesion(count=multiple))), Organ.LIVER) == multiple
    explicit = record("r", (lesion(mm=5),), counts={Organ.LIVER: Count(value=4)})
    assert organ_count(explicit, Organ.LIVER) == Count(value=4)
    assert organ_count(record("r", normal=(Organ.LIVER,)), Organ.LIVER) is None
    assert organ_count(None, Organ.LIVER) is None


@pytest.mark.parametrize(
    ("gold_mm", "pred_mm", "ok"),
    [
        pytest.param(30.0, 32.0, True, id="plus-2mm"),
        pytest.param(30.0, 28.0, True, id="minus-2mm"),
        pytest.param(30.0, 32.5, False, id="plus-2.5mm"),
        pytest.param(30.0, 3.0, False, id="cm-read-as-mm"),
        pytest.param(30.0, None, False, id="unsized-prediction"),
    ],
)
def test_largest_diameter_tolerance(gold_mm: float, pred_mm: float | None, ok: bool) -> None:
    gold = [record("r1", (lesion(mm=gold_mm), lesion(mm=8)))]
    pred = [record("r1", (lesion(mm=pred_mm),))]
    diameter = score(gold, pred).overall.largest_diameter
    assert (diameter.correct, diameter.total) == (int(ok), 1)


def test_largest_diameter_skips_unsized_gold() -> None:
    gold = [record("r1", (lesion(count=Count(kind=CountKind.MULTIPLE, value=None)),))]
    assert score(gold, gold).overall.largest_diameter.total == 0


@pytest.mark.parametrize(
    ("gold_lesion", "pred_lesion", "overlap", "exact"),
    [
        pytest.param(
            lesion(mm=20, segments=(4, 5)), lesion(mm=20, segments=(5,)), True, False, id="liver-overlap"
        ),
        pytest.param(
            lesion(mm=20, segments=(6, 7)), lesion(mm=20, segments=(6, 7)), True, True, id="liver-equal"
        ),
        pytest.param(
            lesion(mm=20, segments=(2,)), lesion(mm=20, segments=(7,)), False, False, id="liver-disjoint"
        ),
        pytest.param(
            lesion(Organ.PANCREAS, 20, parts=(PancreasPart.NECK,)),
            lesion(Organ.PANCREAS, 20, parts=(PancreasPart.HEAD,)),
            True,
            True,
            id="pancreas-neck-is-head",
        ),
        pytest.param(
            lesion(Organ.PANCREAS, 20, parts=(PancreasPart.TAIL,)),
            lesion(Organ.PANCREAS, 20, parts=(PancreasPart.BODY,)),
            False,
            False,
            id="pancreas-tail-vs-body",
        ),
        pytest.param(
            lesion(Organ.KIDNEY, 20, side=Side.BILATERAL),
            lesion(Organ.KIDNEY, 20, side=Side.LEFT),
            True,
            False,
            id="kidney-bilateral-vs-left",
        ),
        pytest.param(
            lesion(Organ.KIDNEY, 20, side=Side.LEFT),
            lesion(Organ.KIDNEY, 20, side=Side.RIGHT),
            False,
            False,
            id="kidney-left-vs-right",
        ),
        pytest.param(lesion(mm=20, segments=(8,)), lesion(mm=20), False, False, id="prediction-unlocated"),
    ],
)
def test_largest_lesion_location(
    gold_lesion: Lesion, pred_lesion: Lesion, overlap: bool, exact: bool
) -> None:
    metrics = score([record("r1", (gold_lesion,))], [record("r1", (pred_lesion,))])
    assert (metrics.overall.location.correct, metrics.overall.location.total) == (int(overlap), 1)
    assert metrics.overall.location_exact.correct == int(exact)


def test_location_uses_the_largest_lesion() -> None:
    gold = [record("r1", (lesion(mm=10, segments=(2,)), lesion(mm=40, segments=(7,))))]
    right = [record("r1", (lesion(mm=41, segments=(7,)),))]
    wrong = [record("r1", (lesion(mm=10, segments=(2,)), lesion(mm=5, segments=(7,))))]
    assert score(gold, right).overall.location.value == 1.0
    assert score(gold, wrong).overall.location.value == 0.0


def test_location_not_scored_for_unlocated_gold_or_other_organs() -> None:
    gold = [record("r1", (lesion(mm=20), lesion(Organ.ADRENAL_GLAND, 15, side=Side.LEFT)))]
    assert score(gold, gold).overall.location.total == 0


@pytest.mark.parametrize(
    ("pred_lesions", "tp", "fp", "fn"),
    [
        pytest.param((lesion(mm=21, segments=(7,)),), 1, 0, 0, id="match"),
        pytest.param((lesion(mm=23, segments=(7,)),), 0, 1, 1, id="size-off-by-3mm"),
        pytest.param((lesion(mm=20, segments=(2,)),), 0, 1, 1, id="wrong-segment"),
        pytest.param((lesion(mm=20),), 1, 0, 0, id="unlocated-prediction"),
        pytest.param((lesion(),), 0, 1, 1, id="unsized-vs-sized"),
        pytest.param((lesion(mm=20, segments=(7,)), lesion(mm=19, segments=(7,))), 1, 1, 0, id="one-extra"),
        pytest.param((lesion(Organ.SPLEEN, 20),), 0, 1, 1, id="other-organ"),
    ],
)
def test_lesion_level_matching(pred_lesions: tuple[Lesion, ...], tp: int, fp: int, fn: int) -> None:
    gold = [record("r1", (lesion(mm=20, segments=(7,)),))]
    lesions = score(gold, [record("r1", pred_lesions)]).lesions
    assert (lesions.tp, lesions.fp, lesions.fn) == (tp, fp, fn)


def test_lesion_matching_is_one_to_one_and_prefers_the_closest_size() -> None:
    gold = [record("r1", (lesion(mm=20), lesion(mm=22)))]
    pred = [record("r1", (lesion(mm=21.5), lesion(mm=19)))]
    lesions = score(gold, pred).lesions
    assert (lesions.tp, lesions.fp, lesions.fn) == (2, 0, 0)


def test_missing_and_failed_predictions_count_as_not_mentioned() -> None:
    gold = [record("r1", (lesion(mm=20),)), record("r2", (lesion(mm=20),)), record("r3", (lesion(mm=20),))]
    failed = record("r2", (lesion(mm=20),), status=ExtractionStatus.FAILED)
    metrics = score(gold, [record("r3", (lesion(mm=20),)), failed, record("extra")])
    assert (metrics.n_reports, metrics.n_missing, metrics.n_failed, metrics.n_extra) == (3, 1, 1, 1)
    assert metrics.presence.recall == pytest.approx(1 / 3)
    assert metrics.per_organ[Organ.LIVER].status.correct == 1


def test_duplicate_report_ids_are_rejected() -> None:
    gold = [record("r1")]
    with pytest.raises(InputError, match="predicted: report_id 'r1' occurs twice"):
        score(gold, [record("r1"), record("r1")])
    with pytest.raises(InputError, match="gold: report_id 'r1' occurs twice"):
        score([record("r1"), record("r1")], [])


def test_wall_time_must_be_positive() -> None:
    with pytest.raises(ValueError, match=r"wall_time_s: must be > 0 seconds, got 0"):
        score([record("r1")], [record("r1")], wall_time_s=0)


def test_throughput_from_provenance_and_wall_time() -> None:
    def prov(duration: float, prompt: int | None) -> Provenance:
        return Provenance(
            backend="b",
            extractor_version="0",
            duration_s=duration,
            prompt_tokens=prompt,
            completion_tokens=10,
        )

    gold = [record("r1"), record("r2")]
    pred = [record("r1", provenance=prov(1.0, 100)), record("r2", provenance=prov(3.0, None))]
    t = score(gold, pred).throughput
    assert t.reports_per_s == pytest.approx(0.5)  # 2 reports / (1 + 3) s
    assert t.prompt_tokens_per_report == 100.0
    assert t.completion_tokens_per_report == 10.0
    assert t.cached_tokens_per_report is None
    assert score(gold, pred, wall_time_s=0.5).throughput.reports_per_s == pytest.approx(4.0)
    assert score(gold, [record("r1")]).throughput.reports_per_s is None


def test_to_table_is_markdown_with_focus_organs() -> None:
    gold = [record("r1", (lesion(mm=30, segments=(8,)), lesion(mm=12, segments=(3,))))]
    metrics: EvalMetrics = score(gold, [record("r1", (lesion(mm=31, segments=(8,)),))])
    table = metrics.to_table()
    assert table.splitlines()[0] == "| metric | all organs | liver | pancreas | kidney |"
    assert "| lesion-level recall | 0.500 | 0.500 | n/a | n/a |" in table
    assert "| count exact match | 0.000 (0/1) | 0.000 (0/1) | n/a (0/0) | n/a (0/0) |" in table
    round_trip = EvalMetrics.model_validate_json(metrics.model_dump_json())
    assert round_trip.lesions.recall == 0.5
