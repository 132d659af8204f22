"""The trainer: small hooks (build_network, build_loss, dataloaders, train_step, validate, checkpoint).

Variants are subclasses registered by name (:func:`register_trainer`, ``TrainConfig.trainer``).
One run folder holds ``config.json`` (with the git SHA), ``checkpoints/step_N.pt`` + ``last.pt``,
``losses.jsonl`` (every loss term per step), ``tensorboard/`` and ``train.log``.

Exact resume: a checkpoint holds model, optimizer, scheduler, EMA and RNG states plus the step; the data
stream is a pure function of the sample index (:mod:`segmentation.data.dataset`), so the step fixes the
sampler position and the resumed run computes the identical next loss.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader

from segmentation.data.dataset import StepSampler, TrainCropDataset, collate_samples
from segmentation.data.manifest import Manifest, Role, load_manifest, validate_manifest
from segmentation.losses import ReportSupervisionLoss
from segmentation.networks import build_network
from segmentation.records import ReportFacts, load_report_facts
from segmentation.training.config import Mode, TrainConfig
from segmentation.training.state import (
    EMA,
    DistContext,
    get_rng_state,
    init_distributed,
    load_checkpoint,
    poly_lambda,
    set_rng_state,
)

__all__ = ["TRAINERS", "RunResult", "Trainer", "register_trainer", "split_heads"]

logger = logging.getLogger(__name__)
TRAINERS: dict[str, type[Trainer]] = {}


def register_trainer(name: str) -> Callable[[type[Trainer]], type[Trainer]]:
    """Class decorator: make a :class:`Trainer` subclass selectable as ``TrainConfig.trainer = name``."""

    def deco(cls: type[Trainer]) -> type[Trainer]:
        TRAINERS[name] = cls
        cls.name = name
        return cls

    return deco


@dataclass
class RunResult:
    """What a finished (or resumed) run produced."""

    run_dir: Path
    final_step: int
    checkpoint: Path | None
    losses: list[dict[str, float]] = field(default_factory=list)
    validation: dict[str, float] = field(default_factory=dict)
    """The last validation's scores."""
    validation_curve: list[dict[str, float]] = field(default_factory=list)
    """Every validation of this call: ``{"step": N, "val/dice_<organ>": ...}`` in step order."""


def split_heads(
    output: torch.Tensor | list[torch.Tensor] | tuple[torch.Tensor, ...], heads: tuple[int, ...] | None
) -> list[torch.Tensor]:
    """Network output → list of ``(B, C, H, W, D)`` heads, final head first.

    ``(B, K, C, H, W, D)`` (MONAI deep supervision) is unbound along ``K``; ``heads`` selects some.
    """
    if isinstance(output, torch.Tensor):
        out = list(output.unbind(1)) if output.ndim == 6 else [output]
    else:
        out = list(output)
    if heads is not None and len(out) > 1:
        out = [out[h] for h in heads if h < len(out)]
    return out


