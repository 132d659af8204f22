"""Done-when test: report supervision alone teaches a tiny UNet where the reported lesion is."""

import torch
from monai.networks.nets import BasicUNet
from seg_cases import ball_mask, pancreas_masks

from segmentation.losses import ReportSupervisionLoss
from segmentation.targets import LesionFact, OrganFact, build_report_target

SHAPE = (32, 32, 32)
CENTRE = (10, 16, 16)


def train(report: bool, steps: int = 20) -> tuple[float, float, float]:
    """Train on one unmasked report case; return mean probability in lesion, rest of S, and outside S."""
    torch.manual_seed(0)
    lesion = torch.from_numpy(ball_mask(SHAPE, CENTRE, 5.0))
    image = 0.1 * torch.randn((1, 1, *SHAPE))
    image[0, 0][lesion] += 1.0
    target = build_report_target(
        [LesionFact("pancreas", (10.0,), ("pancreas_head",))],
        [OrganFact("pancreas", "lesion", count=1)],
        pancreas_masks(),
        (1.0, 1.0, 1.0),
        ("pancreas",),
    )
    net = BasicUNet(spatial_dims=3, in_channels=1, out_channels=1, features=(4, 4, 8, 16, 32, 4))
    torch.nn.init.constant_(net.final_conv.bias, -3.0)  # lesion prior ~5%, as usual for rare foreground
    loss_fn = ReportSupervisionLoss(report_weight=1.0, ball_loss=report, volume_loss=report)
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-2)
    label = torch.zeros((1, 1, *SHAPE))
    for _ in range(steps):
        optimiser.zero_grad()
        loss_fn(net(image), label, [target]).backward()
        optimiser.step()
    with torch.no_grad():
        prob = torch.sigmoid(net(image))[0, 0]
    segment = target.channel_targets[0].region_distance[0] == 0
    return float(prob[lesion].mean()), float(prob[segment & ~lesion].mean()), float(prob[~segment].mean())


def test_report_losses_grow_probability_inside_the_reported_lesion() -> None:
    lesion_r, rest_r, outside_r = train(report=True)
    lesion_c, _, _ = train(report=False)
    # without report losses the (unknown) lesion stays at the prior; with them it is found
    assert lesion_r > 0.5, (lesion_r, rest_r, outside_r)
    assert lesion_r > lesion_c + 0.4, (lesion_r, lesion_c)
    assert lesion_r > rest_r + 0.3, (lesion_r, rest_r, outside_r)
    assert lesion_r > outside_r + 0.4, (lesion_r, rest_r, outside_r)
