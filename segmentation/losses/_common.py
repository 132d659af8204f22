"""Helpers shared by the report losses: option parsing, target reduction, sub-volume boxes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import StrEnum
from typing import TypeVar

import torch

from segmentation.targets import Box, ReportTarget

E = TypeVar("E", bound=StrEnum)


class TargetReduction(StrEnum):
    """How per-target report losses are combined.

    - ``mean``: mean over the (sample, channel) targets that exist (ours; 0 when there is none).
    - ``sum``: sum over existing targets.
    - ``none``: the ``(T,)`` vector of per-target losses, in (sample, channel) order.
    - ``batch_channels``: sum divided by ``B * C``, zeros of target-less pairs included (the
      reference's reduction, quirk Q4: its strength depends on the batch mix).
    """

    MEAN = "mean"
    SUM = "sum"
    NONE = "none"
    BATCH_CHANNELS = "batch_channels"


def parse_option(enum_cls: type[E], value: str, name: str) -> E:
    """``enum_cls(value)`` with an error message that lists the valid values."""
    try:
        return enum_cls(value)
    except ValueError as e:
        valid = ", ".join(repr(v.value) for v in enum_cls)
        raise ValueError(f"{name} must be one of {valid}; got {value!r}.") from e


def check_number(
    name: str,
    value: float,
    low: float,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = True,
) -> float:
    """Validate a finite number in ``[low, high)`` (bracket kinds set by ``low_open``/``high_open``)."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and (
            high is None or (value < high if high_open else value <= high)
        )
    if not ok:
        if high is None:
            constraint = f"a finite number {'>' if low_open else '>='} {low}"
        else:
            constraint = f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be {constraint}, got {value!r}.")
    return float(value)


def check_batch(input: torch.Tensor, targets: Sequence[ReportTarget | None], name: str = "input") -> None:
    """Check that ``input`` is ``(B, C, H, W, D)`` and matches ``targets`` (host-side metadata only)."""
    if input.ndim != 5:
        raise ValueError(f"{name} must be (B, C, H, W, D) logits, got shape {tuple(input.shape)}.")
    if len(targets) != input.shape[0]:
        raise ValueError(
            f"targets must hold one entry per sample: {input.shape[0]} expected, got {len(targets)}."
        )
    for b, t in enumerate(targets):
        if t is not None and len(t.channel_targets) != input.shape[1]:
            raise ValueError(
                f"targets[{b}] has {len(t.channel_targets)} lesion channels but {name} has {input.shape[1]}."
            )


def check_distance(target: ReportTarget, radius_mm: float) -> None:
    """Distance maps are only exact up to ``target.max_distance_mm``."""
    if radius_mm > target.max_distance_mm:
        raise ValueError(
            f"segment_dilation_mm ({radius_mm}) exceeds the targets' max_distance_mm "
            f"({target.max_distance_mm}); "
            "build the targets with a larger max_distance_mm."
        )


def expand_box(
    box: Box, radius_mm: float, spacing: Sequence[float], shape: Sequence[int]
) -> tuple[slice, ...]:
    """Slices of ``box`` grown by ``radius_mm`` on every side, clipped to ``shape``."""
    return tuple(
        slice(max(lo - math.ceil(radius_mm / s), 0), min(hi + math.ceil(radius_mm / s), n))
        for (lo, hi), s, n in zip(box, spacing, shape, strict=True)
    )


def reduce_targets(
    losses: torch.Tensor | Sequence[torch.Tensor],
    reduction: TargetReduction,
    n_pairs: int,
    anchor: torch.Tensor,
) -> torch.Tensor:
    """Reduce per-target losses (``(T,)`` or scalars); ``anchor`` keeps an empty result in the graph."""
    if len(losses) == 0:
        zero = (anchor.reshape(-1)[:1].float() * 0.0).sum()
        return zero.reshape(0) if reduction is TargetReduction.NONE else zero
    stacked = losses if isinstance(losses, torch.Tensor) else torch.stack(list(losses))
    if reduction is TargetReduction.NONE:
        return stacked
    if reduction is TargetReduction.SUM:
        return stacked.sum()
    if reduction is TargetReduction.BATCH_CHANNELS:
        return stacked.sum() / max(n_pairs, 1)
    return stacked.mean()


def relative_box(inner: Sequence[slice], outer: Sequence[slice]) -> tuple[slice, ...]:
    """``inner`` (absolute slices, inside ``outer``) as slices relative to ``outer``'s start."""
    return tuple(slice(i.start - o.start, i.stop - o.start) for i, o in zip(inner, outer, strict=True))


class _BoxCrops(torch.autograd.Function):
    """Float32 copies of ``input[b, c][box]``; the backward writes all their gradients into one tensor.

    Indexing ``input[b, c][box]`` once per target makes autograd materialise a zero gradient of the
    *whole* input per target (one per view level) and then sum them; this builds one instead.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx,
        input: torch.Tensor,
        keys: tuple[tuple[int, int, tuple[slice, ...]], ...],
    ) -> tuple[torch.Tensor, ...]:
        ctx.keys = keys  # type: ignore[attr-defined]
        ctx.shape, ctx.dtype = input.shape, input.dtype  # type: ignore[attr-defined]
        ctx.set_materialize_grads(False)
        return tuple(
            input[b, c][box].to(torch.float32, copy=True, memory_format=torch.contiguous_format)
            for b, c, box in keys
        )

    @staticmethod
    def backward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx, *grads: torch.Tensor | None
    ) -> tuple[torch.Tensor | None, None]:
        grad = None
        for (b, c, box), g in zip(ctx.keys, grads, strict=True):  # type: ignore[attr-defined]
            if g is None:
                continue
            if grad is None:
                grad = g.new_zeros(ctx.shape, dtype=ctx.dtype)  # type: ignore[attr-defined]
            grad[b, c][box] += g.to(grad.dtype)
        return grad, None


def box_crops(
    input: torch.Tensor, keys: Sequence[tuple[int, int, tuple[slice, ...]]]
) -> tuple[torch.Tensor, ...]:
    """Contiguous float32 crops ``input[b, c][box]`` for each ``(b, c, box)`` in ``keys``.

    Values and gradients equal those of indexing ``input[b, c][box].float()`` per key, but the backward
    allocates one gradient of ``input``'s size for all crops instead of one per crop and view level.
    """
    keys = tuple((int(b), int(c), tuple(box)) for b, c, box in keys)
    if not keys:
        return ()
    if not (torch.is_grad_enabled() and input.requires_grad):
        return tuple(input[b, c][box].float() for b, c, box in keys)
    return _BoxCrops.apply(input, keys)
