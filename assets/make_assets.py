"""Write PoolScope's example grids and images into this folder (deterministic)."""

from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
SIDE = 64
LANDSCAPE_SIDE = 256


def write_grid(name: str, grid: np.ndarray) -> None:
    lines = (" ".join(str(int(value)) for value in row) for row in grid)
    (HERE / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_png(name: str, pixels: np.ndarray) -> None:
    Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8)).save(HERE / name, optimize=True)


def checkerboard() -> np.ndarray:
    rows, cols = np.indices((SIDE, SIDE)) // 8
    return np.where((rows + cols) % 2 == 0, 255, 0)


def edges() -> np.ndarray:
    rows, cols = np.indices((SIDE, SIDE))
    image = np.where(rows + cols >= SIDE, 110, 20)
    disc = (rows - 20) ** 2 + (cols - 20) ** 2 <= 12**2
    return np.where(disc, 255, image)


def fractal_noise(rng: np.random.Generator, side: int, octaves: int) -> np.ndarray:
    """Sum of bilinearly upsampled random grids, each octave twice as fine and half as strong."""
    total = np.zeros((side, side))
    for octave in range(octaves):
        cells = 2 ** (octave + 2)
        grid = rng.random((cells + 1, cells + 1))
        position = np.linspace(0, cells, side)
        low = np.minimum(position.astype(int), cells - 1)
        frac = position - low
        rows = grid[low] * (1 - frac)[:, None] + grid[low + 1] * frac[:, None]
        total += (rows[:, low] * (1 - frac) + rows[:, low + 1] * frac) / 2**octave
    return total / total.max()


def ridge(rng: np.random.Generator, x: np.ndarray, base: float, amplitude: float) -> np.ndarray:
    height = np.full_like(x, base)
    for octave in range(6):
        frequency = 1.5 * 2**octave
        height += amplitude / 1.9**octave * np.sin(2 * np.pi * frequency * x + rng.uniform(0, 2 * np.pi))
    return height


def blend(image: np.ndarray, color, coverage: np.ndarray) -> np.ndarray:
    """Paint color over image where coverage > 0, with a one-pixel soft edge."""
    alpha = np.clip(coverage + 0.5, 0.0, 1.0)[..., None]
    return (1 - alpha) * image + alpha * np.asarray(color)


def landscape() -> np.ndarray:
    """Sky gradient, sun with glow, two mountain ranges and their rippled reflection in a lake."""
    rng = np.random.default_rng(2024)
    side = LANDSCAPE_SIDE
    y, x = np.mgrid[0:side, 0:side] / (side - 1)
    horizon_row = int(0.64 * (side - 1))

    t = np.clip(y / 0.64, 0, 1)[..., None] ** 1.4
    image = (1 - t) * np.array([38.0, 86.0, 168.0]) + t * np.array([246.0, 196.0, 150.0])

    sun_distance = np.hypot(x - 0.7, y - 0.36)
    image += np.exp(-((sun_distance / 0.12) ** 2))[..., None] * np.array([60.0, 45.0, 10.0])
    image = blend(image, [255.0, 244.0, 214.0], (0.055 - sun_distance) * (side - 1))

    texture = fractal_noise(rng, side, 5)
    far_ridge = ridge(rng, x[0], 0.46, 0.035)
    far = (0.85 + 0.3 * texture)[..., None] * np.array([112.0, 122.0, 158.0])
    image = blend(image, far, (y - far_ridge) * (side - 1))
    near_ridge = ridge(rng, x[0], 0.55, 0.05)
    shade = 0.7 + 0.5 * texture - 0.8 * np.clip(y - near_ridge, 0, 1)
    image = blend(image, shade[..., None] * np.array([62.0, 84.0, 58.0]), (y - near_ridge) * (side - 1))

    depth = side - horizon_row
    for row in range(horizon_row + 1, side):
        shift = round(2.5 * np.sin(row * 0.9) * (row - horizon_row) / depth)
        reflected = np.roll(image[max(0, 2 * horizon_row - row)], shift, axis=0)
        image[row] = 0.7 * reflected + 0.3 * np.array([30.0, 58.0, 88.0])

    return image + rng.normal(0.0, 2.0, image.shape)


def icon() -> np.ndarray:
    """32x32 RGB app icon: a 4x4 grid with the maximum of each 2x2 window in orange."""
    values = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])
    window_max = values.reshape(2, 2, 2, 2).max(axis=(1, 3)).repeat(2, 0).repeat(2, 1)
    cells = np.where((values == window_max)[..., None], [240.0, 120.0, 30.0], [60.0, 90.0, 150.0])
    image = np.full((32, 32, 3), 255.0)
    for row in range(4):
        for col in range(4):
            image[8 * row + 1:8 * row + 7, 8 * col + 1:8 * col + 7] = cells[row, col]
    return image


def main() -> None:
    write_grid("textbook_4x4.txt", np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]))
    write_grid("random_8x8.txt", np.random.default_rng(7).integers(0, 10, size=(8, 8)))
    write_png("checkerboard.png", checkerboard())
    write_png("edges.png", edges())
    write_png("landscape.png", landscape())
    write_png("icon.png", icon())


if __name__ == "__main__":
    main()
