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
standing in for 30 devices of their own (see ``yield_to_server``); ``--browser-cpus`` caps their
CPU in all, as on a slower machine (``browser_cgroup``). The server's RSS (with its
children) is sampled every 0.5 s and its peak reported, with the server's share of the CPU in the
steady phase.
Chromium may reach 127.0.0.1 only. Everything started here is killed at the end, also on failure.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing as mp
import os
import queue
import random
import re
import signal
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM, CHROMIUM_ARGS, free_port, start_server  # noqa: E402

OPERATOR_CYCLE = ("max", "avg", "lp", "softpool")  # all have the kernel slider first
KERNEL_CYCLE = (2, 3, 4, 3)  # the slider moves one step per iteration, up then down
MARKER_BASE = 90000
MARKER_RE = re.compile(r"(?<![\d.])90\d{3}(?![\d.])")
GRID_VARIANTS = 10
STRIDE = 2  # the app's default stride, never changed here
# Chromium may not resolve any host name: all traffic goes to the IP literal 127.0.0.1.
BROWSER_ARGS = [*CHROMIUM_ARGS, "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--mute-audio",
                "--disable-extensions"]
VIEWPORT = {"width": 1400, "height": 1000}
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
CPU_CGROUPS = Path("/sys/fs/cgroup/cpu")  # cgroup v1's cpu controller, as on this project's machine

