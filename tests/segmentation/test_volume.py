import numpy as np
import pytest
import torch
from seg_cases import pancreas_masks

from segmentation.losses import TargetReduction, VolumeLoss, volume_penalty
from segmentation.targets import LesionFact, OrganFact, build_report_target


def penalty(x: float, v: float, t: float = 0.1) -> float:
    return float(volume_penalty(torch.tensor(x, dtype=torch.float64), v, tolerance=t))


@pytest.mark.parametrize(
    ("x", "v", "t", "expected"),
    [
        pytest.param(0.0, 1000.0, 0.1, 0.625, id="t0.1-zero-pred"),
        pytest.param(2000.0, 1000.0, 0.1, 0.244, id="t0.1-double"),
        pytest.param(10000.0, 1000.0, 0.1, 0.741, id="t0.1-tenfold"),
        pytest.param(0.0, 1000.0, 0.2, 0.580, id="t0.2-zero-pred"),
        pytest.param(0.0, 100.0, 0.1, 0.167, id="small-target-no-dead-zone"),
    ],
)
def test_parity_values(x: float, v: float, t: float, expected: float) -> None:
    assert penalty(x, v, t) == pytest.approx(expected, abs=5e-4)


@pytest.mark.parametrize(
    ("t", "lo", "hi"),
    [pytest.param(0.1, 900.0, 1108.7, id="t0.1"), pytest.param(0.2, 800.0, 1238.1, id="t0.2")],
)
def test_zero_band_edges(t: float, lo: float, hi: float) -> None:
    for x in np.linspace(lo, hi - 0.05, 25):
        assert penalty(float(x), 1000.0, t) == 0.0
    assert penalty(lo - 1.0, 1000.0, t) > 0.0
    assert penalty(hi + 0.1, 1000.0, t) > 0.0


def test_zero_target_is_defined() -> None:
    assert penalty(0.0, 0.0) == 0.0
    assert penalty(500.0, 0.0) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("x", "sign"), [pytest.param(300.0, -1.0, id="too-small"), pytest.param(3000.0, 1.0, id="too-large")]
)
def test_gradient_pushes_towards_target(x: float, sign: float) -> None:
    pred = torch.tensor(x, requires_grad=True)
    volume_penalty(pred, 1000.0).backward()
    assert pred.grad is not None
    assert torch.sign(pred.grad).item() == sign


def test_gradient_is_zero_inside_band() -> None:
    pred = torch.tensor(1000.0, requires_grad=True)
    volume_penalty(pred, 1000.0).backward()
    assert pred.grad is not None
    assert pred.grad.item() == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"tolerance": 1.0}, r"tolerance must be in \[0.0, 1.0\), got 1.0", id="tolerance"),
        pytest.param(
            {"stabilizer": 0.0}, "stabilizer must be a finite number > 0.0, got 0.0", id="stabilizer"
        ),
        pytest.param({"segment_dilation_mm": -1.0}, "segment_dilation_mm must be", id="dilation"),
        pytest.param(
            {"reduction": "avg"}, "reduction must be one of 'mean', 'sum', 'none', 'batch_channels'", id="red"
        ),
    ],
)
def test_invalid_options(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        VolumeLoss(**kwargs)


def _case(spacing: tuple[float, float, float]):
    return build_report_target(
        [LesionFact("pancreas", (10.0,), ("pancreas_head",))],
        [OrganFact("pancreas", "lesion", count=1)],
        pancreas_masks(),
        spacing,
        ("pancreas",),
    )


@pytest.mark.parametrize(
    ("spacing", "voxels"),
    [
        pytest.param((1.0, 1.0, 1.0), 523.6, id="iso-1mm"),
        pytest.param((1.0, 1.0, 2.5), 209.4, id="aniso-2.5mm"),
    ],
)
def test_anisotropic_spacing_changes_voxel_target(spacing: tuple[float, float, float], voxels: float) -> None:
    target = _case(spacing)
    assert target.channel_targets[0].volume_vox == pytest.approx(voxels, abs=0.1)


def test_anisotropic_spacing_changes_dilated_region() -> None:
    loss = VolumeLoss(segment_dilation_mm=5.0)
    logits = torch.full((1, 1, 32, 32, 32), 20.0)  # p = 1: V_hat = |S'|
    iso, _, _ = loss.predicted_volumes(logits, [_case((1.0, 1.0, 1.0))])
    aniso, _, _ = loss.predicted_volumes(logits, [_case((1.0, 1.0, 2.5))])
    # 5 mm along the third axis is 5 voxels at 1 mm but only 2 voxels at 2.5 mm
    assert float(aniso[0]) < float(iso[0])


def test_loss_is_zero_in_band_and_positive_outside(head_target) -> None:
    loss = VolumeLoss(segment_dilation_mm=0.0)
    ct = head_target.channel_targets[1]
    head = torch.from_numpy(pancreas_masks()["pancreas_head"])
    n_target = ct.volume_vox
    # probability p uniform over the head so that V_hat = p * |head|
    for ratio, zero in ((1.0, True), (0.5, False), (1.5, False)):
        p = ratio * n_target / int(head.sum())
        logits = torch.full((1, 2, 32, 32, 32), -30.0)
        logits[0, 1][head] = float(torch.logit(torch.tensor(p, dtype=torch.float64)))
        value = float(loss(logits, [head_target]))
        assert (value == 0.0) == zero, (ratio, value)


def test_reductions_and_no_target_batch(head_target) -> None:
    logits = torch.zeros((2, 2, 32, 32, 32), requires_grad=True)
    per_target = VolumeLoss(reduction="none")(logits, [head_target, None])
    assert per_target.shape == (1,)
    mean = VolumeLoss()(logits, [head_target, None])
    ref = VolumeLoss(reduction=TargetReduction.BATCH_CHANNELS)(logits, [head_target, None])
    assert float(ref.detach()) == pytest.approx(float(mean.detach()) / 4)  # Q4: divides by B * C
    empty = VolumeLoss()(logits, [None, None])
    empty.backward()
    assert float(empty.detach()) == 0.0
    assert logits.grad is not None


def test_box_crops_gradient_equals_indexing() -> None:
    from segmentation.losses._common import box_crops

    x = torch.randn((2, 3, 8, 9, 10), requires_grad=True)
    keys = [
        (0, 1, (slice(1, 5), slice(0, 9), slice(2, 7))),
        (1, 2, (slice(0, 8), slice(3, 4), slice(0, 10))),
        (0, 1, (slice(3, 8), slice(2, 6), slice(0, 4))),  # overlaps the first: gradients add up
    ]
    crops = box_crops(x, keys)
    assert all(c.dtype == torch.float32 and c.is_contiguous() for c in crops)
    (sum((c.sigmoid() * (i + 1)).sum() for i, c in enumerate(crops[:2]))).backward()  # third unused
    fast = x.grad.clone()
    x.grad = None
    (sum((x[b, c][box].sigmoid() * (i + 1)).sum() for i, (b, c, box) in enumerate(keys[:2]))).backward()
    assert torch.allclose(fast, x.grad, rtol=1e-6, atol=1e-6)
    assert torch.equal(fast == 0, x.grad == 0)
    with torch.no_grad():
        assert all(
            torch.equal(c, x[b, c_][box]) for c, (b, c_, box) in zip(box_crops(x, keys), keys, strict=True)
        )
