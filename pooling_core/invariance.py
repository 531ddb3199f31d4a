"""Is pooling invariant? Transform an input, pool both, and count the output cells that match.

Each transform has its own right comparison, because the output of a sliding window moves with
its input:

- a shift by ``(dy, dx)`` is compared **in place** (the value at each output position stays, the
  Deep Learning book's sense of "invariant") and **up to a shift**: the output should move by
  ``d / s`` cells for a stride ``s``; :func:`up_to_shift` tries the whole moves ``floor(d / s)`` and
  ``ceil(d / s)`` on each axis and keeps the better one;
- a rotation by 90° or a flip is compared with the same rotation or flip of the original output;
- rescaling by 2 (each cell becomes a 2 x 2 block) is compared with the original output rescaled
  by 2, on the cells both maps hold.

Every array is 2-D, (H, W). Values match when they agree to ``1e-9`` of the larger magnitude, so
that summing in another order does not count as a change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pooling_core.errors import PoolingError

SHIFT_MODES = ("circular", "fill")
TRANSFORMS = ("shift", "rot90", "flip_lr", "flip_ud", "rescale2")
RELATIVE_TOLERANCE = 1e-9
# The operators the shift lab shows side by side, when they are registered.
SIDE_BY_SIDE = ("max", "avg", "blur_max", "blur", "aps", "softpool")


def shift(x: np.ndarray, dy: int, dx: int, mode: str = "circular", fill: float = 0.0) -> np.ndarray:
    """``x`` moved ``dy`` cells down and ``dx`` right (negative: up, left).

    ``mode="circular"`` wraps what leaves one side around to the other (``np.roll``); ``"fill"``
    puts ``fill`` into the cells that enter (``fill=0`` is the zero-filled shift).
    Example: ``shift([[1, 2, 3]], 0, 1, "fill", 9)`` is ``[[9, 1, 2]]``.
    """
    x = np.asarray(x, dtype=np.float64)
    if mode not in SHIFT_MODES:
        raise PoolingError("invariance.unknown_mode", mode=repr(mode), modes=", ".join(SHIFT_MODES))
    if mode == "circular":
        return np.roll(x, (dy, dx), axis=(0, 1))
    moved = np.full_like(x, fill)
    height, width = x.shape
    if abs(dy) < height and abs(dx) < width:
        moved[max(dy, 0):height + min(dy, 0), max(dx, 0):width + min(dx, 0)] = \
            x[max(-dy, 0):height + min(-dy, 0), max(-dx, 0):width + min(-dx, 0)]
    return moved


def transform(x: np.ndarray, kind: str) -> np.ndarray:
    """``x`` rotated by 90° counter-clockwise (``"rot90"``), mirrored left-right (``"flip_lr"``) or
    upside down (``"flip_ud"``), or rescaled by 2 with each cell repeated as a 2 x 2 block
    (``"rescale2"``: (H, W) -> (2H, 2W)). Shifts are :func:`shift`."""
    x = np.asarray(x, dtype=np.float64)
    if kind == "rot90":
        return np.rot90(x).copy()
    if kind == "flip_lr":
        return x[:, ::-1].copy()
    if kind == "flip_ud":
        return x[::-1].copy()
    if kind == "rescale2":
        return np.kron(x, np.ones((2, 2)))
    raise PoolingError("invariance.unknown_transform", kind=repr(kind), kinds=", ".join(TRANSFORMS[1:]))


def one_row_windows(kwargs: dict) -> dict:
    """:func:`pooling_core.pool2d`'s square-window keywords made to slide along a single row, as a
    1-D pooling layer does: kernel ``k`` becomes ``(1, k)``, padding ``p`` becomes ``(0, p)``; stride
    and dilation likewise. The other keywords stay. Example: ``{"kernel_size": 3, "stride": 2}`` ->
    ``{"kernel_size": (1, 3), "stride": (1, 2)}``."""
    rows = dict(kernel_size=1, stride=1, padding=0, dilation=1)
    return {key: (rows[key], value) if key in rows and isinstance(value, int) else value
            for key, value in kwargs.items()}


def same_values(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cell by cell: ``a`` and ``b`` agree to ``1e-9`` of the larger magnitude (NaN matches NaN)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), 1.0)
    with np.errstate(invalid="ignore"):
        return (np.abs(a - b) <= RELATIVE_TOLERANCE * scale) | (a == b) | (np.isnan(a) & np.isnan(b))


@dataclass(frozen=True)
class Match:
    """How a transformed input's output compares with what it is compared to.

    ``compared`` and ``same`` are (Ho, Wo) bool maps over the transformed input's output: the cells
    compared, and those whose value matched; ``difference`` holds each compared cell's absolute
    difference (0 where it matched, NaN where not compared). ``offset`` is the output shift
    ``(ey, ex)`` of an up-to-a-shift comparison (else ``None``); ``change`` the largest difference.
    """

    compared: np.ndarray
    same: np.ndarray
    difference: np.ndarray
    change: float
    offset: tuple[int, int] | None = None

    @property
    def matched(self) -> int:
        return int(self.same.sum())

    @property
    def total(self) -> int:
        return int(self.compared.sum())

    @property
    def fraction(self) -> float:
        """Share of the compared cells that matched (1 when none could be compared)."""
        return self.matched / self.total if self.total else 1.0

    @property
    def changed_map(self) -> np.ndarray:
        """1 where a compared cell changed, 0 where it matched, NaN where it was not compared."""
        return np.where(self.compared, (~self.same).astype(np.float64), np.nan)


def _match(expected: np.ndarray, actual: np.ndarray, compared: np.ndarray, offset=None) -> Match:
    same = same_values(expected, actual) & compared
    with np.errstate(invalid="ignore"):
        difference = np.where(compared, np.where(same, 0.0, np.abs(expected - actual)), np.nan)
    changed = difference[compared & ~same]
    change = float(np.nanmax(changed)) if changed.size and not np.isnan(changed).all() else 0.0
    return Match(compared, same, difference, change, offset)


def in_place(before: np.ndarray, after: np.ndarray) -> Match:
    """Compare two maps of one shape position by position: does the value at each place stay?
    Example: the book's detector row ``0.1 1 0.2 0.1`` against ``0.3 0.1 1 0.2`` matches 0 of 4."""
    before, after = np.asarray(before, dtype=np.float64), np.asarray(after, dtype=np.float64)
    return _match(before, after, np.ones(after.shape, bool))


