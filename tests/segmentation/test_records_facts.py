"""Records → report-target facts (segmentation.records)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from schemas.records import Count, Lesion, OrganFinding, Provenance, ReportExtraction, Size
from segmentation.records import extraction_to_facts, load_report_facts, read_extractions_jsonl
from segmentation.targets import LesionFact, OrganFact, build_report_target

PROV = Provenance(backend="test", extractor_version="t")
SHA = hashlib.sha256(b"x").hexdigest()


def record(lesions: list[dict], organs: list[dict], rid: str = "R1", **kw: object) -> ReportExtraction:
    return ReportExtraction(
        report_id=rid,
        text_sha256=SHA,
        lesions=tuple(Lesion(**lesion) for lesion in lesions),
        organs=tuple(OrganFinding(**o) for o in organs),
        provenance=PROV,
        **kw,
    )


@pytest.mark.parametrize(
    ("lesion", "expected"),
    [
        ({"organ": "liver", "liver_segments": (5, 8)}, ("liver_segment_5", "liver_segment_8")),
        (
            {"organ": "pancreas", "pancreas_parts": ("neck", "uncinate", "tail")},
            ("pancreas_head", "pancreas_tail"),
        ),
        ({"organ": "kidney", "side": "left"}, ("kidney_left",)),
        ({"organ": "kidney", "side": "bilateral"}, ("kidney_left", "kidney_right")),
        ({"organ": "kidney", "side": "unknown"}, ()),
        ({"organ": "liver"}, ()),
    ],
    ids=[
        "liver-segments",
        "pancreas-mask-parts",
        "kidney-left",
        "kidney-bilateral",
        "kidney-unknown",
        "unlocated",
    ],
)
def test_locations_map_to_mask_labels(lesion: dict, expected: tuple[str, ...]) -> None:
    organ = lesion["organ"]
    facts = extraction_to_facts(record([lesion], [{"organ": organ, "status": "lesion"}]))
    assert facts.lesions == (LesionFact(organ, None, expected),)


def test_sizes_counts_and_groups() -> None:
    rec = record(
        [
            {"organ": "liver", "liver_segments": (2,), "size": Size(diameters_mm=(11, 10))},
            {"organ": "liver", "size": Size(diameters_mm=(9,), qualifier="<")},
            {"organ": "pancreas", "count": Count(kind="exact", value=2), "size": Size(diameters_mm=(20,))},
            {
                "organ": "kidney",
                "count": Count(kind="multiple", value=None),
                "size": Size(diameters_mm=(12,)),
            },
        ],
        [
            {"organ": "liver", "status": "lesion"},
            {"organ": "pancreas", "status": "lesion"},
            {"organ": "kidney", "status": "lesion"},
            {"organ": "spleen", "status": "normal"},
        ],
    )
    facts = extraction_to_facts(rec)
    assert [f.diameters_mm for f in facts.lesions] == [(11.0, 10.0), None, (20.0,), None, (12.0,)]
    organs = {o.organ: o for o in facts.organs}
    assert organs["liver"] == OrganFact("liver", "lesion", count=2)
    assert organs["pancreas"] == OrganFact("pancreas", "lesion", count=2)  # a group of two: never one lesion
    assert organs["kidney"].multiple
    assert organs["kidney"].count is None
    assert organs["spleen"] == OrganFact("spleen", "normal")
    assert facts.is_positive("kidney")
    assert not facts.is_positive("spleen")
    assert not facts.is_positive("lung")


def test_organ_count_at_least_is_multiple() -> None:
    rec = record(
        [{"organ": "liver"}],
        [{"organ": "liver", "status": "lesion", "count": Count(kind="at_least", value=3)}],
    )
    (organ,) = extraction_to_facts(rec).organs
    assert organ.multiple
    assert organ.count is None


def test_failed_extraction_is_rejected() -> None:
    with pytest.raises(ValueError, match="status is 'failed'"):
        extraction_to_facts(record([], [], status="failed", error="timeout"))


def test_jsonl_and_store_sources_agree(tmp_path: Path) -> None:
    from store import init_store

    good = record(
        [{"organ": "pancreas", "pancreas_parts": ("head",), "size": Size(diameters_mm=(10,))}],
        [{"organ": "pancreas", "status": "lesion"}],
        rid="A",
    )
    bad = record([], [], rid="B", status="failed", error="x")
    path = tmp_path / "facts.jsonl"
    path.write_text(good.model_dump_json() + "\n" + bad.model_dump_json() + "\n", encoding="utf-8")
    assert set(read_extractions_jsonl(path)) == {"A", "B"}
    from_jsonl, missing = load_report_facts(["A", "B", "C"], reports_jsonl=path)
    assert set(from_jsonl) == {"A"}
    assert set(missing) == {"B", "C"}

    url = f"sqlite:///{tmp_path / 'store.db'}"
    init_store(url).save_extraction(good)
    from_store, missing_store = load_report_facts(["A", "C"], store_url=url)
    assert from_store == {"A": from_jsonl["A"]}
    assert set(missing_store) == {"C"}
    with pytest.raises(ValueError, match="exactly one report source"):
        load_report_facts(["A"])


def test_facts_build_a_report_target() -> None:
    rec = record(
        [{"organ": "pancreas", "pancreas_parts": ("uncinate",), "size": Size(diameters_mm=(10,))}],
        [{"organ": "pancreas", "status": "lesion"}, {"organ": "liver", "status": "normal"}],
    )
    facts = extraction_to_facts(rec)
    head = np.zeros((16, 16, 16), dtype=bool)
    head[2:8, 4:12, 4:12] = True
    tail = np.zeros_like(head)
    tail[8:14, 4:12, 4:12] = True
    target = build_report_target(
        facts.lesions,
        facts.organs,
        {"pancreas_head": head, "pancreas_tail": tail},
        (1.0, 1.0, 1.0),
        ("liver", "pancreas"),
    )
    ct = target.channel_targets[1]
    assert ct.has_volume_target
    assert ct.volume_vox == pytest.approx(np.pi / 6 * 1000)
    assert ct.region_boxes[ct.volume_region] == ((2, 8), (4, 12), (4, 12))  # the head, not the tail
    assert not target.unknown[0].any()
