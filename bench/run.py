"""PoolScope's benchmark: library speed against PyTorch, explanation cost, Explore reruns and its scan GIF.

    python bench/run.py             # full sizes (about a minute)
    python bench/run.py --quick     # smaller inputs, under a minute
    python bench/run.py --dispatch  # where the strided paths start to beat PyTorch's kernels

The speed table pools 1x3xNxN in float64 and float32 with kernel 2 stride 2, kernel 3 stride 2
padding 1 and kernel 3 stride 1 padding 1, and gives each time over PyTorch's and over
``x.clone()`` of the same array (the memory bound: one read and one write of the input).

Each comparison calls our side, PyTorch's and the copy in turn, round by round, and reports the
median of the per-round ratios, so a busy machine slows all three alike. The columns "faults"
and "torch" are the median minor page faults of one call of each side: a fresh page costs a
fault, and on a virtual machine a fresh array of a photo's size can cost more than its pooling.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
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

from pages.ui import exports  # noqa: E402
from pooling_core import input_gradient, pool2d  # noqa: E402
from pooling_core.operators import strided  # noqa: E402
from tests.apptest import run_app  # noqa: E402  (Explore behind the sidebar app.py draws, as the tests run it)

TARGETS = {"explain_ms": 200, "rerun_ms_grid": 100, "rerun_ms_photo": 300, "message_bytes_photo": 1_000_000,
           "scan_gif_ms_photo": 2000}
CASES = {"k2s2": (2, 2, 0), "k3s2p1": (3, 2, 1), "k3s1p1": (3, 1, 1)}
DTYPES = {"f64": np.float64, "f32": np.float32}
# Time over PyTorch's: kernel 2 stride 2, then the kernel 3 cases; max_indices and max_gradient
# are the same in every case, and max_then_indices (the output, then its indices asked for
# afterwards: two passes) and min (against -F.max_pool2d(-x)) are reported without one. Over the
# copy: kernel 2 stride 2 only.
RATIO_TARGETS = {"max": (0.35, 0.7), "avg": (0.8, 0.7), "lp": (0.5, 0.7), "softpool": (2.0, 2.0),
                 "max_indices": (0.7, 0.7), "max_then_indices": (None, None), "max_gradient": (1.0, 1.0),
                 "min": (None, None)}
COPY_TARGET = 3.0


def seconds(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def page_faults() -> int:
    """Minor page faults of this process so far: each fresh page an array is given costs one."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def timed(call) -> tuple[float, int]:
    """Seconds and page faults of one call."""
    faults = page_faults()
    return seconds(call), page_faults() - faults


def interleaved(ours, others, repeats: int) -> tuple[list[float], list[float], list[int]]:
    """Calls ``ours`` and each of ``others`` in turn, ``repeats`` rounds: every median time in ms
    (ours first), the median over the rounds of our time over each other call's, and every call's
    median page faults."""
    calls = (ours, *others)
    for call in calls:  # warm-up
        call()
    rounds = [[timed(call) for call in calls] for _ in range(repeats)]
    times = [1000 * statistics.median(row[i][0] for row in rounds) for i in range(len(calls))]
    ratios = [statistics.median(row[0][0] / row[i][0] for row in rounds) for i in range(1, len(calls))]
    faults = [round(statistics.median(row[i][1] for row in rounds)) for i in range(len(calls))]
    return times, ratios, faults


def median_ms(call, repeats: int) -> float:
    call()
    return 1000 * statistics.median(seconds(call) for _ in range(repeats))


def torch_max_gradient(tensor, k, s, pad):
    """What ``input_gradient(x, "max")`` computes, by autograd through ``F.max_pool2d``."""
    source = tensor.clone().requires_grad_(True)
    out = F.max_pool2d(source, k, s, pad)
    return torch.autograd.grad(out, source, torch.ones_like(out))[0].numpy()


def torch_lp(tensor, k, s, pad):
    """PyTorch's Lp (p=2); ``F.lp_pool2d`` takes no padding, so padded windows sum by ``avg_pool2d``."""
    if pad == 0:
        return F.lp_pool2d(tensor, 2.0, k, s)
    return F.avg_pool2d(tensor * tensor, k, s, pad, divisor_override=1).sqrt()