# Installed in every document: the time of the last input event, in the page's clock.
INPUT_CLOCK_JS = """(() => {
  const clock = window.__loadClock = {input: null};
  for (const type of ["keydown", "mousedown"]) {
    window.addEventListener(type, event => { clock.input = event.timeStamp; }, true);
  }
})();"""
RESET_CLOCK_JS = "() => { window.__loadClock.input = null; }"
# Resolves when the run is over and shows the wanted text, checking on every change of the page
# (the cheap tests first: checkVisibility lays the page out).
SETTLE_JS = """([wanted, grid, timeoutMs]) => new Promise(resolve => {
  const state = () => {
    if (document.querySelector("[data-testid='stException']")) return "exception";
    const app = document.querySelector("[data-testid='stApp']");
    if (!app || app.getAttribute("data-test-script-state") !== "notRunning") return null;
    if (document.querySelector("[data-testid='stSkeleton']")) return null;
    const area = document.querySelector("[data-testid='stSidebar'] [data-testid='stTextArea']");
    if (grid !== (area !== null)) return null;
    for (const code of document.querySelectorAll("[data-testid='stMain'] [data-testid='stCode'] code")) {
      if (code.textContent.trim() === wanted && code.checkVisibility()) return "shown";
    }
    return null;
  };
  const finish = outcome => {
    observer.disconnect();
    clearTimeout(timer);
    resolve({outcome, at: performance.now(), input: window.__loadClock.input});
  };
  const check = () => { const outcome = state(); if (outcome) finish(outcome); };
  const observer = new MutationObserver(check);
  const timer = setTimeout(() => finish("timeout"), timeoutMs);
  observer.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
  check();
})"""
STATE_JS = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  const codes = [...document.querySelectorAll("[data-testid='stMain'] [data-testid='stCode'] code")];
  return {state: app && app.getAttribute("data-test-script-state"),
          grid: !!document.querySelector("[data-testid='stSidebar'] [data-testid='stTextArea']"),
          exception: [...document.querySelectorAll("[data-testid='stException']")].map(e => e.innerText.slice(0, 300)),
          skeletons: document.querySelectorAll("[data-testid='stSkeleton']").length,
          codes: codes.map(c => c.textContent.trim())};
}"""
SHOWN_JS = """() => {
  const main = document.querySelector("[data-testid='stMain']");
  if (!main) return "";
  const parts = [];
  main.querySelectorAll("[data-testid='stCode'] code").forEach(e => parts.push(e.textContent));
  main.querySelectorAll(".js-plotly-plot text").forEach(e => parts.push(e.textContent));
  return parts.join(" | ");
}"""


# ---------------------------------------------------------------- the grids and what they show


def marker(session: int) -> int:
    return MARKER_BASE + session


def grid_rows(session: int, variant: int) -> list[list[int]]:
    """A 6x6 grid; the first row encodes the session (its marker, then its digits), ``variant``
    changes the second cell so that consecutive iterations type different grids."""
    first = [marker(session), variant, session % 10, session // 10 % 10, 7, 3]
    return [first] + [[(3 * r + 5 * c + session + variant) % 10 for c in range(6)] for r in range(1, 6)]


def grid_text(session: int, variant: int) -> str:
    return "\n".join(" ".join(str(v) for v in row) for row in grid_rows(session, variant))


def expected_texts(session: int) -> dict:
    """The arithmetic of output cell (0, 0) for every state a session reaches, from the library."""
    import numpy as np

    from pages.ui.controls import TEXTBOOK_GRID
    from pooling_core import pool2d
    from pooling_core.examples import load_example
    from pooling_core.explain import window_report
    from pooling_core.inputs import parse_grid

    inputs = {"example": load_example("Textbook 4x4", "L"), "default": parse_grid(TEXTBOOK_GRID)}
    inputs.update({v: np.array(grid_rows(session, v), dtype=float) for v in range(GRID_VARIANTS)})
    texts = {}
    for name, x in inputs.items():
        for op in OPERATOR_CYCLE:
            for k in set(KERNEL_CYCLE):
                result = pool2d(x, op, kernel_size=k, stride=STRIDE)
                texts[(name, op, k)] = window_report(result, x, 0, 0).text
    return texts


# ---------------------------------------------------------------- /proc sampling


def proc_stat(pid: int) -> dict | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            raw = handle.read()
    except OSError:
        return None
    name = raw[raw.index("(") + 1:raw.rindex(")")]
    rest = raw[raw.rindex(")") + 2:].split()
    return {"pid": pid, "name": name, "ppid": int(rest[1]), "cpu": (int(rest[11]) + int(rest[12])) / CLK_TCK,
            "start": int(rest[19]), "rss": int(rest[21]) * PAGE_SIZE}


def all_procs() -> dict[int, dict]:
    procs = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = proc_stat(int(entry))
            if stat is not None:
                procs[stat["pid"]] = stat
    return procs


def descendants(procs: dict[int, dict], root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in procs.values():
        children.setdefault(stat["ppid"], []).append(stat["pid"])
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class Sampler(threading.Thread):
    """Every ``interval`` s: the server tree's RSS (peak kept) and every process we started."""

    def __init__(self, server_pid: int, interval: float = 0.5):
        super().__init__(daemon=True)
        self.server_pid, self.interval = server_pid, interval
        self.stop_event = threading.Event()
        self.peak_server_rss = 0
        self.server_cpu = 0.0
        self.seen: set[tuple[int, int]] = set()  # (pid, start time) of every other process we started
        self.lock = threading.Lock()
        self.sample()

    def sample(self) -> None:
        procs = all_procs()
        server_tree = [self.server_pid, *descendants(procs, self.server_pid)]
        server_set = set(server_tree)
        with self.lock:
            rss = sum(procs[p]["rss"] for p in server_tree if p in procs)
            self.peak_server_rss = max(self.peak_server_rss, rss)
            if self.server_pid in procs:
                self.server_cpu = procs[self.server_pid]["cpu"]
            self.seen.update((p, procs[p]["start"]) for p in descendants(procs, os.getpid()) if p not in server_set)

    def run(self) -> None:
        while not self.stop_event.wait(self.interval):
            try:
                self.sample()
            except Exception as error:  # sampling must never end the run
                print(f"sampler: {error!r}", file=sys.stderr)

    def kill_leftovers(self) -> list[str]:
        """SIGKILL every process this run started that is still alive (same pid and start time)."""
        self.sample()
        killed: list[str] = []
        with self.lock:
            for pid, start in list(self.seen):
                stat = proc_stat(pid)  # python: workers (joined above) and multiprocessing's helper
                if stat is not None and stat["start"] == start and not stat["name"].startswith("python"):
                    try:
                        os.kill(pid, signal.SIGKILL)
                        killed.append(stat["name"])
                    except OSError:
                        pass
        return killed


# ---------------------------------------------------------------- one browser session (in a worker)


class AppError(Exception):
    """An ``stException`` element on the page."""


class SettleTimeout(Exception):
    """The page did not show the wanted state in time."""


class TimeUp(Exception):
    """The steady phase is over: no new action starts."""


def frame_type(message_class, payload) -> str | None:
    """The kind of a Streamlit websocket message (a protobuf ``BackMsg`` or ``ForwardMsg``)."""
    from google.protobuf.message import DecodeError

    if not isinstance(payload, bytes):
        return None
    try:
        return message_class.FromString(payload).WhichOneof("type")
    except DecodeError:
        return None


