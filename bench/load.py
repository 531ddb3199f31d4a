"""PoolScope under load: N real Chromium sessions against one ``streamlit run app.py``.

    python bench/load.py --sessions 4 --seconds 20    # quick
    python bench/load.py --sessions 30 --seconds 300  # the target load

The script starts the server itself (free port, headless, no file watcher, bound to 127.0.0.1),
then spreads the sessions over a few worker processes; each worker runs one Chromium and drives
its browser contexts concurrently with Playwright's async API. Two phases:

* load: the sessions start ``--ramp`` s apart and load Explore, at most ``--load-concurrency``
  at once per browser; the initial load is timed from ``goto`` to the first idle state with the
  expected arithmetic visible;
* steady (``--seconds``, from the moment the last session has loaded): every session loops:
  source "Example", back to "Type a grid", type a grid whose first row encodes the session (its
  first cell, 90000 + session number, is the marker), the next operator of a cycle, the kernel
  slider one step, with a pause of about ``--think`` s after each answer, as a student reads it.
  Each action is timed in the page, as a student would see it: from its input event (the key or
  mouse button going down) to the moment the page is idle and shows the arithmetic text the
  library computes for that state. A MutationObserver watches the page for it, so nothing polls.
  The time the script itself saw is reported too ("as the script saw it"): it adds Playwright's
  own work before the input and the answer's way back to the script, both slow on a busy machine.

Errors are exceptions, timeouts and ``stException`` elements. An isolation violation is another
session's marker on the page (code blocks and heatmap labels), or the session's own marker
missing; a typed grid that is lost on the way to "Example" and back makes the action time out.
Each action's server answer is timed too, on the websocket: from the rerun request to the
message that the run has finished. The browsers run at the lowest priority, below the server,
standing in for 30 devices of their own; ``--browser-cpus`` caps their CPU in all, as on a slower
machine (both in ``bench/classroom/cpu.py``). The server's RSS (with its children) is sampled every
0.5 s and its peak reported, with the server's share of the CPU in the steady phase.
Chromium may reach 127.0.0.1 only. Everything started here is killed at the end, also on failure.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import queue
import random
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.classroom.cpu import CPU_CGROUPS, browser_cgroup, remove_cgroup  # noqa: E402
from bench.classroom.grids import expected_texts, operator_names  # noqa: E402
from bench.classroom.report import report  # noqa: E402
from bench.classroom.sampler import Sampler  # noqa: E402
from bench.classroom.worker import Phases, worker_main  # noqa: E402
from tests.browser import free_port, start_server  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="length of the steady phase, in which every loaded session keeps acting")
    parser.add_argument("--workers", type=int, default=0,
                        help="browser processes (default: min(5, ceil(sessions / 2)))")
    parser.add_argument("--ramp", type=float, default=0.5, help="seconds between session starts")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds a rerun may take")
    parser.add_argument("--load-timeout", type=float, default=180.0, help="seconds an initial load may take")
    parser.add_argument("--think", type=float, default=30.0,
                        help="mean seconds a session waits after each answer before its next action (0.5x to 1.5x)")
    parser.add_argument("--load-concurrency", type=int, default=1,
                        help="initial loads at once per browser process (others wait, untimed, to start)")
    parser.add_argument("--seed", type=int, default=0, help="shuffles which worker starts first")
    parser.add_argument("--browser-cpus", type=float, default=None,
                        help="cap the browsers together at this many cores, as on a slower machine (needs root)")
    parser.add_argument("--no-warmup", dest="warmup", action="store_false",
                        help="measure the server's very first run too (it imports the library)")
    args = parser.parse_args(argv)
    if args.sessions < 1 or args.seconds <= 0:
        parser.error("--sessions and --seconds must be positive")
    if args.browser_cpus is not None and (args.browser_cpus <= 0 or not os.access(CPU_CGROUPS, os.W_OK)):
        parser.error(f"--browser-cpus must be positive and needs root and cgroup v1's cpu controller ({CPU_CGROUPS})")
    args.workers = args.workers or min(5, math.ceil(args.sessions / 2))
    args.workers = max(1, min(args.workers, args.sessions))
    return args


def snapshot(sampler: Sampler) -> dict:
    sampler.sample()
    return {"time": time.time(), "server_cpu": sampler.server_cpu}


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    names = operator_names()
    texts = {sid: expected_texts(sid) for sid in range(args.sessions)}
    groups = [list(range(args.sessions))[w::args.workers] for w in range(args.workers)]
    random.Random(args.seed).shuffle(groups)
    # Start order interleaves the workers, so no browser gets all the early sessions.
    order = {sid: n for n, sid in enumerate(sorted(range(args.sessions), key=lambda s: (s // args.workers, s)))}
    options = {"ramp": args.ramp, "think": args.think, "timeout": args.timeout, "load_timeout": args.load_timeout,
               "order": order, "load_concurrency": max(1, args.load_concurrency), "warmup": args.warmup,
               "ready_timeout": 180.0, "cgroup": None}

    ctx = mp.get_context("spawn")
    messages, phases = ctx.Queue(), Phases(ctx, args.sessions, args.seconds)
    os.environ["STREAMLIT_SERVER_ADDRESS"] = "127.0.0.1"  # start_server passes the environment on
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server, sampler, workers = None, None, []
    records: dict[int, list[dict]] = {}
    marks: dict[str, dict] = {}
    try:
        if args.browser_cpus is not None:
            options["cgroup"] = str(browser_cgroup(args.browser_cpus))
        print(f"starting streamlit on {url}", file=sys.stderr, flush=True)
        server = start_server(port)
        sampler = Sampler(server.pid)
        sampler.start()
        idle_rss = sampler.peak_server_rss
        for wid, sids in enumerate(groups):
            process = ctx.Process(target=worker_main, name=f"load-worker-{wid}",
                                  args=(wid, sids, url, {s: texts[s] for s in sids}, names, options, messages, phases))
            process.start()
            workers.append(process)
        ready, limit = 0, time.monotonic() + options["ready_timeout"]
        while ready < len(workers):
            try:
                message = messages.get(timeout=1.0)
            except queue.Empty:
                if time.monotonic() > limit or not all(p.is_alive() for p in workers):
                    raise RuntimeError(f"only {ready} of {len(workers)} browsers started") from None
                continue
            ready += 1
            if message[0] == "result":  # a worker that failed before it was ready
                records[message[1]] = message[2]
        print(f"{len(workers)} browsers ready; loading {args.sessions} sessions, then {args.seconds:g} s of reruns",
              file=sys.stderr, flush=True)
        phases.start.value = time.time() + 0.5
        phases.go.set()
        waves = math.ceil(max(map(len, groups)) / max(1, args.load_concurrency))
        hard_limit = (time.monotonic() + args.ramp * args.sessions + waves * 2 * args.load_timeout + args.seconds
                      + args.timeout + args.load_timeout + 60)
        while len(records) < len(workers) and time.monotonic() < hard_limit:
            if "steady" not in marks and phases.steady.value:
                marks["steady"] = snapshot(sampler)
                print("all sessions loaded; steady phase", file=sys.stderr, flush=True)
            if "steady" in marks and "end" not in marks and time.time() >= phases.steady.value + args.seconds:
                marks["end"] = snapshot(sampler)
            try:
                message = messages.get(timeout=0.2)
            except queue.Empty:
                if not any(p.is_alive() for p in workers) and messages.empty():
                    break
                continue
            if message[0] == "result":
                records[message[1]] = message[2]
                if "steady" in marks:
                    marks.setdefault("end", snapshot(sampler))
        for process in workers:
            process.join(timeout=max(1.0, hard_limit - time.monotonic()))
    finally:
        phases.go.set()  # workers still waiting to start give up at once
        for process in workers:
            if process.is_alive():
                process.terminate()
        for process in workers:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
        if sampler is not None:
            sampler.stop_event.set()
            leftovers = sampler.kill_leftovers()
            if leftovers:
                print(f"killed {len(leftovers)} leftover processes: {', '.join(sorted(set(leftovers)))}",
                      file=sys.stderr)
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except Exception:
                server.kill()
                server.wait(timeout=10)
        if options["cgroup"]:
            remove_cgroup(Path(options["cgroup"]))

    return report(args, records, idle_rss, sampler.peak_server_rss, marks)


if __name__ == "__main__":
    sys.exit(main())
