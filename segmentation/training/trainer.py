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
from typing import Any, TextIO

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader

from segmentation.data.dataset import StepSampler, TrainCropDataset, collate_samples
from segmentation.data.manifest import CaseRecord, Manifest, Role, load_manifest, validate_manifest
from segmentation.losses import ReportSupervisionLoss
from segmentation.networks import build_network
from segmentation.records import NOT_REVIEWED, ReportFacts, load_report_facts
from segmentation.training.config import Mode, Optimizer, TrainConfig
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
        """Optimisation steps done (restored on resume)."""
        self.history: list[dict[str, float]] = []
        """Every step's loss terms, timings and lr, in order."""
        self.validation: dict[str, float] = {}
        """The last validation's scores."""
        self.curve: list[dict[str, float]] = []
        """Every validation of this call, ``{"step": N, **scores}``."""
        self.last_checkpoint: Path | None = None
        self.unreviewed: set[str] = set()
        """Report IDs left out by ``reviewed_only`` (no reviewer's extraction), filled by load_data."""
        # built by setup(): network (core = unwrapped, model = DDP-wrapped or core), loss, optimiser, EMA
        self.core: nn.Module
        self.model: nn.Module
        self.loss: ReportSupervisionLoss
        self.optimizer: torch.optim.Optimizer
        self.scheduler: torch.optim.lr_scheduler.LRScheduler
        self.ema: EMA
        # open while fit() runs, on the main rank only
        self._writer: Any = None  # torch.utils.tensorboard.SummaryWriter
        self._log: TextIO | None = None
        self._bar: Any = None  # tqdm

    # ------------------------------------------------------------------ hooks
    def build_network(self) -> nn.Module:
        """The network (any MONAI network by name)."""
        return build_network(self.cfg)

    def build_loss(self) -> ReportSupervisionLoss:
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
            union_dice=lc.union_dice,
            gated_bce=lc.gated_bce,
        )

    def build_optimizer(
        self, model: nn.Module
    ) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
        """AdamW or nnU-Net's SGD (``TrainConfig.optimizer``) + warm-up / poly LambdaLR."""
        opt: torch.optim.Optimizer
        if self.cfg.optimizer is Optimizer.SGD:
            opt = torch.optim.SGD(
                model.parameters(),
                lr=self.cfg.learning_rate,
                momentum=0.99,
                nesterov=True,
                weight_decay=self.cfg.weight_decay,
            )
        else:
            opt = torch.optim.AdamW(
                model.parameters(), lr=self.cfg.learning_rate, weight_decay=self.cfg.weight_decay
            )
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, poly_lambda(self.cfg.warmup_steps, self.cfg.steps, self.cfg.poly_power)
        )
        return opt, sched

    def training_cases(self, manifest: Manifest) -> tuple[list[CaseRecord], list[CaseRecord]]:
        """``(mask cases, report cases)`` this run trains on: mask-role train cases (plus, with
        ``all_masks``, every report-role train case that has a tumor mask), and the report-role train
        cases in ``reports`` mode (with ``reviewed_only``, those whose report a reviewer corrected or
        accepted)."""
        train = list(manifest.select(split="train"))
        masks = [c for c in train if c.role is Role.MASK]
        if self.cfg.all_masks:
            masks += [c for c in train if c.role is Role.REPORT and c.tumor_mask is not None]
        reports = [c for c in train if c.role is Role.REPORT] if self.cfg.mode is Mode.REPORTS else []
        return masks, [c for c in reports if c.report_id not in self.unreviewed]

    def load_data(self) -> tuple[Manifest, dict[str, ReportFacts]]:
        """Read and validate the manifest (ONE error listing every problem) and the report facts."""
        manifest = load_manifest(self.cfg.data_dir)
        _, report_cases = self.training_cases(manifest)
        reports_mode = self.cfg.mode is Mode.REPORTS
        roles = [Role.MASK] + ([Role.REPORT] if reports_mode or self.cfg.all_masks else [])
        facts: dict[str, ReportFacts] = {}
        if reports_mode:
            ids = [c.report_id for c in report_cases if c.report_id]
            facts, missing = load_report_facts(
                ids,
                store_url=self.cfg.store_url,
                reports_jsonl=self.cfg.reports_jsonl,
                reviewed_only=self.cfg.reviewed_only,
            )
            if self.cfg.reviewed_only:  # left out: extracted but not reviewed (a missing one stays an error)
                self.unreviewed = {i for i, why in missing.items() if why.startswith(NOT_REVIEWED)}
                if not facts:
                    raise ValueError(
                        f"reviewed_only: none of the {len(ids)} report cases has a reviewed extraction "
                        "in the store; review some (rsuper serve, /review) or train without it."
                    )
                logger.info("reviewed_only: %d of %d report cases reviewed", len(facts), len(ids))
        validate_manifest(
            manifest,
            channels=self.cfg.channels,
            roles=roles,
            has_report=(lambda rid: rid in facts or rid in self.unreviewed) if reports_mode else None,
        )
        return manifest, facts

    def dataloaders(self, manifest: Manifest, facts: dict[str, ReportFacts]) -> DataLoader:
        """The training loader from the current step to ``cfg.steps`` (this rank's share)."""
        mask_cases, report_cases = self.training_cases(manifest)
        dataset = TrainCropDataset(
            mask_cases,
            report_cases,
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
        """EMA weights on validation cases with tumor masks (rank 0), per lesion channel:
        ``val/dice_<organ>``, the mean DSC over cases whose organ has a lesion (a healthy organ has no
        DSC to score; its false positives count in the lesion F1), and ``val/lesion_f1_<organ>``
        over all cases (``docs/METHOD.md`` section 6)."""
        from segmentation.data.preprocess import prepare_case
        from segmentation.inference import predict_prepared
        from segmentation.metrics import DetectionCounts, detection_counts, dice

        cases = [c for c in manifest.select(split="val") if c.tumor_mask is not None][
            : self.cfg.val_max_cases
        ]
        if not cases:
            return {}
        net = self.build_network().to(self.ctx.device)
        net.load_state_dict(self.ema.state_dict())
        scores: dict[str, list[float]] = {c: [] for c in self.cfg.channels}
        counts = {c: DetectionCounts(0, 0, 0, 0) for c in self.cfg.channels}
        for case in cases:
            prepared = prepare_case(case, manifest.labels, self.cfg.preprocess, self.cfg.resolved_cache_dir)
            probs = predict_prepared(
                net,
                prepared,
                self.cfg.sampling.crop_size,
                self.ctx.device,
                input_organs=self.cfg.input_organs,
            )
            truth = prepared.tumor_channels(self.cfg.channels, manifest.labels) > 0.5
            pred = probs.numpy() > 0.5
            for c, organ in enumerate(self.cfg.channels):
                if truth[c].any():
                    scores[organ].append(dice(pred[c], truth[c]))
                counts[organ] = counts[organ] + detection_counts(pred[c], truth[c])
        out = {f"val/dice_{o}": float(np.mean(v)) if v else float("nan") for o, v in scores.items()}
        return out | {f"val/lesion_f1_{o}": c.f1 for o, c in counts.items()}

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
        self.model = self.core
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

    def on_step_end(self, values: dict[str, float]) -> None:
        """After each step: log the step's values (main rank) and write a checkpoint on its cadence."""
        if self.ctx.is_main:
            for key, v in values.items():
                if key != "step" and self._writer is not None:
                    self._writer.add_scalar(f"train/{key}" if "/" not in key else key, v, self.step)
            if self._log is not None:
                self._log.write(json.dumps(values) + "\n")
            if self._bar is not None:
                self._bar.set_postfix(
                    loss=f"{values['total']:.4f}",
                    step_s=f"{values['step_s']:.2f}",
                    data_s=f"{values['data_s']:.2f}",
                )
                self._bar.update(1)
        if self.step % self.cfg.checkpoint_every == 0 or self.step == self.cfg.steps:
            if self.ctx.is_main:
                self.last_checkpoint = self.checkpoint()
            self.ctx.barrier()

    def on_validation_end(self, scores: dict[str, float]) -> None:
        """After each validation (main rank): keep the scores in the curve, log them."""
        self.validation = scores
        self.curve.append({"step": self.step, **scores})
        if self._writer is not None:
            for key, v in scores.items():
                self._writer.add_scalar(key, v, self.step)
        logger.info("step %d validation: %s", self.step, scores)

    def _due_validation(self) -> bool:
        every = self.cfg.val_every
        return bool(every) and (self.step % every == 0 or self.step == self.cfg.steps)

    def _fit(self, main: bool) -> RunResult:
        """The training loop of :meth:`fit` (``main``: this rank writes logs and checkpoints)."""
        from torch.utils.tensorboard import SummaryWriter
        from tqdm import tqdm

        manifest, facts = self.load_data()
        self.setup()
        if main:
            self.cfg.save(self.run_dir / "config.json")
        loader = self.dataloaders(manifest, facts)
        if main:
            self._writer = SummaryWriter(str(self.run_dir / "tensorboard"))
            self._log = (self.run_dir / "losses.jsonl").open("a", encoding="utf-8")
        self._bar = tqdm(
            total=self.cfg.steps,
            initial=self.step,
            desc=f"train[{self.cfg.mode.value}]",
            disable=not (main and self.cfg.progress),
        )
        tick = time.perf_counter()
        try:
            for batch in loader:
                data_s = time.perf_counter() - tick
                values = self.train_step(batch)
                self.step += 1
                values.update(step=self.step, data_s=data_s, step_s=time.perf_counter() - tick)
                self.history.append(values)
                self.on_step_end(values)
                if self._due_validation():
                    if main:
                        self.on_validation_end(self.validate(manifest))
                    self.ctx.barrier()
                tick = time.perf_counter()
        finally:
            self._bar.close()
            if self._writer is not None:
                self._writer.close()
            if self._log is not None:
                self._log.close()
            self._writer = self._log = self._bar = None
        last = self.run_dir / "checkpoints" / "last.pt"
        return RunResult(
            self.run_dir,
            self.step,
            self.last_checkpoint or (last if last.exists() else None),
            self.history,
            self.validation,
            self.curve,
        )


@register_trainer("single_head")
class SingleHeadTrainer(Trainer):
    """Variant without deep supervision: the Volume Loss goes on the only (final) head."""

    def build_network(self) -> nn.Module:
        cfg = self.cfg.model_copy(deep=True)
        cfg.network.kwargs["deep_supervision"] = False
        return build_network(cfg)