def new_record(sid: int) -> dict:
    """What one session reports: its times, errors and isolation violations."""
    return {"sid": sid, "initial_load": None, "page_load": [], "reruns": [], "script_reruns": [], "server": [],
            "errors": [], "violations": []}


class Session:
    def __init__(self, page, sid: int, url: str, texts: dict, names: dict, timeout: float, load_timeout: float,
                 think: float = 0.0):
        self.page, self.sid, self.url, self.texts, self.names = page, sid, url, texts, names
        self.timeout_ms, self.load_timeout_ms = timeout * 1000, load_timeout * 1000
        self.record = new_record(sid)
        self.rerun_sent = self.run_finished = None
        self.action, self.deadline = "load", math.inf
        self.think, self.rng = think, random.Random(sid)
        self.reset_model()

    def reset_model(self) -> None:
        self.source, self.grid, self.op_index, self.kernel_index = "example", "default", 0, 0

    def watch(self, websocket) -> None:
        """Time the server's part of each action on the app's websocket, where the browser's network
        process sees it: from the rerun request sent to the message that the run has finished."""
        websocket.on("framesent", self.frame_sent)
        websocket.on("framereceived", self.frame_received)

    def frame_sent(self, payload) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        if self.rerun_sent is None and frame_type(BackMsg, payload) == "rerun_script":
            self.rerun_sent = time.perf_counter()

    def frame_received(self, payload) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        if (self.rerun_sent is not None and self.run_finished is None
                and frame_type(ForwardMsg, payload) == "script_finished"):
            self.run_finished = time.perf_counter()

    def want(self) -> str:
        """The arithmetic text the page must show now."""
        op, k = OPERATOR_CYCLE[self.op_index], KERNEL_CYCLE[self.kernel_index]
        return self.texts[("example" if self.source == "example" else self.grid, op, k)]

    async def settle(self, timeout_ms: float | None = None) -> dict:
        """Wait until the run is over and shows the wanted text; the page's times of that moment
        (``at``) and of the last input event (``input``), in ms."""
        timeout_ms = timeout_ms or self.timeout_ms
        settled = await asyncio.wait_for(
            self.page.evaluate(SETTLE_JS, [self.want(), self.source == "grid", timeout_ms]), timeout_ms / 1000 + 30)
        if settled["outcome"] == "exception":
            raise AppError("stException on the page")
        if settled["outcome"] == "timeout":
            raise SettleTimeout(f"not shown within {timeout_ms / 1000:g} s")
        return settled

    async def check_isolation(self, action: str) -> None:
        shown = await self.page.evaluate(SHOWN_JS)
        markers = {int(m) for m in MARKER_RE.findall(shown)}
        own = marker(self.sid)
        foreign = sorted(markers - {own})
        if foreign:
            self.record["violations"].append(f"{action}: markers of other sessions {foreign}")
        if self.source == "grid" and self.grid != "default" and own not in markers:
            self.record["violations"].append(f"{action}: own marker {own} missing")

    async def timed(self, action: str, act) -> None:
        if time.time() >= self.deadline:
            raise TimeUp
        self.action = action
        self.rerun_sent = self.run_finished = None
        await self.page.evaluate(RESET_CLOCK_JS)
        start = time.perf_counter()
        await act()
        settled = await self.settle()
        if settled["input"] is None:
            raise RuntimeError("the action sent no key or mouse event to the page")
        self.record["script_reruns"].append(time.perf_counter() - start)
        self.record["reruns"].append((action, (settled["at"] - settled["input"]) / 1000))
        if self.run_finished is not None:
            self.record["server"].append(self.run_finished - self.rerun_sent)
        await self.check_isolation(action)
        await asyncio.sleep(self.think * self.rng.uniform(0.5, 1.5))  # a student reads the result, then acts

    async def load(self) -> float:
        """Open the app; the seconds until the first run is idle and its arithmetic visible."""
        self.reset_model()
        self.action = "load"
        start = time.perf_counter()
        await self.page.goto(self.url, timeout=self.load_timeout_ms)
        self.record["page_load"].append(time.perf_counter() - start)  # HTML, scripts, styles: the load event
        await self.settle(timeout_ms=self.load_timeout_ms)
        return time.perf_counter() - start

    async def iteration(self, i: int) -> None:
        page = self.page
        sidebar = page.get_by_test_id("stSidebar")
        if self.source != "example":
            self.source = "example"
            await self.timed("source_example", sidebar.get_by_text("Example", exact=True).click)
        self.source = "grid"
        await self.timed("source_grid", sidebar.get_by_text("Type a grid", exact=True).click)

        self.grid, self.action = i % GRID_VARIANTS, "type_grid (fill)"
        area = page.get_by_role("textbox", name="Grid: one row per line")
        await area.fill(grid_text(self.sid, self.grid))
        await self.timed("type_grid", lambda: area.press("Control+Enter"))

        self.op_index = (self.op_index + 1) % len(OPERATOR_CYCLE)
        self.action = "operator (open)"
        await page.get_by_role("combobox", name="Operator").click()
        option = page.get_by_role("option", name=self.names[OPERATOR_CYCLE[self.op_index]], exact=True)
        await self.timed("operator", option.click)

        before = KERNEL_CYCLE[self.kernel_index]
        self.kernel_index = (self.kernel_index + 1) % len(KERNEL_CYCLE)
        key = "ArrowRight" if KERNEL_CYCLE[self.kernel_index] > before else "ArrowLeft"
        slider = page.locator("[data-testid='stSlider'] input[type='range']").first
        await slider.focus()
        await self.timed("kernel", lambda: slider.press(key))

    async def error(self, where: str, error: BaseException) -> None:
        name = type(error).__name__
        kind = "timeout" if "Timeout" in name else "stException" if isinstance(error, AppError) else "exception"
        message = f"{where} ({self.action}): {name}: {str(error).splitlines()[0][:160]}"
        if kind != "exception":  # what the page showed instead of what was expected
            try:
                shown = await self.page.evaluate(STATE_JS)
                message += f"; wanted {self.want()!r}, page {shown}"
            except Exception as again:  # the page may be gone
                message += f"; page unreadable: {type(again).__name__}"
        self.record["errors"].append((kind, message))

    async def run(self, start_at: float, phases: Phases, loading: asyncio.Semaphore) -> None:
        """Initial load (timed from its start, at most a few at once per browser); once every session
        has loaded, act until the steady phase is over."""
        await asyncio.sleep(max(0.0, start_at - time.time()))
        loaded = False
        try:
            async with loading:
                self.record["initial_load"] = await self.load()
            loaded = True
        except Exception as error:  # every failure is counted, then the session goes on
            await self.error("initial load", error)
        finally:
            phases.loaded()
        if not loaded:
            return
        self.deadline = deadline = await phases.steady_deadline()
        await asyncio.sleep(self.think * self.rng.random())  # sessions fall out of step, as in a class
        i, failures = 0, 0
        while time.time() < deadline and failures < 3:
            try:
                await self.iteration(i)
                failures = 0
            except TimeUp:
                break
            except Exception as error:
                await self.error(f"iteration {i}", error)
                failures += 1
                if time.time() >= deadline:
                    break
                try:  # start over in a fresh server session
                    await self.load()
                except Exception as again:
                    await self.error(f"reload after iteration {i}", again)
            i += 1


