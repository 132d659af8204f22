"""Forward + backward time of the R-Super report losses vs. MONAI ``DiceCELoss``.

Not a test. Example::

    python benchmarks/bench_losses.py --device cpu --size 128 --repeats 3

Logits are ``(batch, channels, size, size, size)``; each case gets ``lesions`` measured lesions with
diameters drawn from [5, 50] mm, located in random sub-segments of a synthetic liver-sized organ of
channel 0 (1 mm isotropic). Report losses = Ball Loss + Volume Loss on the same logits; "compound" is
:class:`~segmentation.losses.ReportSupervisionLoss` (mask BCE + Dice, Ball, Volume) on one head.
Timings are medians of wall time and of process CPU time (robust to other jobs on a shared
CPU); CUDA timings are synchronised.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from monai.losses import DiceCELoss

from segmentation.losses import BallLoss, ReportSupervisionLoss, VolumeLoss
from segmentation.targets import LesionFact, OrganFact, ReportTarget, build_report_target

logger = logging.getLogger("bench_losses")


def synthetic_target(
    size: int, channels: tuple[str, ...], n_lesions: int, rng: np.random.Generator
) -> ReportTarget:
    """A crop with an ellipsoidal organ of ~0.55 * size radius split into 4 sub-segments."""
    grid = np.meshgrid(*[np.arange(size)] * 3, indexing="ij")
    centre = size / 2
    organ = sum(((g - centre) / (0.38 * size)) ** 2 for g in grid) <= 1.0
    organ_name = channels[0]
    masks = {}
    for i, (a, b) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        part = organ & ((grid[0] >= centre) == bool(a)) & ((grid[1] >= centre) == bool(b))
        masks[f"{organ_name}_segment_{i + 1}"] = part
    lesions = [
        LesionFact(
            organ_name,
            tuple(float(d) for d in sorted(rng.uniform(5.0, 50.0, size=2), reverse=True)),
            (f"{organ_name}_segment_{rng.integers(1, 5)}",),
        )
        for _ in range(n_lesions)
    ]
    facts = [OrganFact(organ_name, "lesion", count=n_lesions)] + [
        OrganFact(o, "normal") for o in channels[1:]
    ]
    return build_report_target(lesions, facts, masks, (1.0, 1.0, 1.0), channels)


def timed(fn: Callable[[], torch.Tensor], device: torch.device, repeats: int) -> tuple[float, float]:
    """Median wall and process-CPU seconds of ``fn().backward()`` (one warm-up run).

    The CPU time (all threads of this process) is far less sensitive than the wall time to other jobs
    on a shared machine; on CUDA only the wall time means anything.
    """
    walls, cpus = [], []
    for i in range(repeats + 1):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start, start_cpu = time.perf_counter(), time.process_time()
        fn().backward()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        if i:
            walls.append(time.perf_counter() - start)
            cpus.append(time.process_time() - start_cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--size", type=int, default=128, help="crop side in voxels (default 128)")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--lesions", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch default)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda requested but CUDA is not available")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    rng = np.random.default_rng(args.seed)
    names = ("liver", "pancreas", "kidney", "spleen", "colon", "stomach")[: args.channels]
    shape = (args.batch, len(names), args.size, args.size, args.size)
    base = torch.randn(shape, generator=torch.Generator().manual_seed(args.seed)).to(device)
    label = torch.zeros(shape, device=device)
    dice_ce = DiceCELoss(sigmoid=True)

    def logits() -> torch.Tensor:
        return base.clone().requires_grad_(True)

    reference = timed(lambda: dice_ce(logits(), label), device, args.repeats)
    rows = [("DiceCELoss (MONAI)", "-", reference)]
    for n in args.lesions:
        start = time.perf_counter()
        targets = [synthetic_target(args.size, names, n, rng) for _ in range(args.batch)]
        build = (time.perf_counter() - start) / args.batch
        logger.info(
            "built %d targets with %d lesion(s): %.2f s per case (CPU, data loading)", args.batch, n, build
        )
        targets = [t.to(device) for t in targets]
        ball, volume, compound = BallLoss(), VolumeLoss(), ReportSupervisionLoss()

        def report(
            t: list[ReportTarget] = targets, b: BallLoss = ball, v: VolumeLoss = volume
        ) -> torch.Tensor:
            x = logits()
            return b(x, t) + v(x, t)

        rows += [
            ("BallLoss", str(n), timed(lambda t=targets, b=ball: b(logits(), t), device, args.repeats)),
            ("VolumeLoss", str(n), timed(lambda t=targets, v=volume: v(logits(), t), device, args.repeats)),
            ("Ball + Volume (report losses)", str(n), timed(report, device, args.repeats)),
            (
                "ReportSupervisionLoss (all)",
                str(n),
                timed(lambda t=targets, c=compound: c(logits(), label, t), device, args.repeats),
            ),
        ]
    print(
        f"device={args.device} threads={torch.get_num_threads()} logits={tuple(shape)} repeats={args.repeats}"
    )
    print(f"| {'loss':<30} | lesions/case | fwd+bwd (ms) | x DiceCE | CPU time (ms) | x DiceCE (CPU) |")
    print(f"|{'-' * 32}|--------------|--------------|----------|---------------|----------------|")
    for name, n, (wall, cpu) in rows:
        print(
            f"| {name:<30} | {n:>12} | {wall * 1e3:>12.1f} | {wall / reference[0]:>8.2f} "
            f"| {cpu * 1e3:>13.1f} | {cpu / reference[1]:>14.2f} |"
        )


if __name__ == "__main__":
    main()
