import numpy as np
import pytest
import torch
from seg_cases import pancreas_masks

from segmentation.targets import LesionFact, OrganFact, ReportTarget, build_report_target

SP = (1.0, 1.0, 1.0)


def masks_with_liver() -> dict[str, np.ndarray]:
    masks = pancreas_masks()
    liver = np.zeros((32, 32, 32), dtype=bool)
    liver[4:28, 0:5, 0:5] = True
    masks["liver"] = liver
    return masks


def build(lesions, organs, channels=("pancreas",), masks=None, **kw) -> ReportTarget:
    return build_report_target(
        lesions, organs, pancreas_masks() if masks is None else masks, SP, channels, **kw
    )


HEAD = pancreas_masks()["pancreas_head"]
ORGAN = HEAD | pancreas_masks()["pancreas_tail"]


def test_located_measured_lesion_gives_segment_and_volume() -> None:
    t = build(
        [LesionFact("pancreas", (10.0,), ("pancreas_head",))],
        [OrganFact("pancreas", "lesion", 1)],
        unknown_margin_mm=0.0,
    )
    ct = t.channel_targets[0]
    assert ct.has_volume_target
    assert ct.volume_vox == pytest.approx(523.6, abs=0.1)
    assert torch.equal(ct.region_distance[ct.volume_region] == 0, torch.from_numpy(HEAD))
    assert torch.equal(t.unknown[0], torch.from_numpy(HEAD))  # only the lesion's segment is unknown
    assert t.unknown.dtype == torch.bool
    assert t.unknown.shape == (1, 32, 32, 32)


@pytest.mark.parametrize(
    ("lesions", "organ", "volume", "ball", "unknown"),
    [
        pytest.param([], OrganFact("pancreas", "normal"), False, False, "none", id="normal-is-negative"),
        pytest.param([], OrganFact("pancreas", "absent"), False, False, "none", id="absent-is-negative"),
        pytest.param(
            [], OrganFact("pancreas", "not_mentioned"), False, False, "organ", id="unmentioned-unknown"
        ),
        pytest.param(
            [LesionFact("pancreas", (10.0,))],
            OrganFact("pancreas", "lesion"),
            True,
            True,
            "organ",
            id="unlocated-whole-organ",
        ),
        pytest.param(
            [LesionFact("pancreas", None, ("pancreas_head",))],
            OrganFact("pancreas", "lesion"),
            False,
            False,
            "head",
            id="unsized-no-volume",
        ),
        pytest.param(
            [LesionFact("pancreas", (10.0,), ("pancreas_head",))],
            OrganFact("pancreas", "lesion", multiple=True),
            False,
            True,
            "organ",
            id="multiple-no-volume",
        ),
        pytest.param(
            [LesionFact("pancreas", (10.0,), ("pancreas_head",))],
            OrganFact("pancreas", "lesion", count=3),
            False,
            True,
            "organ",
            id="unlisted-lesions-no-volume",
        ),
        pytest.param(
            [LesionFact("pancreas", (10.0,), ("pancreas_head",)), LesionFact("pancreas", None)],
            OrganFact("pancreas", "lesion", count=2),
            False,
            True,
            "organ",
            id="unsized-unlocated-overlaps-S",
        ),
    ],
)
def test_status_semantics(lesions, organ, volume, ball, unknown) -> None:
    t = build(lesions, [organ], unknown_margin_mm=0.0)
    ct = t.channel_targets[0]
    assert ct.has_volume_target is volume
    assert ct.has_lesions is ball
    expected = {"none": np.zeros_like(HEAD), "organ": ORGAN, "head": HEAD}[unknown]
    assert torch.equal(t.unknown[0], torch.from_numpy(expected))


def test_missing_organ_fact_defaults() -> None:
    t = build([], [], unknown_margin_mm=0.0)
    assert torch.equal(t.unknown[0], torch.from_numpy(ORGAN))  # not mentioned -> unknown, never negative


def test_untrained_organ_lesion_is_masked_in_every_channel() -> None:
    masks = masks_with_liver()
    lesions = [LesionFact("liver", (12.0,))]
    t = build(lesions, [OrganFact("pancreas", "normal")], masks=masks, unknown_margin_mm=0.0)
    assert bool(t.unknown[0][torch.from_numpy(masks["liver"])].all())
    off = build(
        lesions,
        [OrganFact("pancreas", "normal")],
        masks=masks,
        unknown_margin_mm=0.0,
        mask_untrained_lesion_organs=False,
    )
    assert not off.unknown.any()


def test_lesion_without_organ_mask_makes_the_channel_unknown() -> None:
    t = build([LesionFact("liver", (12.0,))], [], channels=("liver",), unknown_margin_mm=0.0)
    assert bool(t.unknown.all())
    assert not t.has_target


def test_unknown_margin_dilates_exactly_in_mm() -> None:
    t0 = build([LesionFact("pancreas", (10.0,), ("pancreas_head",))], [], unknown_margin_mm=0.0)
    t2 = build([LesionFact("pancreas", (10.0,), ("pancreas_head",))], [], unknown_margin_mm=2.0)
    grown = t2.unknown[0] & ~t0.unknown[0]
    assert grown.any()
    assert not (t2.unknown[0][:1].any())
    assert bool(t2.unknown[0][2:4, 16, 16].all())


def test_neck_falls_back_to_head_mask() -> None:
    t = build([LesionFact("pancreas", (10.0,), ("pancreas_neck",))], [], unknown_margin_mm=0.0)
    assert torch.equal(t.unknown[0], torch.from_numpy(HEAD))