def comparisons(x, tensor, k, s, pad, dtype) -> dict:
    """Operator -> (the library's call, PyTorch's equivalent) on ``x`` (and ``tensor``, the same array)."""
    return {
        "max": (lambda: pool2d(x, "max", k, s, pad, dtype=dtype).output, lambda: F.max_pool2d(tensor, k, s, pad)),
        "max_indices": (lambda: pool2d(x, "max", k, s, pad, dtype=dtype, explain=True).indices,
                        lambda: F.max_pool2d(tensor, k, s, pad, return_indices=True)),
        "max_then_indices": (lambda: pool2d(x, "max", k, s, pad, dtype=dtype).indices,
                             lambda: F.max_pool2d(tensor, k, s, pad, return_indices=True)),
        "min": (lambda: pool2d(x, "min", k, s, pad, dtype=dtype).output, lambda: -F.max_pool2d(-tensor, k, s, pad)),
        "avg": (lambda: pool2d(x, "avg", k, s, pad, dtype=dtype).output, lambda: F.avg_pool2d(tensor, k, s, pad)),
        "lp": (lambda: pool2d(x, "lp", k, s, pad, dtype=dtype, p=2.0).output, lambda: torch_lp(tensor, k, s, pad)),
        "softpool": (lambda: pool2d(x, "softpool", k, s, pad, dtype=dtype).output,
                     lambda: F.avg_pool2d(tensor * torch.exp(tensor), k, s, pad)
                     / F.avg_pool2d(torch.exp(tensor), k, s, pad)),
        "max_gradient": (lambda: input_gradient(x, "max", None, k, s, pad, dtype=dtype),
                         lambda: torch_max_gradient(tensor, k, s, pad)),
    }


def speed_table(side: int, repeats: int) -> tuple[dict, list]:
    """Per dtype, case and operator: both medians, the copy's, and the ratios with their targets."""
    table, lines = {}, []
    for dtype_name, dtype in DTYPES.items():
        x = np.random.default_rng(0).random((1, 3, side, side)).astype(dtype)
        tensor = torch.from_numpy(x)
        for case, (k, s, pad) in CASES.items():
            for op, (ours, theirs) in comparisons(x, tensor, k, s, pad, dtype).items():
                (ours_ms, theirs_ms, copy_ms), (ratio, over_copy), (our_faults, their_faults, _) = interleaved(
                    ours, (theirs, tensor.clone), repeats)
                target = RATIO_TARGETS[op][case != "k2s2"]
                copy_target = COPY_TARGET if case == "k2s2" and op in ("max", "avg", "lp") else None
                met = target is None or (ratio <= target and (copy_target is None or over_copy <= copy_target))
                table[f"{op}_{case}_{dtype_name}"] = {
                    "ratio": round(ratio, 3), "over_copy": round(over_copy, 2), "ours_ms": round(ours_ms, 2),
                    "torch_ms": round(theirs_ms, 2), "copy_ms": round(copy_ms, 2),
                    "faults": our_faults, "torch_faults": their_faults}
                lines.append(f"{op:<17}{case:<8}{dtype_name:<5}{ours_ms:>8.2f}{theirs_ms:>9.2f}{copy_ms:>8.2f}"
                             f"{ratio:>8.2f}{over_copy:>8.2f}{our_faults:>8}{their_faults:>8}  "
                             + ("(no target)" if target is None else
                                f"<= {target}{'' if copy_target is None else f', {copy_target:g}x copy':<12} "
                                f"{'ok' if met else 'MISSED'}"))
    return table, lines


def path_ratio(ours, theirs, tensor, geometry, repeats: int) -> float:
    """Ratio of the fastest of ``repeats`` alternating calls each: on small inputs a busy core can
    stall one call a hundredfold, which even the median of ratios does not absorb."""
    ours(tensor, geometry), theirs(tensor, geometry.sliding)
    pairs = [(seconds(lambda: ours(tensor, geometry)), seconds(lambda: theirs(tensor, geometry.sliding)))
             for _ in range(repeats)]
    return min(a for a, _ in pairs) / min(b for _, b in pairs)


DISPATCH_SIDES = (16, 32, 48, 64, 96, 128, 192, 256, 384, 512)