@register_trainer("default")
class Trainer:
    """R-Super trainer (``docs/METHOD.md`` section 4). Override a hook to make a variant."""

    name = "default"

    def __init__(self, config: TrainConfig, *, resume: bool = False) -> None:
        self.cfg = config
        self.resume = resume
        self.ctx: DistContext = init_distributed(config.device)
        self.run_dir = Path(config.out_dir)
        self.step = 0
        self.history: list[dict[str, float]] = []

    # ------------------------------------------------------------------ hooks
    def build_network(self) -> nn.Module:
        """The network (any MONAI network by name)."""
        return build_network(self.cfg)

    def build_loss(self) -> nn.Module:
        """Mask losses on every head; Ball / Volume losses only in ``reports`` mode."""
        reports = self.cfg.mode is Mode.REPORTS
        lc = self.cfg.loss
        return ReportSupervisionLoss.from_preset(
            lc.preset,
            report_weight=lc.report_weight,
            head_weights=lc.head_weights,
            ball_loss=reports,
            volume_loss=reports,
            segment_dilation_mm=lc.segment_dilation_mm,
            tolerance=lc.tolerance,
            batch_dice=lc.batch_dice,
        )

    def build_optimizer(
        self, model: nn.Module
    ) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
        """AdamW + warm-up / poly LambdaLR."""
        opt = torch.optim.AdamW(
            model.parameters(), lr=self.cfg.learning_rate, weight_decay=self.cfg.weight_decay
        )
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, poly_lambda(self.cfg.warmup_steps, self.cfg.steps, self.cfg.poly_power)
        )
        return opt, sched

    def load_data(self) -> tuple[Manifest, dict[str, ReportFacts]]:
        """Read and validate the manifest (ONE error listing every problem) and the report facts."""
        manifest = load_manifest(self.cfg.data_dir)
        roles = [Role.MASK] + ([Role.REPORT] if self.cfg.mode is Mode.REPORTS else [])
        train = list(manifest.select(split="train", roles=roles))
        facts: dict[str, ReportFacts] = {}
        if self.cfg.mode is Mode.REPORTS:
            ids = [c.report_id for c in train if c.role is Role.REPORT and c.report_id]
            facts, _ = load_report_facts(
                ids, store_url=self.cfg.store_url, reports_jsonl=self.cfg.reports_jsonl
            )
        validate_manifest(manifest, channels=self.cfg.channels, roles=roles, has_report=facts.__contains__)
        return manifest, facts

    def dataloaders(self, manifest: Manifest, facts: dict[str, ReportFacts]) -> DataLoader:
        """The training loader from the current step to ``cfg.steps`` (this rank's share)."""
        roles = [Role.MASK] + ([Role.REPORT] if self.cfg.mode is Mode.REPORTS else [])
        cases = manifest.select(split="train", roles=roles)
        dataset = TrainCropDataset(
            [c for c in cases if c.role is Role.MASK],
            [c for c in cases if c.role is Role.REPORT],
            facts,
            manifest.labels,
            self.cfg.channels,
            self.cfg.preprocess,
            self.cfg.sampling,
            self.cfg.resolved_cache_dir,
            seed=self.cfg.seed,
            input_organs=self.cfg.input_organs,
        )
        if self.ctx.is_main:
            dataset.prepare_all(progress=self.cfg.progress)
        self.ctx.barrier()
        sampler = StepSampler(
            self.step, self.cfg.steps, self.cfg.batch_size, self.ctx.rank, self.ctx.world_size
        )
        return DataLoader(
            dataset,
            batch_size=self.cfg.batch_size,
            sampler=sampler,
            num_workers=self.cfg.num_workers,
            collate_fn=collate_samples,
            pin_memory=self.ctx.device.type == "cuda",
        )

    def autocast(self) -> Any:
        """bfloat16 autocast on CUDA when ``amp``; nothing on CPU."""
        if self.cfg.amp and self.ctx.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return nullcontext()

    def train_step(self, batch: dict[str, Any]) -> dict[str, float]:
        """One optimisation step; returns every loss term (``"total"`` averaged over ranks)."""
        dev = self.ctx.device
        image = batch["image"].to(dev, non_blocking=True)
        label = batch["label"].to(dev, non_blocking=True)
        targets = [None if t is None else t.to(dev) for t in batch["targets"]]
        self.model.train()
        with self.autocast():
            output = self.model(image)
        heads = split_heads(output, self.cfg.network.heads)
        parts = self.loss.parts([h.float() for h in heads], label, targets)
        self.optimizer.zero_grad(set_to_none=True)
        parts["total"].backward()
        if self.cfg.grad_clip is not None:
            parts["grad_norm"] = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        self.ema.update(self.core)
        values = torch.stack([v.detach().float() for v in parts.values()])
        if self.ctx.distributed:
            dist.all_reduce(values)
            values /= self.ctx.world_size
        out = dict(zip(parts, values.tolist(), strict=True))
        out["lr"] = self.scheduler.get_last_lr()[0]
        return out

    def validate(self, manifest: Manifest) -> dict[str, float]:
        """Mean Dice per channel of the EMA weights on validation cases with tumor masks (rank 0)."""
        from segmentation.data.preprocess import prepare_case
        from segmentation.inference import predict_prepared
        from segmentation.metrics import dice_per_channel

        cases = [c for c in manifest.select(split="val") if c.tumor_mask is not None][
            : self.cfg.val_max_cases
        ]
        if not cases:
            return {}
        net = self.build_network().to(self.ctx.device)
        net.load_state_dict(self.ema.state_dict())
        scores: dict[str, list[float]] = {c: [] for c in self.cfg.channels}
        for case in cases:
            prepared = prepare_case(case, manifest.labels, self.cfg.preprocess, self.cfg.resolved_cache_dir)
            probs = predict_prepared(
                net,
                prepared,
                self.cfg.sampling.crop_size,
                self.ctx.device,
                input_organs=self.cfg.input_organs,
            )
            truth = torch.from_numpy(prepared.tumor_channels(self.cfg.channels, manifest.labels))
            for organ, dsc in zip(self.cfg.channels, dice_per_channel(probs > 0.5, truth > 0.5), strict=True):
                scores[organ].append(dsc)
        return {
            f"val/dice_{o}": float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")
            for o, v in scores.items()
        }

    def checkpoint(self) -> Path:
        """Write ``checkpoints/step_N.pt`` and ``last.pt`` (rank 0)."""
        folder = self.run_dir / "checkpoints"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"step_{self.step}.pt"
        state = {
            "step": self.step,
            "model": self.core.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "ema": self.ema.state_dict(),
            "rng": get_rng_state(),
            "config": self.cfg.model_dump(mode="json"),
            "trainer": self.name,
        }
        torch.save(state, path.with_suffix(".tmp"))
        path.with_suffix(".tmp").replace(path)
        shutil.copyfile(path, folder / "last.pt")
        return path

    # ------------------------------------------------------------------ driver
    def setup(self) -> None:
        """Build everything; load ``init_from`` weights or resume from ``last.pt``."""
        torch.manual_seed(self.cfg.seed)
        last = self.run_dir / "checkpoints" / "last.pt"
        if last.exists() and not self.resume:
            raise ValueError(
                f"{self.run_dir} already holds a run; pass --resume to continue it or pick another --out."
            )
        if self.resume and not last.exists():
            raise ValueError(f"nothing to resume: {last} does not exist.")
        self.core = self.build_network().to(self.ctx.device)
        self.loss = self.build_loss()
        if self.cfg.init_from is not None and not self.resume:
            state = load_checkpoint(self.cfg.init_from)
            self.core.load_state_dict(state.get("ema") or state["model"])
            logger.info("initialised from %s (step %s)", self.cfg.init_from, state.get("step"))
        self.model: nn.Module = self.core
        if self.ctx.distributed:
            unused = self.cfg.network.heads is not None
            ids = [self.ctx.local_rank] if self.ctx.device.type == "cuda" else None
            self.model = nn.parallel.DistributedDataParallel(
                self.core, device_ids=ids, find_unused_parameters=unused
            )
        self.optimizer, self.scheduler = self.build_optimizer(self.model)
        self.ema = EMA(self.core, self.cfg.ema_decay)
        if self.resume:
            state = load_checkpoint(last)
            self.core.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            self.ema.load_state_dict(state["ema"])
            set_rng_state(state["rng"])
            self.step = int(state["step"])
            logger.info("resumed %s at step %d", self.run_dir, self.step)

    def fit(self) -> RunResult:
        """Train from the current step to ``cfg.steps``."""

        main = self.ctx.is_main
        package = logging.getLogger("segmentation")
        handler: logging.Handler | None = None
        level = package.level
        if main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(self.run_dir / "train.log")
            handler.setLevel(logging.INFO)
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            package.addHandler(handler)
            if package.getEffectiveLevel() > logging.INFO:
                package.setLevel(logging.INFO)
        try:
            return self._fit(main)
        finally:
            if handler is not None:  # several runs in one process must not log into each other's file
                package.removeHandler(handler)
                package.setLevel(level)
                handler.close()

    def _fit(self, main: bool) -> RunResult:
        """The training loop of :meth:`fit` (``main``: this rank writes logs and checkpoints)."""
        from torch.utils.tensorboard import SummaryWriter
        from tqdm import tqdm

        manifest, facts = self.load_data()
        self.setup()
        if main:
            self.cfg.save(self.run_dir / "config.json")
        loader = self.dataloaders(manifest, facts)
        writer = SummaryWriter(str(self.run_dir / "tensorboard")) if main else None
        log = (self.run_dir / "losses.jsonl").open("a", encoding="utf-8") if main else None
        bar = tqdm(
            total=self.cfg.steps,
            initial=self.step,
            desc=f"train[{self.cfg.mode.value}]",
            disable=not (main and self.cfg.progress),
        )
        ckpt: Path | None = None
        validation: dict[str, float] = {}
        curve: list[dict[str, float]] = []
        tick = time.perf_counter()
        try:
            for batch in loader:
                data_s = time.perf_counter() - tick
                values = self.train_step(batch)
                self.step += 1
                step_s = time.perf_counter() - tick
                values.update(step=self.step, data_s=data_s, step_s=step_s)
                self.history.append(values)
                if main:
                    assert writer is not None
                    assert log is not None
                    for key, v in values.items():
                        if key != "step":
                            writer.add_scalar(f"train/{key}" if "/" not in key else key, v, self.step)
                    log.write(json.dumps(values) + "\n")
                    bar.set_postfix(
                        loss=f"{values['total']:.4f}", step_s=f"{step_s:.2f}", data_s=f"{data_s:.2f}"
                    )
                    bar.update(1)
                if self.step % self.cfg.checkpoint_every == 0 or self.step == self.cfg.steps:
                    if main:
                        ckpt = self.checkpoint()
                    self.ctx.barrier()
                if self.cfg.val_every and (
                    self.step % self.cfg.val_every == 0 or self.step == self.cfg.steps
                ):
                    if main:
                        validation = self.validate(manifest)
                        for key, v in validation.items():
                            writer.add_scalar(key, v, self.step)  # type: ignore[union-attr]
                        logger.info("step %d validation: %s", self.step, validation)
                        curve.append({"step": self.step, **validation})
                    self.ctx.barrier()
                tick = time.perf_counter()
        finally:
            bar.close()
            if writer is not None:
                writer.close()
            if log is not None:
                log.close()
        last = self.run_dir / "checkpoints" / "last.pt"
        return RunResult(
            self.run_dir,
            self.step,
            ckpt or (last if last.exists() else None),
            self.history,
            validation,
            curve,
        )


@register_trainer("single_head")
class SingleHeadTrainer(Trainer):
    """Variant without deep supervision: the Volume Loss goes on the only (final) head."""

    def build_network(self) -> nn.Module:
        cfg = self.cfg.model_copy(deep=True)
        cfg.network.kwargs["deep_supervision"] = False
        return build_network(cfg)