def output_offsets(d: int, stride: int) -> tuple[int, ...]:
    """The whole output moves nearest to ``d / stride``: ``(d // s,)`` when ``s`` divides ``d``, else
    the floor and the ceiling. Example: ``output_offsets(1, 2) == (0, 1)``."""
    low = math.floor(d / stride)
    return (low,) if low * stride == d else (low, low + 1)


def up_to_shift(before: np.ndarray, after: np.ndarray, dy: int, dx: int, stride: tuple[int, int],
                mode: str) -> Match:
    """Compare ``after`` (the output of the input shifted by ``(dy, dx)``) with ``before`` shifted
    by the output move ``(ey, ex)`` that matches best among :func:`output_offsets` on each axis.

    With ``mode="circular"`` ``before`` is rolled and every cell compared; with ``"fill"`` only the
    cells of ``after`` that a shifted cell of ``before`` lands on are compared. Ties go to the
    first move tried (floors first). Example: max pooling 2 x 2 on the row ``0 1 0 0 0 1 0 0``
    gives ``1 0 1 0``; shifted right by 1 it gives ``0 1 0 1``, which matches 0 of 4 in place and
    4 of 4 up to a shift by ``(0, 1)``.
    """
    before, after = np.asarray(before, dtype=np.float64), np.asarray(after, dtype=np.float64)
    best = None
    for ey in output_offsets(dy, stride[0]):
        for ex in output_offsets(dx, stride[1]):
            if mode == "circular":
                candidate = _match(np.roll(before, (ey, ex), axis=(0, 1)), after, np.ones(after.shape, bool),
                                   (ey, ex))
            else:
                landed = shift(np.ones(before.shape), ey, ex, "fill", 0.0).astype(bool)
                candidate = _match(shift(before, ey, ex, "fill", np.nan), after, landed, (ey, ex))
            if best is None or candidate.fraction > best.fraction:
                best = candidate
    return best


def against_transformed(before: np.ndarray, after: np.ndarray, kind: str) -> Match:
    """Compare ``after`` (the output of the transformed input) with ``transform(before, kind)``, on
    the cells both hold (top-left aligned when rescaling makes their sizes differ)."""
    expected = transform(before, kind)
    after = np.asarray(after, dtype=np.float64)
    rows, cols = min(expected.shape[0], after.shape[0]), min(expected.shape[1], after.shape[1])
    compared = np.zeros(after.shape, bool)
    compared[:rows, :cols] = True
    padded = np.full(after.shape, np.nan)
    padded[:rows, :cols] = expected[:rows, :cols]
    return _match(padded, after, compared)


@dataclass(frozen=True)
class ShiftPreset:
    """A ready-made experiment: an input typed as a grid, an operator with its window settings
    (:func:`pooling_core.pool2d`'s keywords) and a shift ``(dy, dx, mode, fill)``."""

    id: str
    grid: str
    op: str
    settings: dict
    shift: tuple[int, int, str, float]


def _checkerboard(side: int, square: int) -> str:
    rows, cols = np.indices((side, side)) // square
    return "\n".join(" ".join(str(v) for v in row) for row in (rows + cols + 1) % 2)


SHIFT_PRESETS: dict[str, ShiftPreset] = {preset.id: preset for preset in [
    # Figure 9.8 of Goodfellow, Bengio and Courville (2016): width 3, stride 1, and four pooled values
    # from four detector values, so one cell of (-inf) padding on each side; the cell entering from the
    # left is 0.3, the figure's row being the middle of a longer one.
    ShiftPreset("book_9_8", "0.1 1 0.2 0.1", "max",
                dict(kernel_size=3, stride=1, padding=1, ceil_mode=False), (0, 1, "fill", 0.3)),
    # Figure 9.10: width 3, stride 2 on six values; the rightmost window holds two values and is kept (ceil mode).
    ShiftPreset("book_9_10", "0.1 1 0.2 0.1 0 0.1", "max",
                dict(kernel_size=3, stride=2, padding=0, ceil_mode=True), (0, 1, "fill", 0.0)),
    ShiftPreset("checkerboard", _checkerboard(8, 2), "max",
                dict(kernel_size=2, stride=2, padding=0, ceil_mode=False), (0, 1, "circular", 0.0)),
    ShiftPreset("lines", "\n".join(["0 1 0 0 0 1 0 0"] * 4), "max",
                dict(kernel_size=2, stride=2, padding=0, ceil_mode=False), (0, 1, "circular", 0.0)),
]}