class Phases:
    """Shared by all workers: the clock, how many sessions have loaded, when the steady phase began.

    The steady phase (reruns) starts when the last session has finished its initial load, so that
    every session is active during all of it; a load still running at ``load_cap`` is not waited for.
    """

    def __init__(self, ctx, sessions: int, seconds: float):
        self.sessions, self.seconds = sessions, seconds
        self.go, self.start = ctx.Event(), ctx.Value("d", 0.0)
        self.count, self.steady = ctx.Value("i", 0), ctx.Value("d", 0.0)
        self.load_cap = 0.0

    def loaded(self) -> None:
        with self.count.get_lock():
            self.count.value += 1
            if self.count.value == self.sessions:
                self.begin_steady()

    def begin_steady(self) -> None:
        with self.steady.get_lock():
            if self.steady.value == 0.0:
                self.steady.value = time.time()

    async def steady_deadline(self) -> float:
        while self.steady.value == 0.0:
            if time.time() > self.load_cap:
                self.begin_steady()
            await asyncio.sleep(0.05)
        return self.steady.value + self.seconds


async def warm_up(browser, url: str, texts: dict, names: dict, timeout: float, load_timeout: float) -> None:
    """One page load before the clock starts: the server's first run imports the library."""
    context = await browser.new_context(viewport=VIEWPORT)
    await context.add_init_script(INPUT_CLOCK_JS)
    try:
        session = Session(await context.new_page(), -1, url, texts, names, timeout, load_timeout)
        await session.load()
    finally:
        await context.close()


