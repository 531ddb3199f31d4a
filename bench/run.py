"""PoolScope's benchmark: library speed against PyTorch, explanation cost, and Explore reruns.

    python bench/run.py           # full sizes (about two minutes)
    python bench/run.py --quick   # smaller inputs, under a minute

Each comparison interleaves the two sides call by call and reports the median of the per-call
ratios, so a busy machine slows both alike. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from pooling_core import pool2d  # noqa: E402

TARGETS = {"max_ratio": 1.5, "avg_ratio": 1.5, "lp_ratio": 1.5, "softpool_ratio": 2.0, "explain_ms": 200,
           "rerun_ms_grid": 100, "rerun_ms_photo": 300, "message_bytes_photo": 1_000_000}


def seconds(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def interleaved_ratio(ours, theirs, repeats: int) -> tuple[float, float, float]:
    """Median ratio of our time over theirs, and both medians in ms, from alternating calls."""
    ours(), theirs()  # warm-up
    pairs = [(seconds(ours), seconds(theirs)) for _ in range(repeats)]
    return (statistics.median(a / b for a, b in pairs), 1000 * statistics.median(a for a, _ in pairs),
            1000 * statistics.median(b for _, b in pairs))


def median_ms(call, repeats: int) -> float:
    call()
    return 1000 * statistics.median(seconds(call) for _ in range(repeats))


def element_bytes(at: AppTest) -> int:
    """Serialised size of every element the last run drew (before Streamlit's cache of unchanged
    large elements, so an upper bound of what one rerun sends)."""
    def walk(node):
        children = getattr(node, "children", None)
        if children:
            for child in children.values():
                yield from walk(child)
        elif getattr(node, "proto", None) is not None:
            yield node.proto.ByteSize()

    return sum(walk(at._tree))


def rerun_ms(at: AppTest, repeats: int) -> float:
    """Median time of a rerun that changes the kernel (alternating 3 and 2), after warm-up."""
    at.run()
    kernels = [3, 2] * (repeats // 2 + 2)
    for kernel in kernels[:2]:
        at.slider(key="kernel").set_value(kernel).run()
    times = [seconds(lambda k=k: at.slider(key="kernel").set_value(k).run()) for k in kernels[2:repeats + 2]]
    assert not at.exception, at.exception
    return 1000 * statistics.median(times)


def photo_bytes(side: int) -> bytes:
    """The landscape example scaled to ``side`` x ``side``, as PNG bytes: a phone-sized upload."""
    image = Image.open(ROOT / "assets" / "landscape.png").convert("RGB").resize((side, side), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs and fewer repeats")
    args = parser.parse_args()
    side, repeats = (256, 7) if args.quick else (1024, 21)
    x = np.random.default_rng(0).random((1, 3, side, side))
    tensor = torch.from_numpy(x)
    results, rows = {}, []

    comparisons = {
        "max_ratio": (lambda: pool2d(x, "max", 2).output, lambda: F.max_pool2d(tensor, 2), "F.max_pool2d"),
        "avg_ratio": (lambda: pool2d(x, "avg", 2).output, lambda: F.avg_pool2d(tensor, 2), "F.avg_pool2d"),
        "lp_ratio": (lambda: pool2d(x, "lp", 2, p=2.0).output, lambda: F.lp_pool2d(tensor, 2.0, 2), "F.lp_pool2d"),
        "softpool_ratio": (lambda: pool2d(x, "softpool", 2).output,
                           lambda: F.avg_pool2d(tensor * torch.exp(tensor), 2) / F.avg_pool2d(torch.exp(tensor), 2),
                           "avg_pool2d(x e^x) / avg_pool2d(e^x)"),
    }
    for key, (ours, theirs, name) in comparisons.items():
        ratio, ours_ms, theirs_ms = interleaved_ratio(ours, theirs, repeats)
        results[key] = round(ratio, 3)
        rows.append((key, f"{ratio:.2f}", f"ours {ours_ms:.1f} ms, {name} {theirs_ms:.1f} ms, 1x3x{side}x{side}"))

    half = np.ascontiguousarray(x[..., : side // 2, : side // 2])
    explain = {op: median_ms(lambda op=op: pool2d(half, op, 2).weights, max(3, repeats // 3))
               for op in ("max", "softpool")}
    results["explain_ms"] = round(max(explain.values()), 1)
    rows.append(("explain_ms", f"{results['explain_ms']:.1f}", f"weights of max {explain['max']:.1f} ms, "
                 f"softpool {explain['softpool']:.1f} ms, 1x3x{side // 2}x{side // 2}"))

    grid = "\n".join(" ".join(str(v) for v in row) for row in np.random.default_rng(1).integers(0, 10, (8, 8)))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["source"], at.session_state["grid_text"] = "Type a grid", grid
    results["rerun_ms_grid"] = round(rerun_ms(at, repeats), 1)
    rows.append(("rerun_ms_grid", f"{results['rerun_ms_grid']:.1f}", "Explore, 8x8 typed grid, kernel changed"))

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["source"], at.session_state["color_mode"] = "Upload an image", "RGB, per channel"
    at.run()
    at.file_uploader(key="upload").set_value(("photo.png", photo_bytes(side), "image/png"))
    results["rerun_ms_photo"] = round(rerun_ms(at, max(3, repeats // 3)), 1)
    results["message_bytes_photo"] = element_bytes(at)
    rows.append(("rerun_ms_photo", f"{results['rerun_ms_photo']:.1f}",
                 f"Explore, {side}x{side} RGB photo, kernel changed"))
    rows.append(("message_bytes_photo", str(results["message_bytes_photo"]), "elements drawn by that rerun"))

    print(f"PoolScope benchmark ({'quick' if args.quick else 'full'}), torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    print(f"{'measure':<22}{'value':>10}  {'target':>9}  notes")
    for key, value, note in rows:
        met = "ok" if float(value) <= TARGETS[key] else "MISSED"
        print(f"{key:<22}{value:>10}  {'<= ' + str(TARGETS[key]):>9}  {met:<6} {note}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
