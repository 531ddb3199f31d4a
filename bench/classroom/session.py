"""One student's browser session: load Explore, then act in a loop, timing every answer."""

from __future__ import annotations

import asyncio
import math
import random
import time
from typing import TYPE_CHECKING

from bench.classroom import page as app
from bench.classroom.grids import GRID_VARIANTS, KERNEL_CYCLE, OPERATOR_CYCLE, grid_text, marker, markers_in

if TYPE_CHECKING:
    from bench.classroom.worker import Phases


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
            app.settle(self.page, self.want(), self.source == "grid", timeout_ms), timeout_ms / 1000 + 30)
        if settled["outcome"] == "exception":
            raise AppError("stException on the page")
        if settled["outcome"] == "timeout":
            raise SettleTimeout(f"not shown within {timeout_ms / 1000:g} s")
        return settled

    async def check_isolation(self, action: str) -> None:
        markers = markers_in(await self.page.evaluate(app.SHOWN_JS))
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
        await self.page.evaluate(app.RESET_CLOCK_JS)
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
        if self.source != "example":
            self.source = "example"
            await self.timed("source_example", app.source_option(page, app.SOURCE_EXAMPLE).click)
        self.source = "grid"
        await self.timed("source_grid", app.source_option(page, app.SOURCE_GRID).click)

        self.grid, self.action = i % GRID_VARIANTS, "type_grid (fill)"
        area = app.grid_area(page)
        await area.fill(grid_text(self.sid, self.grid))
        await self.timed("type_grid", lambda: area.press("Control+Enter"))

        self.op_index = (self.op_index + 1) % len(OPERATOR_CYCLE)
        self.action = "operator (open)"
        await app.operator_box(page).click()
        option = app.operator_option(page, self.names[OPERATOR_CYCLE[self.op_index]])
        await self.timed("operator", option.click)

        before = KERNEL_CYCLE[self.kernel_index]
        self.kernel_index = (self.kernel_index + 1) % len(KERNEL_CYCLE)
        key = "ArrowRight" if KERNEL_CYCLE[self.kernel_index] > before else "ArrowLeft"
        slider = app.kernel_slider(page)
        await slider.focus()
        await self.timed("kernel", lambda: slider.press(key))

    async def error(self, where: str, error: BaseException) -> None:
        name = type(error).__name__
        kind = "timeout" if "Timeout" in name else "stException" if isinstance(error, AppError) else "exception"
        message = f"{where} ({self.action}): {name}: {str(error).splitlines()[0][:160]}"
        if kind != "exception":  # what the page showed instead of what was expected
            try:
                message += f"; wanted {self.want()!r}, page {await app.page_state(self.page)}"
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
