import math

import numpy as np
import pytest
import torch
from seg_cases import ball_mask, head_case, pancreas_masks

from segmentation.losses import BallLoss, BallVolume, rank_weights
from segmentation.targets import LesionFact, OrganFact, build_report_target

SHAPE = (32, 32, 32)


def sphere_logits(
    radius_mm: float, centre=(10, 16, 16), inside: float = 8.0, outside: float = -8.0
) -> torch.Tensor:
    logits = torch.full((1, 2, *SHAPE), outside)
    logits[0, 1][torch.from_numpy(ball_mask(SHAPE, centre, radius_mm))] = inside
    return logits


@pytest.mark.parametrize(
    ("n", "first", "last"),
    [
        pytest.param(10, 1.339, 0.718, id="n10"),
        pytest.param(590, 1.386, 0.693, id="n590"),
        pytest.param(20000, 1.386, 0.693, id="n20000"),
    ],
)
def test_rank_weight_parity(n: int, first: float, last: float) -> None:
    w = rank_weights(n)
    assert float(w[0]) == pytest.approx(first, abs=1e-3)
    assert float(w[-1]) == pytest.approx(last, abs=1e-3)
    assert float(w.mean()) == pytest.approx(1.0)


def test_sphere_of_reported_size_is_near_the_minimum(head_target) -> None:
    loss = BallLoss()
    values = {r: float(loss(sphere_logits(r), [head_target])) for r in (3.0, 4.0, 5.0, 8.0, 10.0)}
    assert values[5.0] < 0.02  # 10 mm reported diameter
    assert values[5.0] == min(values.values())
    for r in (3.0, 8.0, 10.0):
        assert values[r] > values[5.0] + 0.05, values


def test_pseudo_mask_picks_the_most_probable_blob_inside_s() -> None:
    target = head_case()
    logits = torch.full((1, 2, *SHAPE), -6.0)
    blobs = {
        "dim_in_head": ((9, 12, 12), 0.0),
        "bright_in_head": ((9, 21, 21), 1.5),
        "brightest_in_tail": ((24, 16, 16), 6.0),
    }
    masks = {}
    for name, (centre, value) in blobs.items():
        masks[name] = torch.from_numpy(ball_mask(SHAPE, centre, 3.0))
        logits[0, 1][masks[name]] = value
    loss = BallLoss(segment_dilation_mm=2.0)
    pm = loss.pseudo_mask(logits[0, 1], target, 1)
    positive = torch.zeros(SHAPE, dtype=torch.bool)
    positive[pm.box] = pm.positive
    assert int((positive & masks["bright_in_head"]).sum()) == int(masks["bright_in_head"].sum())
    assert not (positive & masks["brightest_in_tail"]).any()
    assert int(positive.sum()) == math.ceil(0.8 * round(target.channel_targets[1].lesions[0].volume_vox))


def test_candidate_ball_grows_when_clipped_by_the_crop() -> None:
    organ = np.zeros(SHAPE, dtype=bool)
    organ[:20] = True
    target = build_report_target(
        [LesionFact("pancreas", (24.0,))],
        [OrganFact("pancreas", "lesion")],
        {"pancreas": organ},
        (1, 1, 1),
        ("pancreas",),
    )
    logits = torch.full((1, 1, *SHAPE), -4.0)
    logits[0, 0][torch.from_numpy(ball_mask(SHAPE, (0, 0, 0), 12.0))] = 4.0  # lesion in the crop's corner
    pm = BallLoss(segment_dilation_mm=0.0).pseudo_mask(logits[0, 0], target, 0)
    n = round(target.channel_targets[0].lesions[0].volume_vox)
    # an unclipped (1 + m) d ball around the centre holds fewer than (1 + m) N voxels of the crop
    assert int(pm.positive.sum()) == math.ceil(0.8 * n)
    assert int(pm.outer.sum()) == math.ceil(1.2 * n)


def test_unmeasured_lesion_region_is_never_a_negative() -> None:
    target = build_report_target(
        [
            LesionFact("pancreas", (8.0,), ("pancreas_head",)),
            LesionFact("pancreas", None, ("pancreas_tail",)),
        ],
        [OrganFact("pancreas", "lesion", count=2)],
        pancreas_masks(),
        (1.0, 1.0, 1.0),
        ("pancreas",),
    )
    ct = target.channel_targets[0]
    assert ct.has_lesions
    assert ct.has_volume_target
    logits = torch.zeros((1, 1, *SHAPE), requires_grad=True)
    BallLoss()(logits, [target]).backward()
    tail = torch.from_numpy(pancreas_masks()["pancreas_tail"])
    assert logits.grad is not None
    assert float(logits.grad[0, 0][tail].abs().max()) == 0.0
    assert float(logits.grad[0, 0][~tail].abs().max()) > 0.0