def yield_to_server() -> None:
    """Give this worker's Chromium the lowest CPU priority. Playwright starts Chromium in a session
    of its own (setsid); Linux's autogroups (on by default) share the CPU between sessions first and
    by niceness only within one, and Chromium sets its threads' niceness itself (0, or -8 as root).
    So the niceness goes to the browser's session (its autogroup), where every renderer it starts
    later lands too."""
    procs = all_procs()
    browsers = [pid for pid in descendants(procs, os.getpid()) if procs[pid]["name"] == "chromium"]
    problem = None if browsers else "no Chromium process found"
    for pid in browsers:
        try:
            Path(f"/proc/{pid}/autogroup").write_text("19")
        except OSError as error:
            problem = error
    if problem:
        print(f"the browsers keep their priority: {problem}", file=sys.stderr)


async def run_worker(wid: int, sids: list[int], url: str, texts: dict, names: dict, options: dict,
                     messages, phases: Phases) -> list[dict]:
    from playwright.async_api import async_playwright

    sessions: list[Session] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        if not options["cgroup"]:
            yield_to_server()
        try:
            for sid in sids:
                context = await browser.new_context(viewport=VIEWPORT)
                await context.add_init_script(INPUT_CLOCK_JS)
                context.set_default_timeout(options["timeout"] * 1000)
                context.set_default_navigation_timeout(options["load_timeout"] * 1000)
                session = Session(None, sid, url, texts[sid], names, options["timeout"], options["load_timeout"],
                                  options["think"])
                session.page = await context.new_page()
                session.page.on("websocket", session.watch)
                sessions.append(session)
            if options["warmup"] and wid == 0:
                await warm_up(browser, url, texts[sids[0]], names, options["timeout"], options["load_timeout"])
            messages.put(("ready", wid))
            if not await asyncio.to_thread(phases.go.wait, options["ready_timeout"]) or not phases.start.value:
                return [s.record for s in sessions]
            start, order = phases.start.value, options["order"]
            waves = math.ceil(len(sids) / options["load_concurrency"])
            phases.load_cap = start + options["ramp"] * len(order) + waves * 2 * options["load_timeout"] + 5
            loading = asyncio.Semaphore(options["load_concurrency"])
            await asyncio.gather(*(s.run(start + order[s.sid] * options["ramp"], phases, loading) for s in sessions))
        finally:
            for session in sessions:
                try:
                    await session.page.context.close()
                except Exception:  # closing is best effort, the browser goes next
                    pass
            await browser.close()
    return [s.record for s in sessions]


def browser_cgroup(cpus: float) -> Path:
    """A new CPU cgroup whose processes together get at most ``cpus`` cores and, while the server
    wants the CPU, almost nothing (the lowest weight). Autogroups do not apply inside it, so this
    replaces ``yield_to_server``."""
    period = 100_000
    group = CPU_CGROUPS / f"poolscope-load-{os.getpid()}"
    group.mkdir()
    (group / "cpu.cfs_period_us").write_text(str(period))
    (group / "cpu.cfs_quota_us").write_text(str(round(cpus * period)))
    (group / "cpu.shares").write_text("2")
    return group


def remove_cgroup(group: Path) -> None:
    """Remove the browsers' cgroup once the processes killed at the end have left it."""
    for _ in range(100):
        try:
            group.rmdir()
            return
        except OSError:
            time.sleep(0.1)
    print(f"could not remove {group}", file=sys.stderr)


def worker_main(wid, sids, url, texts, names, options, messages, phases) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    if options["cgroup"]:  # before Chromium starts, so that every process it starts is capped too
        Path(options["cgroup"], "cgroup.procs").write_text(str(os.getpid()))
    # In a classroom every browser runs on its own device; here they share the server's cores, so
    # they yield to it: Playwright's driver through this niceness, Chromium in yield_to_server.
    os.nice(19)
    records: list[dict] = []
    try:
        records = asyncio.run(run_worker(wid, sids, url, texts, names, options, messages, phases))
    except Exception as error:  # reported as errors of this worker's sessions
        records = [new_record(sid) for sid in sids]
        for record in records:
            record["errors"].append(("exception", f"worker {wid}: {type(error).__name__}: {error}"))
    messages.put(("result", wid, records))


