"""Explore's inspector in Chromium: hover and step latency, Play's websocket frames, a kernel change's cost.

    python bench/inspector.py                          # this checkout
    python bench/inspector.py --before /tmp/before     # and the kernel change on a checkout with the
                                                       # two Plotly heatmaps (e.g. `git archive d579879`)

Latency is measured in the page: a capturing listener on the component's shadow root notes the
input event's timestamp (``pointerover`` for a hover, ``keydown`` for a step) and how long the
browser held the event before dispatching it, a MutationObserver the moment the DOM has changed,
and a ``requestAnimationFrame`` from there the start of the next frame. 100 events each, on an
8x8 output (a 16x16 random grid, kernel 2) and a 32x32 one (64x64, kernel 2). Play runs 10 s
while the websocket frames the browser sends are counted.

A kernel change (the slider one step up, 5 times after a first one; 3 rounds, taking turns with
``--before``) is timed on the websocket, from the rerun request to the run's end. The bytes are
the messages received meanwhile (websocket frames as the page reads them, and messages fetched
over HTTP, where Streamlit sends a large one by reference) and, through a counting TCP proxy,
the bytes on the wire. The browser's CPU is Chromium's ``TaskDuration`` (CDP
``Performance.getMetrics``) from the key press to 1.5 s after the run's end. Payload sizes come
from the payload builder directly. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.classroom.report import percentile  # noqa: E402
from bench.classroom.session import frame_type  # noqa: E402
from bench.run import photo_bytes  # noqa: E402
from tests.browser import CHROMIUM, CHROMIUM_ARGS, free_port, start_server, wait_idle  # noqa: E402

EVENTS = 100
GRIDS = {"8x8": 16, "32x32": 64}  # output size: side of the random input grid, pooled 2x2
KERNEL_CHANGES = 5  # kernel 3 -> 4 -> ... -> 8, after 2 -> 3 to warm up: each state new to the browser
SETTLE_MS = 1500
ROUNDS = 3

# The inspector's shadow root (the other component on the page holds only its code).
ROOT_JS = """[...document.querySelectorAll("[data-testid='stBidiComponentIsolated']")]
  .map((host) => host.shadowRoot).find((root) => root && root.querySelector(".insp"))"""
CLOCK_JS = """(type) => {
  const root = """ + ROOT_JS + """;
  const clock = window.__inspectorClock = {dispatch: [], dom: [], frame: [], start: null};
  root.addEventListener(type, (event) => {
    clock.start = event.timeStamp;
    clock.dispatch.push(performance.now() - event.timeStamp);
  }, {capture: true});
  new MutationObserver(() => {
    if (clock.start === null) return;
    const start = clock.start;
    clock.start = null;
    clock.dom.push(performance.now() - start);
    requestAnimationFrame(() => clock.frame.push(performance.now() - start));
  }).observe(root, {attributes: true, childList: true, subtree: true, characterData: true});
}"""


def summary(values: list[float]) -> dict:
    return {"n": len(values), "p50_ms": round(percentile(values, 0.5), 2), "p95_ms": round(percentile(values, 0.95), 2)}


def read_clock(page) -> dict:
    clock = page.evaluate("() => window.__inspectorClock")
    return {name: summary(clock[name]) for name in ("dispatch", "dom", "frame")}


def open_grid(page, url: str, side: int) -> None:
    page.goto(f"{url}/?source=Random+grid&random_rows={side}&random_cols={side}")
    wait_idle(page)
    page.locator("[data-cell='out']").first.wait_for()


def hover_latency(page, url: str, side: int) -> dict:
    """Hover 100 output cells in turn (each a new one) and time each highlight."""
    open_grid(page, url, side)
    page.evaluate(CLOCK_JS, "pointerover")
    cells = page.locator("[data-cell='out']")
    spread = max(1, cells.count() // EVENTS)
    for k in range(EVENTS):
        cells.nth((k * spread) % cells.count()).hover()  # scrolled into view where needed
        page.wait_for_timeout(30)
    page.wait_for_timeout(200)
    return read_clock(page)


def step_latency(page, url: str, side: int) -> dict:
    """Press the right arrow 100 times on the focused inspector and time each step."""
    open_grid(page, url, side)
    page.locator("[data-cell='out']").first.click()
    page.mouse.move(2, 2)
    wait_idle(page)
    page.evaluate(CLOCK_JS, "keydown")
    for _ in range(EVENTS):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(30)
    page.wait_for_timeout(200)
    return read_clock(page)


def play_frames(page, url: str) -> dict:
    """Websocket frames the browser sends during 10 s of Play, and the cells it went through."""
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    open_grid(page, url, GRIDS["8x8"])
    play = page.locator("[data-role='play']")
    play.click()
    page.wait_for_timeout(200)
    before, first = len(sent), page.locator("[data-cell='out'][data-current='1']").get_attribute("data-col")
    page.wait_for_timeout(10_000)
    frames = len(sent) - before
    steps = page.evaluate(f"() => {ROOT_JS}.querySelector(\"[data-role='scrub']\").value")
    play.click()
    return {"frames_sent": frames, "seconds": 10, "cell_reached": int(steps), "first_col": int(first)}


class CountingProxy(threading.Thread):
    """A TCP proxy in front of a server, counting the bytes it sends to the browser as they travel
    (the websocket's messages compressed, when browser and server agree on it)."""

    def __init__(self, target_port: int):
        super().__init__(daemon=True)
        self.target_port, self.port, self.down = target_port, free_port(), 0
        self.ready = threading.Event()

    async def pipe(self, reader, writer, count: bool) -> None:
        while data := await reader.read(65536):
            if count:
                self.down += len(data)
            writer.write(data)
            await writer.drain()
        writer.close()

    async def connect(self, client_reader, client_writer) -> None:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        await asyncio.gather(self.pipe(client_reader, server_writer, False),
                             self.pipe(server_reader, client_writer, True), return_exceptions=True)

    async def serve(self) -> None:
        server = await asyncio.start_server(self.connect, "127.0.0.1", self.port)
        self.ready.set()
        async with server:
            await server.serve_forever()

    def run(self) -> None:
        asyncio.run(self.serve())


def kernel_cost(page, proxy: CountingProxy, query: str) -> dict:
    """A kernel change's server time, bytes received and browser CPU, for each of 5 changes.

    Each change reaches a state the browser has not seen: for one it has, Streamlit sends its
    large messages as references to the browser's cache."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    marks = {"sent": None, "done": None, "bytes": 0}

    def frame_sent(payload):
        if frame_type(BackMsg, payload) == "rerun_script" and marks["sent"] is None:
            marks["sent"] = time.perf_counter()

    def frame_received(payload):
        if marks["sent"] is not None and marks["done"] is None:
            marks["bytes"] += len(payload)
            if frame_type(ForwardMsg, payload) == "script_finished":
                marks["done"] = time.perf_counter()

    def message_fetched(request):  # Streamlit sends a large message once, then by reference over HTTP
        if "/_stcore/message" in request.url and marks["sent"] is not None and marks["done"] is None:
            marks["bytes"] += request.sizes()["responseBodySize"]

    page.on("websocket", lambda ws: (ws.on("framesent", frame_sent), ws.on("framereceived", frame_received)))
    page.on("requestfinished", message_fetched)
    page.goto(f"http://127.0.0.1:{proxy.port}/?{query}")
    wait_idle(page)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    slider = page.locator("[data-testid='stSlider'] input[type='range']").first
    slider.focus()
    server, sizes, wire, cpu = [], [], [], []
    for k in range(KERNEL_CHANGES + 1):
        marks.update(sent=None, done=None, bytes=0)
        task, down = metric(cdp, "TaskDuration"), proxy.down
        slider.press("ArrowRight")
        deadline = time.monotonic() + 60
        while marks["done"] is None and time.monotonic() < deadline:
            page.wait_for_timeout(20)
        page.wait_for_timeout(SETTLE_MS)
        if k == 0:
            continue  # warm-up: the first change loads code
        server.append(1000 * (marks["done"] - marks["sent"]))
        sizes.append(marks["bytes"])
        wire.append(proxy.down - down)
        cpu.append(1000 * (metric(cdp, "TaskDuration") - task))
    return {"server_ms": server, "message_bytes": sizes, "wire_bytes": wire, "browser_cpu_ms": cpu}


def pooled(rounds: list[dict]) -> dict:
    """Each measure's median over every change of every round, and the range of the rounds' medians."""
    summary = {}
    for name in rounds[0]:
        medians = [statistics.median(r[name]) for r in rounds]
        summary[name] = round(statistics.median([v for r in rounds for v in r[name]]), 1)
        summary[f"{name}_rounds"] = [round(min(medians), 1), round(max(medians), 1)]
    return summary


def metric(cdp, name: str) -> float:
    return next(m["value"] for m in cdp.send("Performance.getMetrics")["metrics"] if m["name"] == name)


def payload_sizes() -> dict:
    """JSON bytes of the inspector's data, against the two Plotly figures' JSON it replaces."""
    from pages.ui import figures
    from pages.ui.inspector.component import words
    from pages.ui.inspector.payload import payload
    from pages.ui.views import hover_words
    from pooling_core import pool2d
    from pooling_core.inputs import load_image

    rng = np.random.default_rng(0)
    cases = {"8x8 grid": rng.integers(0, 10, (8, 8)).astype(float),
             "32x32 output": rng.integers(0, 10, (64, 64)).astype(float),
             "1024x1024 photo": load_image(photo_bytes(1024)).pixels}
    sizes = {}
    for name, x in cases.items():
        result = pool2d(x, "max", 2)
        low, high = float(min(x.min(), result.output.min())), float(max(x.max(), result.output.max()))
        data = payload(x, result, (0, 0), (low, high), words=words("en"))
        plotly = sum(len(fig.to_json()) for fig in (
            figures.heatmap(x, "Input", low, high, show_scale=False, hover=hover_words("en")),
            figures.heatmap(result.output, "Output", low, high, clickable=True, hover=hover_words("en"))))
        sizes[name] = {"mode": data["mode"], "payload_bytes": len(json.dumps(data)), "plotly_bytes": plotly}
    return sizes


def main(argv=None) -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="a checkout of the app with the Plotly heatmaps")
    args = parser.parse_args(argv)
    results = {"payload": payload_sizes()}
    ports = {"after": free_port()}
    servers = {"after": start_server(ports["after"])}
    if args.before:
        ports["before"] = free_port()
        servers["before"] = start_server(ports["before"], root=args.before)
    url = f"http://127.0.0.1:{ports['after']}"
    proxies = {version: CountingProxy(port) for version, port in ports.items()}
    for proxy in proxies.values():
        proxy.start()
        proxy.ready.wait()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

            def fresh():
                return browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()

            for name, side in GRIDS.items():
                results[f"hover_{name}"] = hover_latency(fresh(), url, side)
                results[f"step_{name}"] = step_latency(fresh(), url, side)
            results["play"] = play_frames(fresh(), url)
            costs = {}
            for _ in range(ROUNDS):  # before and after take turns, so a slow minute hits both
                for version, proxy in proxies.items():
                    for case, query in (("8x8 grid", "example=Random+8x8"), ("photo", "example=Landscape+photo")):
                        costs.setdefault(f"kernel_change_{version}_{case}", []).append(
                            kernel_cost(fresh(), proxy, query))
            results.update({name: pooled(rounds) for name, rounds in costs.items()})
            browser.close()
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(timeout=20)
    for key, value in results.items():
        print(f"{key:<34}{json.dumps(value)}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
