import pytest
import torch
import torch.nn.functional as F
from seg_cases import ball_mask, head_case

from segmentation.losses import (
    BallLoss,
    BallVolume,
    LossPreset,
    MaskedDiceBCELoss,
    ReportSupervisionLoss,
    TargetReduction,
    VolumeLoss,
    known_mask,
)
from segmentation.networks import OUTSIDE_LOGIT
from segmentation.targets import ReportTarget

SHAPE = (32, 32, 32)


def mixed_batch():
    """(mask case, healthy report case, tumor report case) with full-res and 1/4-res heads."""
    label = torch.zeros((3, 2, *SHAPE))
    label[0, 1][torch.from_numpy(ball_mask(SHAPE, (20, 16, 16), 4.0))] = 1.0
    targets = [None, ReportTarget.empty(SHAPE, ("liver", "pancreas")), head_case()]
    final = torch.randn((3, 2, *SHAPE), requires_grad=True)
    aux = torch.randn((3, 2, 8, 8, 8), requires_grad=True)
    return final, aux, label, targets


def test_total_equals_weighted_independent_parts() -> None:
    final, aux, label, targets = mixed_batch()
    loss = ReportSupervisionLoss()
    parts = loss.parts([final, aux], label, targets)
    known = known_mask(targets, label).float()
    mask = MaskedDiceBCELoss()
    m0 = mask(final, torch.cat([label, known], 1))
    small = F.interpolate(torch.cat([label, known], 1), size=(8, 8, 8), mode="nearest-exact")
    m1 = mask(aux, small)
    ball = BallLoss()(final, targets)
    vol = VolumeLoss()(aux, targets)
    expected = 0.5 * m0 + 0.5 * m1 + 0.1 * (0.5 * ball + 0.5 * vol)
    assert float(parts["total"].detach()) == pytest.approx(float(expected.detach()), rel=1e-5)
    for key, value in {"mask/0": m0, "mask/1": m1, "ball/0": ball, "volume/1": vol}.items():
        assert float(parts[key].detach()) == pytest.approx(float(value.detach()), rel=1e-5)
    assert float(vol.detach()) > 0
    assert float(ball.detach()) > 0


@pytest.mark.parametrize(
    ("switches", "keys"),
    [
        pytest.param({"ball_loss": False}, {"mask/0", "mask/1", "volume/1", "total"}, id="no-ball"),
        pytest.param({"volume_loss": False}, {"mask/0", "mask/1", "ball/0", "total"}, id="no-volume"),
        pytest.param({"mask_loss": False}, {"ball/0", "volume/1", "total"}, id="no-mask"),
    ],
)
def test_parts_can_be_switched_off(switches: dict, keys: set) -> None:
    final, aux, label, targets = mixed_batch()
    parts = ReportSupervisionLoss(**switches).parts([final, aux], label, targets)
    assert set(parts) == keys


def test_single_head_gets_both_report_losses() -> None:
    final, _, label, targets = mixed_batch()
    parts = ReportSupervisionLoss().parts(final, label, targets)
    assert set(parts) == {"mask/0", "ball/0", "volume/0", "total"}
    expected = parts["mask/0"] + 0.1 * (parts["ball/0"] + parts["volume/0"])
    assert float(parts["total"].detach()) == pytest.approx(float(expected.detach()), rel=1e-6)


def test_unknown_voxels_get_no_mask_gradient() -> None:
    final, aux, label, targets = mixed_batch()
    ReportSupervisionLoss(ball_loss=False, volume_loss=False)([final, aux], label, targets).backward()
    unknown = targets[2].unknown
    assert final.grad is not None
    assert float(final.grad[2][unknown].abs().max()) == 0.0
    assert float(final.grad[2][~unknown].abs().min()) > 0.0
    assert float(final.grad[:2].abs().min()) > 0.0  # mask and healthy cases: every voxel supervised


def test_mixed_batch_backward_is_finite() -> None:
    final, aux, label, targets = mixed_batch()
    value = ReportSupervisionLoss()([final, aux], label, targets)
    value.backward()
    assert torch.isfinite(value)
    for grad in (final.grad, aux.grad):
        assert grad is not None
        assert torch.isfinite(grad).all()
        assert grad.abs().sum() > 0


