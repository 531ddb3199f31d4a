"""Built-in example grids and images shipped in the repository's ``assets/`` folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pooling_core.errors import PoolingError
from pooling_core.inputs import load_image, parse_grid

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"

EXAMPLES: dict[str, Path] = {
    "Textbook 4x4": ASSETS_DIR / "textbook_4x4.txt",
    "Random 8x8": ASSETS_DIR / "random_8x8.txt",
    "Checkerboard": ASSETS_DIR / "checkerboard.png",
    "Edges": ASSETS_DIR / "edges.png",
    "Landscape photo": ASSETS_DIR / "landscape.png",
}


def load_example(name: str, mode: str = "L") -> np.ndarray:
    r"""Load a built-in example by its display name.

    Args:
        name: a key of :data:`EXAMPLES`.
        mode: ``"L"`` or ``"RGB"``; used for images only, grids are always 2-D.

    Returns:
        float64 array: a grid of shape :math:`(R, C)` as from :func:`parse_grid`,
        or image pixels in [0, 1] of shape :math:`(H, W)` (``"L"``) or
        :math:`(3, H, W)` (``"RGB"``) as from :func:`load_image`.

    Raises:
        PoolingError: if ``name`` is not a known example, or ``mode`` is
            invalid for an image example.
    """
    path = EXAMPLES.get(name)
    if path is None:
        raise PoolingError("example.unknown", name=repr(name), examples=", ".join(EXAMPLES))
    if path.suffix == ".txt":
        return parse_grid(path.read_text(encoding="utf-8"))
    return load_image(path.read_bytes(), mode=mode).pixels