def test_two_segments_give_one_volume_over_their_union() -> None:
    lesions = [
        LesionFact("pancreas", (10.0,), ("pancreas_head",)),
        LesionFact("pancreas", (8.0,), ("pancreas_tail",)),
    ]
    ct = build(lesions, []).channel_targets[0]
    assert ct.volume_vox == pytest.approx(523.6 + 268.08, abs=0.1)
    assert len(ct.region_voxels) == 3
    assert ct.region_voxels[ct.volume_region] == int(ORGAN.sum())
    assert [les.region for les in ct.lesions] == [0, 1]


def test_crop_keeps_exact_distances_and_drops_clipped_targets() -> None:
    t = build([LesionFact("pancreas", (10.0,), ("pancreas_head",))], [])
    inside = t.crop((slice(0, 20), slice(2, 30), slice(0, 32)))
    assert inside.shape == (20, 28, 32)
    assert inside.channel_targets[0].has_volume_target
    assert torch.equal(
        inside.channel_targets[0].region_distance[0], t.channel_targets[0].region_distance[0, :20, 2:30]
    )
    assert inside.channel_targets[0].region_boxes[0] == ((4, 16), (4, 24), (6, 26))
    clipped = t.crop((slice(8, 32), slice(0, 32), slice(0, 32)))
    assert not clipped.has_target
    assert clipped.unknown[0].any()


def test_empty_target_and_device_move() -> None:
    e = ReportTarget.empty((4, 5, 6), ("liver", "pancreas"))
    assert e.unknown.shape == (2, 4, 5, 6)
    assert not e.unknown.any()
    assert not e.has_target
    assert e.to("cpu").shape == (4, 5, 6)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(
            lambda: build([], [], masks={"a": np.zeros((2, 2))}), r"masks\['a'\] must be a 3D", id="2d"
        ),
        pytest.param(lambda: build([], [], masks={}), "masks must hold at least one", id="no-masks"),
        pytest.param(
            lambda: build_report_target([], [], pancreas_masks(), (1, 0, 1)), "spacing must be", id="spacing"
        ),
        pytest.param(lambda: build([], [OrganFact("pancreas", "normal")] * 2), "two facts", id="duplicate"),
        pytest.param(
            lambda: OrganFact("pancreas", "sick"), "status must be one of lesion, normal", id="status"
        ),
        pytest.param(lambda: LesionFact("liver", (-1.0,)), "diameters_mm must be positive", id="diameter"),
        pytest.param(lambda: build([], [], channels=("a", "a")), "distinct organ names", id="channels"),
    ],
)
def test_invalid_inputs_raise_precise_errors(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    "radius", [pytest.param(0.0, id="r0"), pytest.param(2.5, id="r2.5"), pytest.param(7.0, id="r7")]
)
def test_region_mask_is_the_exact_anisotropic_dilation(radius: float) -> None:
    from scipy.ndimage import distance_transform_edt

    spacing = (0.8, 1.0, 2.5)
    t = build_report_target(
        [LesionFact("pancreas", (10.0,), ("pancreas_head",))], [], pancreas_masks(), spacing, ("pancreas",)
    )
    ct = t.channel_targets[0]
    expected = distance_transform_edt(~HEAD, sampling=spacing) <= radius
    assert torch.equal(ct.region_mask(ct.volume_region, radius), torch.from_numpy(expected))


# --- equivalences the fast paths rely on -------------------------------------------------------


@pytest.mark.parametrize(
    ("spacing", "radius"),
    [
        ((1.0, 1.0, 1.0), 2.0),
        ((1.0, 1.0, 2.0), 2.0),  # offsets exactly on the sphere
        ((0.7, 0.8, 1.5), 2.0),
        ((0.5, 0.5, 0.5), 1.75),
        ((1.0, 1.0, 1.0), 0.9),  # no neighbour inside: the mask itself
        ((0.3, 0.3, 0.3), 6.0),  # too many shifts: distance-transform fallback
    ],
)
def test_shift_dilation_equals_distance_transform(spacing, radius) -> None:
    from segmentation.targets.build import _dilate, _distance_mm

    rng = np.random.default_rng(1)
    mask = rng.random((20, 23, 19)) > 0.995
    mask[0, 5, 18] = mask[19, 22, 0] = True  # border voxels
    assert np.array_equal(_dilate(mask, spacing, radius), _distance_mm(mask, spacing, radius) <= radius)


def test_bbox_equals_nonzero_extent() -> None:
    from segmentation.targets.build import _bbox

    rng = np.random.default_rng(2)
    for _ in range(5):
        mask = np.zeros((11, 13, 7), dtype=bool)
        mask[tuple(rng.integers(0, n, 3) for n in mask.shape)] = True
        coords = np.nonzero(mask)
        assert _bbox(mask) == tuple((int(c.min()), int(c.max()) + 1) for c in coords)
    assert _bbox(np.zeros((3, 3, 3), dtype=bool)) is None


@pytest.mark.parametrize("spacing", [(1.0, 1.0, 1.0), (0.8, 0.9, 2.5)])
def test_union_region_distance_equals_its_own_distance_transform(spacing) -> None:
    from segmentation.targets import quantise_distance
    from segmentation.targets.build import _distance_mm

    lesions = [
        LesionFact("pancreas", (10.0,), ("pancreas_head",)),
        LesionFact("pancreas", (8.0,), ("pancreas_tail",)),
    ]
    masks = pancreas_masks()
    t = build_report_target(lesions, [], masks, spacing, ("pancreas",), max_distance_mm=12.0)
    ct = t.channel_targets[0]
    assert ct.volume_region == 2
    union = masks["pancreas_head"] | masks["pancreas_tail"]
    expected = quantise_distance(_distance_mm(union, tuple(spacing), 12.0))
    assert np.array_equal(ct.region_distance[ct.volume_region].numpy(), expected)