def dispatch(repeats: int) -> dict:
    """Ratio of each strided path over PyTorch's kernel on 1x3xNxN, and per path and dtype the
    smallest N*C*H*W from which it wins in every case (the sizes in ``strided.MIN_ELEMENTS``)."""
    from pooling_core.geometry import regular_geometry

    crossover = {}
    print(f"{'path':<9}{'dtype':<7}{'case':<8}" + "".join(f"{side:>7}" for side in DISPATCH_SIDES))
    for dtype_name, dtype in DTYPES.items():
        paths = {"max": (strided.sliding_extreme, lambda t, sl: F.max_pool2d(t, **sl)),
                 "indices": (strided.sliding_extreme_with_indices,
                             lambda t, sl: F.max_pool2d(t, **sl, return_indices=True)),
                 "sum": (strided.sliding_sum, lambda t, sl: F.avg_pool2d(
                     t, sl["kernel_size"], sl["stride"], sl["padding"], divisor_override=1))}
        for path, (ours, theirs) in paths.items():
            wins = [True] * len(DISPATCH_SIDES)
            for case, (k, s, pad) in CASES.items():
                ratios = []
                for side in DISPATCH_SIDES:
                    tensor = torch.from_numpy(np.random.default_rng(0).random((1, 3, side, side)).astype(dtype))
                    geometry = regular_geometry((side, side), k, s, pad)
                    ratios.append(path_ratio(ours, theirs, tensor, geometry, repeats))
                wins = [w and r < 1 for w, r in zip(wins, ratios)]
                print(f"{path:<9}{dtype_name:<7}{case:<8}" + "".join(f"{r:>7.2f}" for r in ratios))
            # The smallest size from which the strided path wins at every larger size too.
            first = next((i for i in range(len(wins)) if all(wins[i:])), None)
            crossover[f"{path}_{dtype_name}"] = None if first is None else 3 * DISPATCH_SIDES[first] ** 2
    return crossover


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
    parser.add_argument("--dispatch", action="store_true", help="only the strided paths' crossover sizes")
    args = parser.parse_args()
    side, repeats = (256, 7) if args.quick else (1024, 21)
    if args.dispatch:
        print(json.dumps(dispatch(3 * repeats)))
        return
    x = np.random.default_rng(0).random((1, 3, side, side))
    results, rows = {}, []

    results["speed"], speed_lines = speed_table(side, repeats)

    half = np.ascontiguousarray(x[..., : side // 2, : side // 2])
    explain = {op: median_ms(lambda op=op: pool2d(half, op, 2).weights, max(3, repeats // 3))
               for op in ("max", "softpool")}
    results["explain_ms"] = round(max(explain.values()), 1)
    rows.append(("explain_ms", f"{results['explain_ms']:.1f}", f"weights of max {explain['max']:.1f} ms, "
                 f"softpool {explain['softpool']:.1f} ms, 1x3x{side // 2}x{side // 2}"))

    grid = "\n".join(" ".join(str(v) for v in row) for row in np.random.default_rng(1).integers(0, 10, (8, 8)))
    at = run_app(source="grid", grid_text=grid)
    results["rerun_ms_grid"] = round(rerun_ms(at, repeats), 1)
    rows.append(("rerun_ms_grid", f"{results['rerun_ms_grid']:.1f}", "Explore, 8x8 typed grid, kernel changed"))

    at = run_app(source="upload", color_mode="rgb")
    at.file_uploader(key="upload").set_value(("photo.png", photo_bytes(side), "image/png"))
    results["rerun_ms_photo"] = round(rerun_ms(at, max(3, repeats // 3)), 1)
    results["message_bytes_photo"] = element_bytes(at)
    rows.append(("rerun_ms_photo", f"{results['rerun_ms_photo']:.1f}",
                 f"Explore, {side}x{side} RGB photo, kernel changed"))
    rows.append(("message_bytes_photo", str(results["message_bytes_photo"]), "elements drawn by that rerun"))

    photo = Image.open(ROOT / "assets" / "landscape.png").convert("L").resize((side, side), Image.Resampling.BICUBIC)
    plane = np.asarray(photo, dtype=np.float64) / 255
    pooled = pool2d(plane, "max", 2)
    results["scan_gif_ms_photo"] = round(median_ms(lambda: exports.scan_gif(exports.View(  # a new view per click
        plane, pooled.output, (0.0, 1.0), ("Input", "Output"), "Max pooling", "Kernel 2",
        lambda i, j: pooled.geometry.window(i, j)[:3])), 3))
    rows.append(("scan_gif_ms_photo", str(results["scan_gif_ms_photo"]),
                 f"Explore's scan GIF download, {side}x{side} grey photo, 64 frames"))

    print(f"PoolScope benchmark ({'quick' if args.quick else 'full'}), torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, 1x3x{side}x{side}")
    print(f"{'operator':<17}{'case':<8}{'dtype':<5}{'ours ms':>8}{'torch ms':>9}{'copy ms':>8}"
          f"{'/torch':>8}{'/copy':>8}{'faults':>8}{'torch':>8}  target")
    print("\n".join(speed_lines))
    print(f"{'measure':<22}{'value':>10}  {'target':>9}  notes")
    for key, value, note in rows:
        met = "ok" if float(value) <= TARGETS[key] else "MISSED"
        print(f"{key:<22}{value:>10}  {'<= ' + str(TARGETS[key]):>9}  {met:<6} {note}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
