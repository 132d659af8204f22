"""Localisation primitives of the Ball Loss: same-size 3D convolution (direct or FFT), rank weights."""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F

__all__ = ["conv3d_same", "rank_weights"]


def conv3d_same(x: torch.Tensor, kernel: torch.Tensor, fft_min_side: int = 8) -> torch.Tensor:
    """Correlate ``x`` ``(h, w, d)`` with an odd-sided ``kernel`` ``(kh, kw, kd)``, zero padded, same size.

    Uses ``torch.fft`` when the kernel's largest side is ``>= fft_min_side`` (cost independent of the
    kernel size), else ``F.conv3d``. For the symmetric ball kernels used here correlation equals
    convolution.
    """
    ks = kernel.shape
    if max(ks) < fft_min_side:
        pad = [k // 2 for k in ks]
        return F.conv3d(x[None, None], kernel[None, None].to(x.dtype), padding=pad)[0, 0]
    size = [n + k - 1 for n, k in zip(x.shape, ks, strict=True)]
    spectrum = torch.fft.rfftn(x.float(), s=size) * torch.fft.rfftn(kernel.float().flip((0, 1, 2)), s=size)
    full = torch.fft.irfftn(spectrum, s=size)
    h, w, d = x.shape
    oh, ow, od = (k // 2 for k in ks)
    return full[oh : oh + h, ow : ow + w, od : od + d].to(x.dtype)


@functools.lru_cache(maxsize=256)
def _rank_weights_cpu(n: int, last_ratio: float) -> torch.Tensor:
    decay = last_ratio ** (1.0 / n)
    weights = decay ** torch.arange(n, dtype=torch.float64)
    return (weights / weights.mean()).float()


def rank_weights(n: int, last_ratio: float = 0.5, device: torch.device | str | None = None) -> torch.Tensor:
    """Weights of ``n`` positives sorted by decreasing probability (global weighted rank pooling).

    ``w_i = rho**i`` with ``rho = last_ratio**(1/n)`` (the weight decays by ``last_ratio`` over the
    ranking), normalised to mean 1. *Parity* with REF: n = 10 -> first/last 1.339/0.718; large n ->
    ``2 ln 2 = 1.386`` / ``ln 2 = 0.693``.

    Returns:
        ``(n,)`` float32, decreasing, mean 1.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}.")
    if not (0.0 < last_ratio <= 1.0) or math.isnan(last_ratio):
        raise ValueError(f"last_ratio must be in (0, 1], got {last_ratio}.")
    return _rank_weights_cpu(int(n), float(last_ratio)).to(device)
