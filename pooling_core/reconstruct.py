"""What max unpooling can and cannot bring back, against plain upsampling."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from pooling_core.api import PoolResult, max_unpool2d, pool2d


def upsample(y: np.ndarray, size: tuple[int, int], mode: str) -> np.ndarray:
    """Resize a 2-D map to ``size`` with ``"nearest"`` or ``"bilinear"`` interpolation (PyTorch's)."""
    tensor = torch.from_numpy(np.ascontiguousarray(y, dtype=np.float64))[None, None]
    extra = {"align_corners": False} if mode == "bilinear" else {}
    return F.interpolate(tensor, size=size, mode=mode, **extra)[0, 0].numpy()


def reconstructions(x: np.ndarray, pooled_max: PoolResult) -> dict[str, np.ndarray]:
    """Ways back to the size of the 2-D map ``x`` from ``pooled_max``, its ``pool2d(x, "max", ...)``
    (the caller's, whose indices it reads), by name.

    Max unpooling puts each maximum back at its index (zeros elsewhere); the others upsample the
    max- or average-pooled map with nearest or bilinear interpolation.
    """
    sliding = pooled_max.geometry.sliding
    settings = {name: sliding[name] for name in ("kernel_size", "stride", "padding")}
    pooled_avg = pool2d(x, "avg", **settings)
    size = x.shape
    return {
        "max unpooling": max_unpool2d(pooled_max.output, pooled_max.indices, output_size=size, **settings),
        "nearest (of max)": upsample(pooled_max.output, size, "nearest"),
        "bilinear (of max)": upsample(pooled_max.output, size, "bilinear"),
        "nearest (of average)": upsample(pooled_avg.output, size, "nearest"),
        "bilinear (of average)": upsample(pooled_avg.output, size, "bilinear"),
    }


def quality(x: np.ndarray, reconstruction: np.ndarray, data_range: float) -> dict[str, float]:
    """Mean squared error, PSNR in dB for values spanning ``data_range`` (inf when exact) and the
    fraction of cells recovered exactly."""
    mse = float(np.mean((x - reconstruction) ** 2))
    psnr = math.inf if mse == 0 else 10 * math.log10(data_range**2 / mse)
    return {"mse": mse, "psnr": psnr, "exact": float(np.mean(x == reconstruction))}


def shared_targets(indices: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(H, W) count of the outputs whose argmax index is each cell (2 or more: overlapping windows)."""
    return np.bincount(np.ravel(indices), minlength=size[0] * size[1]).reshape(size)