# ---------------------------------------------------------------- the run and the report


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def fmt_s(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


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
    from pooling_core import OPERATORS

    names = {op: OPERATORS[op].name for op in OPERATOR_CYCLE}
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
        marks["idle_rss"] = {"rss": sampler.peak_server_rss}
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
        marks["go"] = snapshot(sampler)
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

    return report(args, records, sampler, marks)


def report(args, records: dict[int, list[dict]], sampler: Sampler, marks: dict) -> int:
    sessions = sorted((r for group in records.values() for r in group), key=lambda r: r["sid"])
    missing = args.sessions - len(sessions)
    loads = [r["initial_load"] for r in sessions if r["initial_load"] is not None]
    page_loads = [t for r in sessions for t in r["page_load"]]
    reruns = [(a, t) for r in sessions for a, t in r["reruns"]]
    times = [t for _, t in reruns]
    script_times = [t for r in sessions for t in r["script_reruns"]]
    server = [t for r in sessions for t in r["server"]]
    errors = [e for r in sessions for e in r["errors"]]
    violations = [(r["sid"], v) for r in sessions for v in r["violations"]]
    error_count = len(errors) + missing
    peak_mb = sampler.peak_server_rss / 2**20 if sampler else 0.0

    print()
    print(f"PoolScope load: {args.sessions} sessions over {args.workers} browser processes (ramp {args.ramp:g} s,"
          f" {args.load_concurrency} initial load(s) at once per browser), then {args.seconds:g} s of reruns"
          + (f"; the browsers capped at {args.browser_cpus:g} cores in all" if args.browser_cpus else ""))
    print(f"{'action':<24}{'count':>7}{'p50 s':>9}{'p95 s':>9}{'max s':>9}")
    rows = [("initial_load", loads), ("  goto (load)", page_loads)]
    rows += [(a, [t for b, t in reruns if b == a])
             for a in ("source_example", "source_grid", "type_grid", "operator", "kernel")]
    rows += [("all reruns", times), ("  as the script saw it", script_times), ("  server answer", server)]
    for name, values in rows:
        print(f"{name:<24}{len(values):>7}{fmt_s(percentile(values, .5)):>9}{fmt_s(percentile(values, .95)):>9}"
              f"{fmt_s(max(values) if values else None):>9}")
    print(f"{'session':<9}{'load s':>8}{'reruns':>8}{'p50 s':>8}{'p95 s':>8}{'errors':>8}{'isol.':>7}")
    for r in sessions:
        own = [t for _, t in r["reruns"]]
        print(f"{r['sid']:<9}{fmt_s(r['initial_load']):>8}{len(own):>8}{fmt_s(percentile(own, .5)):>8}"
              f"{fmt_s(percentile(own, .95)):>8}{len(r['errors']):>8}{len(r['violations']):>7}")
    kinds: dict[str, int] = {}
    for kind, _ in errors:
        kinds[kind] = kinds.get(kind, 0) + 1
    print(f"errors: {error_count} {kinds or ''}{f' ({missing} sessions never reported)' if missing else ''}")
    for kind, message in errors[:10]:
        print(f"  {kind}: {message}")
    print(f"isolation violations: {len(violations)}")
    for sid, message in violations[:10]:
        print(f"  session {sid}: {message}")
    if sampler is not None:
        print(f"server RSS: before any session {marks['idle_rss']['rss'] / 2**20:.0f} MB, peak {peak_mb:.0f} MB")
    if "steady" in marks and "end" in marks and times:
        wall = marks["end"]["time"] - marks["steady"]["time"]
        cpu = marks["end"]["server_cpu"] - marks["steady"]["server_cpu"]
        print(f"steady phase: {len(times) / wall:.2f} reruns/s; the server used {cpu / wall:.0%} of one core"
              f" ({cpu / len(times) * 1000:.0f} ms per rerun), the browsers most of the rest of {os.cpu_count()}")
    summary = {
        "sessions": args.sessions, "seconds": args.seconds, "browser_cpus": args.browser_cpus,
        "initial_load_p50_s": percentile(loads, .5), "initial_load_p95_s": percentile(loads, .95),
        "rerun_p50_s": percentile(times, .5), "rerun_p95_s": percentile(times, .95), "reruns": len(times),
        "rerun_script_p50_s": percentile(script_times, .5), "rerun_script_p95_s": percentile(script_times, .95),
        "server_answer_p50_s": percentile(server, .5), "server_answer_p95_s": percentile(server, .95),
        "errors": error_count, "isolation_violations": len(violations), "server_peak_rss_mb": round(peak_mb, 1),
    }
    summary = {k: round(v, 3) if isinstance(v, float) else v for k, v in summary.items()}
    print(json.dumps(summary), flush=True)
    return 0 if error_count == 0 and not violations else 1


if __name__ == "__main__":
    sys.exit(main())