@pytest.mark.parametrize(
    ("ball_volume", "ratio"),
    [
        pytest.param(BallVolume.ELLIPSOID, 1.0, id="ellipsoid"),
        pytest.param(BallVolume.MAX_DIAMETER_SPHERE, 4.5, id="reference-Q1"),
    ],
)
def test_ball_volume_option(ball_volume: BallVolume, ratio: float) -> None:
    target = build_report_target(
        [LesionFact("pancreas", (30.0, 10.0, 20.0), ("pancreas_head",))],
        [OrganFact("pancreas", "lesion")],
        pancreas_masks(),
        (1.0, 1.0, 1.0),
        ("pancreas",),
    )
    lesion = target.channel_targets[0].lesions[0]
    assert BallLoss(ball_volume=ball_volume).lesion_voxels(lesion) == pytest.approx(ratio * 3141.6, rel=1e-3)


def test_backward_is_finite_and_target_less_batch_is_zero(head_target) -> None:
    logits = torch.randn((2, 2, *SHAPE), requires_grad=True)
    value = BallLoss()(logits, [head_target, None])
    value.backward()
    assert torch.isfinite(value)
    assert logits.grad is not None
    assert torch.isfinite(logits.grad).all()
    assert float(logits.grad[1].abs().sum()) == 0.0
    assert float(BallLoss()(logits, [None, None]).detach()) == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"margin": 1.0}, r"margin must be in \[0.0, 1.0\), got 1.0", id="margin"),
        pytest.param(
            {"ball_volume": "cube"}, "ball_volume must be one of 'ellipsoid', 'max_diameter_sphere'", id="vol"
        ),
        pytest.param({"rank_last_ratio": 0.0}, r"rank_last_ratio must be in \(0.0, 1.0\]", id="rank"),
    ],
)
def test_invalid_options(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BallLoss(**kwargs)


def test_wrong_resolution_or_batch_is_rejected(head_target) -> None:
    with pytest.raises(ValueError, match="full-resolution head"):
        BallLoss()(torch.zeros((1, 2, 16, 16, 16)), [head_target])
    with pytest.raises(ValueError, match="one entry per sample"):
        BallLoss()(torch.zeros((2, 2, *SHAPE)), [head_target])


# --- equivalences the fast paths rely on -------------------------------------------------------


@pytest.mark.parametrize("radius", [0, 1, 3, 20])
def test_bool_shell_dilation_equals_max_pool_dilation(radius: int) -> None:
    from segmentation.losses.ball import _dilate_cube

    mask = torch.rand((13, 17, 9)) > 0.97
    mask[0, 0, 0] = mask[-1, -1, -1] = True  # border voxels: the dilation is clipped, not wrapped
    fast = _dilate_cube(mask, radius)
    reference = _dilate_cube(mask.float(), radius) > 0
    assert fast.dtype == torch.bool
    assert torch.equal(fast, reference)


def test_loss_and_gradient_equal_per_target_indexing() -> None:
    """``box_crops`` (one gradient buffer for all targets) equals indexing ``input[b, c][box]`` per target."""
    import torch.nn.functional as F
    from monai.losses import DiceLoss

    masks = pancreas_masks()
    lesions = [
        LesionFact("pancreas", (9.0, 6.0), ("pancreas_head",)),
        LesionFact("pancreas", (7.0,), ("pancreas_tail",)),
    ]
    targets = [
        build_report_target(
            lesions, [OrganFact("pancreas", "lesion", 2)], masks, (1.0, 1.0, 1.0), ("liver", "pancreas")
        ),
        None,
        build_report_target(lesions[:1], [], masks, (1.0, 1.2, 0.9), ("pancreas", "liver")),
    ]
    logits = torch.randn((3, 2, *SHAPE)) * 3
    loss = BallLoss(reduction="none")
    fast_input = logits.clone().requires_grad_(True)
    fast = loss(fast_input, targets)
    fast.sum().backward()

    slow_input = logits.clone().requires_grad_(True)
    dice = DiceLoss(sigmoid=False, reduction="none")
    slow = []
    for b, target in enumerate(targets):
        if target is None:
            continue
        for c, ct in enumerate(target.channel_targets):
            if not ct.has_lesions:
                continue
            pm = loss.pseudo_mask(logits[b, c], target, c)
            x = slow_input[b, c][pm.box].float()
            y, mask = pm.positive.float(), pm.supervised.float()
            bce = F.binary_cross_entropy_with_logits(x, y, weight=pm.weight, reduction="sum")
            d = dice((torch.sigmoid(x) * mask)[None, None], (y * mask)[None, None]).reshape(())
            slow.append(bce / pm.supervised.sum().clamp(min=1) + d)
    slow = torch.stack(slow)
    slow.sum().backward()
    assert fast.shape == (2,)
    assert torch.allclose(fast, slow, rtol=1e-6, atol=1e-6)
    assert torch.allclose(fast_input.grad, slow_input.grad, rtol=1e-5, atol=1e-9)