def test_reference_preset() -> None:
    loss = ReportSupervisionLoss.from_preset("reference")
    assert loss.volume.tolerance == 0.2
    assert loss.ball.ball_volume is BallVolume.MAX_DIAMETER_SPHERE
    assert loss.volume.reduction is TargetReduction.BATCH_CHANNELS
    assert ReportSupervisionLoss.from_preset(LossPreset.DEFAULT).volume.tolerance == 0.1
    assert ReportSupervisionLoss.from_preset("reference", tolerance=0.3).volume.tolerance == 0.3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"reduction": "none"}, "reduction must reduce to a scalar", id="none"),
        pytest.param(
            {"report_weight": -0.1}, "report_weight must be a finite number >= 0.0, got -0.1", id="lambda"
        ),
        pytest.param({"head_weights": []}, "head_weights must hold at least one", id="weights"),
    ],
)
def test_invalid_options(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReportSupervisionLoss(**kwargs)


def test_invalid_calls() -> None:
    final, aux, label, targets = mixed_batch()
    with pytest.raises(ValueError, match="label shape"):
        ReportSupervisionLoss()([final, aux], label[:, :1], targets)
    with pytest.raises(ValueError, match="head_weights has 1 weights but the network gave 2 heads"):
        ReportSupervisionLoss(head_weights=[1.0])([final, aux], label, targets)
    with pytest.raises(ValueError, match="preset must be one of 'default', 'reference'"):
        ReportSupervisionLoss.from_preset("paper")


def test_batch_dice_penalises_false_positives_in_lesion_free_samples() -> None:
    # Sample 0 holds a lesion, predicted exactly; sample 1 holds none and predicts a false blob.
    label = torch.zeros((2, 1, *SHAPE))
    label[0, 0][torch.from_numpy(ball_mask(SHAPE, (16, 16, 16), 5.0))] = 1.0
    packed = torch.cat([label, torch.ones_like(label)], 1)

    def loss(radius: float, batch_dice: bool) -> float:
        logits = torch.where(label > 0, 30.0, -30.0)
        logits[1, 0][torch.from_numpy(ball_mask(SHAPE, (16, 16, 16), radius))] = 30.0
        return float(MaskedDiceBCELoss(bce_weight=0.0, batch_dice=batch_dice)(logits, packed))

    # per sample: an empty sample's Dice is ~0 whatever its false-positive volume (no signal)
    assert loss(2.0, False) == pytest.approx(0.5, abs=1e-3)
    assert loss(6.0, False) == pytest.approx(loss(2.0, False), abs=1e-3)
    # batch Dice: the false positives of sample 1 count against the channel
    assert loss(2.0, True) < loss(6.0, True) - 0.2


def test_report_loss_passes_batch_dice_to_the_mask_loss() -> None:
    # a lesion predicted exactly in sample 0, a false blob in lesion-free sample 1 (mask cases only)
    label = torch.zeros((2, 1, *SHAPE))
    label[0, 0][torch.from_numpy(ball_mask(SHAPE, (16, 16, 16), 5.0))] = 1.0
    logits = torch.where(label > 0, 30.0, -30.0)
    logits[1, 0][torch.from_numpy(ball_mask(SHAPE, (16, 16, 16), 2.0))] = 30.0

    def mask_part(batch_dice: bool) -> float:
        loss = ReportSupervisionLoss(batch_dice=batch_dice, ball_loss=False, volume_loss=False)
        return float(loss.parts([logits], label, [None, None])["mask/0"])

    packed = torch.cat([label, torch.ones_like(label)], 1)
    assert mask_part(True) == pytest.approx(float(MaskedDiceBCELoss(batch_dice=True)(logits, packed)))
    # per sample: (0 + ~1) / 2 for the Dice part; over the batch the small blob costs little
    assert mask_part(True) < mask_part(False) - 0.3


def test_union_dice_penalises_false_positives_in_a_channel_without_lesions() -> None:
    # Two disjoint "organ" channels of one lesion map: channel 0 (left half) holds a lesion predicted
    # exactly, channel 1 (right half) holds none and predicts a false blob of growing size.
    label = torch.zeros((1, 2, *SHAPE))
    label[0, 0][torch.from_numpy(ball_mask(SHAPE, (8, 16, 16), 4.0))] = 1.0
    packed = torch.cat([label, torch.ones_like(label)], 1)

    def loss(radius: float, union: bool) -> float:
        logits = torch.where(label > 0, 30.0, -30.0)
        logits[0, 1][torch.from_numpy(ball_mask(SHAPE, (24, 16, 16), radius))] = 30.0
        return float(MaskedDiceBCELoss(bce_weight=0.0, batch_dice=True, union_dice=union)(logits, packed))

    # per channel: the empty channel's Dice loss is ~1 whatever it predicts (no signal)
    assert loss(2.0, False) == pytest.approx(loss(5.0, False), abs=1e-3)
    # union: the blob counts against the lesion of channel 0
    assert loss(2.0, True) < loss(5.0, True) - 0.2
    assert loss(0.0, True) < 0.01  # a one-voxel blob beside a 257-voxel lesion costs almost nothing


def test_union_dice_gives_the_false_positives_of_an_empty_channel_a_gradient() -> None:
    label = torch.zeros((1, 2, *SHAPE))
    label[0, 0][torch.from_numpy(ball_mask(SHAPE, (8, 16, 16), 4.0))] = 1.0
    blob = torch.from_numpy(ball_mask(SHAPE, (24, 16, 16), 3.0))
    packed = torch.cat([label, torch.ones_like(label)], 1)

    def blob_grad(union: bool) -> float:
        logits = torch.where(label > 0, 3.0, -3.0)
        logits[0, 1][blob] = 0.0
        logits.requires_grad_(True)
        MaskedDiceBCELoss(bce_weight=0.0, batch_dice=True, union_dice=union)(logits, packed).backward()
        assert logits.grad is not None
        return float(logits.grad[0, 1][blob].sum())

    assert abs(blob_grad(False)) < 1e-3 * abs(blob_grad(True))
    assert blob_grad(True) > 0  # descending it lowers the blob's logits


def test_gated_bce_averages_over_the_voxels_the_gated_network_predicts() -> None:
    # channel 0's organ is the left half, channel 1's the right half; outside, the fixed gate logit
    label = torch.zeros((1, 2, *SHAPE))
    label[0, 0][torch.from_numpy(ball_mask(SHAPE, (8, 16, 16), 4.0))] = 1.0
    packed = torch.cat([label, torch.ones_like(label)], 1)
    organ = torch.zeros((1, 2, *SHAPE), dtype=torch.bool)
    organ[0, 0, :16], organ[0, 1, 16:] = True, True
    logits = torch.where(organ, torch.tensor(0.5), torch.tensor(OUTSIDE_LOGIT))

    def bce(gated: bool) -> float:
        return float(MaskedDiceBCELoss(dice_weight=0.0, gated_bce=gated)(logits, packed))

    inside = F.binary_cross_entropy_with_logits(logits[organ], label[organ])
    assert bce(True) == pytest.approx(float(inside), rel=1e-5)
    # over the whole crop, the fixed half of the voxels (BCE ~0) halves it
    assert bce(False) == pytest.approx(float(inside) / 2, rel=1e-3)
    # the Dice does not depend on it
    both = [float(MaskedDiceBCELoss(bce_weight=0.0, gated_bce=g)(logits, packed)) for g in (True, False)]
    assert both[0] == pytest.approx(both[1])


def test_report_loss_passes_union_dice_to_the_mask_loss() -> None:
    label = torch.zeros((1, 2, *SHAPE))
    label[0, 0][torch.from_numpy(ball_mask(SHAPE, (8, 16, 16), 4.0))] = 1.0
    logits = torch.where(label > 0, 30.0, -30.0)
    logits[0, 1][torch.from_numpy(ball_mask(SHAPE, (24, 16, 16), 3.0))] = 30.0
    packed = torch.cat([label, torch.ones_like(label)], 1)
    loss = ReportSupervisionLoss(batch_dice=True, union_dice=True, ball_loss=False, volume_loss=False)
    expected = MaskedDiceBCELoss(batch_dice=True, union_dice=True)(logits, packed)
    assert float(loss.parts([logits], label, [None])["mask/0"]) == pytest.approx(float(expected))
