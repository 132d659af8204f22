"""Per-side organ statuses in report targets, on tiny masks: a normal side is a known negative, an absent
side contributes nothing, a lesion of one side is restricted to it; without per-side masks nothing
changes. Records → facts carry the sides and keep the location of unmeasured lesions."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from schemas.records import Lesion, OrganFinding, OrganStatus, Provenance, ReportExtraction, Size
from segmentation.records import extraction_to_facts
from segmentation.targets import LesionFact, OrganFact, ReportTarget, build_report_target

SP = (1.0, 1.0, 1.0)
SHAPE = (12, 4, 4)
LEFT = np.zeros(SHAPE, dtype=bool)
LEFT[0:4] = True
RIGHT = np.zeros(SHAPE, dtype=bool)
RIGHT[8:12] = True
NONE = np.zeros(SHAPE, dtype=bool)
BOTH = LEFT | RIGHT
L, N, A = OrganStatus.LESION, OrganStatus.NORMAL, OrganStatus.ABSENT


def _build(lesions: list[LesionFact], fact: OrganFact, *, per_side: bool = True) -> ReportTarget:
    masks = {"kidney_left": LEFT, "kidney_right": RIGHT} if per_side else {"kidney": BOTH}
    return build_report_target(lesions, [fact], masks, SP, ("kidney",), unknown_margin_mm=0.0)


def _unknown(t: ReportTarget) -> np.ndarray:
    return t.unknown[0].numpy()


@pytest.mark.parametrize(
    ("fact", "unknown"),
    [
        pytest.param(OrganFact("kidney", N, left=A, right=N), NONE, id="nephrectomy-normal-right"),
        pytest.param(OrganFact("kidney", A, left=A, right=A), NONE, id="both-absent"),
        pytest.param(OrganFact("kidney", N, left=N, right=None), RIGHT, id="unstated-right-unknown"),
        pytest.param(OrganFact("kidney", A, left=A), RIGHT, id="absent-left-unstated-right"),
        pytest.param(OrganFact("kidney", N), NONE, id="no-sides-as-before"),
    ],
)
def test_lesion_free_kidney_sides(fact: OrganFact, unknown: np.ndarray) -> None:
    t = _build([], fact)
    assert not t.channel_targets[0].has_target
    assert np.array_equal(_unknown(t), unknown)


def test_unlocated_lesion_is_restricted_to_its_side() -> None:
    t = _build([LesionFact("kidney", (2.0,))], OrganFact("kidney", L, count=1, left=L, right=N))
    ct = t.channel_targets[0]
    assert np.array_equal(_unknown(t), LEFT)
    assert ct.has_volume_target
    assert torch.equal(ct.region_distance[ct.volume_region] == 0, torch.from_numpy(LEFT))


def test_open_count_is_unknown_only_on_the_lesion_side() -> None:
    fact = OrganFact("kidney", L, multiple=True, left=A, right=L)
    t = _build([LesionFact("kidney", (2.0,))], fact)
    ct = t.channel_targets[0]
    assert np.array_equal(_unknown(t), RIGHT)
    assert ct.exclude is not None
    assert np.array_equal(ct.exclude.numpy(), RIGHT)
    assert not ct.has_volume_target


def test_unsized_unlocated_lesion_next_to_a_normal_side() -> None:
    t = _build([LesionFact("kidney", None)], OrganFact("kidney", L, count=1, left=N, right=L))
    assert np.array_equal(_unknown(t), RIGHT)
    assert not t.channel_targets[0].has_target


def test_located_lesion_is_unchanged_by_sides() -> None:
    lesion = LesionFact("kidney", (2.0,), ("kidney_left",))
    with_sides = _build([lesion], OrganFact("kidney", L, count=1, left=L, right=N))
    without = _build([lesion], OrganFact("kidney", L, count=1))
    assert np.array_equal(_unknown(with_sides), _unknown(without))
    assert np.array_equal(_unknown(with_sides), LEFT)


def test_sides_are_ignored_without_per_side_masks() -> None:
    t = _build(
        [LesionFact("kidney", (2.0,))], OrganFact("kidney", L, count=1, left=L, right=N), per_side=False
    )
    assert np.array_equal(_unknown(t), BOTH)
    normal = _build([], OrganFact("kidney", N, left=N), per_side=False)
    assert np.array_equal(_unknown(normal), NONE)


def test_organ_fact_checks_side_statuses() -> None:
    assert OrganFact("kidney", "normal", left="absent").left is A
    with pytest.raises(
        ValueError, match=r"OrganFact\.right must be one of lesion, normal, not_mentioned, absent"
    ):
        OrganFact("kidney", "normal", right="gone")


def _record(organs: tuple[OrganFinding, ...], lesions: tuple[Lesion, ...]) -> ReportExtraction:
    return ReportExtraction(
        report_id="r1",
        text_sha256=hashlib.sha256(b"x").hexdigest(),
        organs=organs,
        lesions=lesions,
        provenance=Provenance(backend="test", extractor_version="t"),
    )


def test_records_pass_sides_and_keep_unmeasured_locations() -> None:
    record = _record(
        (
            OrganFinding(organ="kidney", status=L, left=A, right=L),
            OrganFinding(organ="liver", status=L),
            OrganFinding(organ="pancreas", status=L),
        ),
        (
            Lesion(organ="kidney", side="right"),
            Lesion(organ="liver", liver_segments=(3,), size_class="tiny"),
            Lesion(organ="pancreas", pancreas_parts=("neck",), size=Size(diameters_mm=(9,), qualifier="<")),
        ),
    )
    facts = extraction_to_facts(record)
    kidney = next(f for f in facts.organs if f.organ == "kidney")
    assert (kidney.status, kidney.left, kidney.right) == (L, A, L)
    assert [(f.organ, f.diameters_mm, f.subsegments) for f in facts.lesions] == [
        ("kidney", None, ("kidney_right",)),
        ("liver", None, ("liver_segment_3",)),
        ("pancreas", None, ("pancreas_head",)),
    ]
