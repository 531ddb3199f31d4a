"""A worker process: one Chromium whose browser contexts are sessions, driven concurrently."""

from __future__ import annotations

import asyncio
import math
import os
import signal
import time

from bench.classroom.cpu import join_cgroup, yield_to_server
from bench.classroom.page import INPUT_CLOCK_JS
from bench.classroom.session import Session, new_record
from tests.browser import CHROMIUM, CHROMIUM_ARGS

# Chromium may not resolve any host name: all traffic goes to the IP literal 127.0.0.1.
BROWSER_ARGS = [*CHROMIUM_ARGS, "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--mute-audio",
                "--disable-extensions"]
VIEWPORT = {"width": 1400, "height": 1000}


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
                page = await context.new_page()
                session = Session(page, sid, url, texts[sid], names, options["timeout"], options["load_timeout"],
                                  options["think"])
                page.on("websocket", session.watch)
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


def worker_main(wid, sids, url, texts, names, options, messages, phases) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    if options["cgroup"]:  # before Chromium starts, so that every process it starts is capped too
        join_cgroup(options["cgroup"])
    # In a classroom every browser runs on its own device; here they share the server's cores, so
    # they yield to it: Playwright's driver through this niceness, Chromium in yield_to_server.
    os.nice(19)
    try:
        records = asyncio.run(run_worker(wid, sids, url, texts, names, options, messages, phases))
    except Exception as error:  # reported as errors of this worker's sessions
        records = [new_record(sid) for sid in sids]
        for record in records:
            record["errors"].append(("exception", f"worker {wid}: {type(error).__name__}: {error}"))
    messages.put(("result", wid, records))
