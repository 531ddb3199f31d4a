"""How many students one PoolScope server serves: simulated sessions that speak Streamlit's own
WebSocket protocol, so that thousands cost the client almost nothing.

    python bench/capacity.py --replicas 1 --pin               # one replica held to one core
    python bench/capacity.py --replicas 2 --pin               # two, behind deploy/serve.py's nginx
    python bench/capacity.py --replicas 1 --pin --abuse 300   # one abusive session among 300
    python bench/capacity.py --replicas 1 --pin --abuse 300 --proxy   # the same through nginx
    python bench/capacity.py --url http://127.0.0.1:8501 --start 5 --step 0 --step-seconds 10

Each simulated session opens Explore (a ``rerun_script`` request like a browser's first one),
switches the source to a typed grid and types a grid that starts with its own marker (90000 + its
number), then, at a class's pace (one action every 15 to 45 s, uniformly at random), changes the
operator, the kernel or its typed grid (a new variant, with the marker). Messages are
``streamlit.proto`` ``BackMsg`` and ``ForwardMsg``; widget ids are read off the elements the server
sends (a keyed widget's id ends in its key) and values are sent as the frontend sends them. Every
answer is timed from the rerun request to ``script_finished``, and checked: the arithmetic of
output cell (0, 0) must be the library's for the session's state, and no other session's marker may
appear in it (an isolation violation).

The count of sessions ramps in levels: ``--start`` sessions, then ``--step`` more every
``--step-seconds`` (new ones start spread over the first quarter of a level, whose paced answers
count only after that), until a level's p95 passes ``--stop-p95`` or ``--max-sessions``. The
report gives each level's answers, p50/p95, errors and violations, and the replicas' RSS; the
largest level with p95 <= 0.5 s; and the memory each session added. ``--pin`` holds replica i to
core i (``sched_setaffinity`` before it starts, so all its threads inherit it) and this client to
the last core. With ``--abuse N`` the count stays at N and one more session misbehaves for a level:
malformed frames, rerun floods and uploads of the largest size accepted (see :class:`Abuser`). The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
import websockets  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402

from bench.classroom.grids import (  # noqa: E402
    GRID_VARIANTS,
    KERNEL_CYCLE,
    OPERATOR_CYCLE,
    expected_text,
    grid_text,
    marker,
    markers_in,
    operator_names,
)
from bench.classroom.page import SOURCE_GRID  # noqa: E402
from bench.classroom.report import percentile  # noqa: E402
from bench.classroom.sampler import rss  # noqa: E402
from deploy import serve  # noqa: E402

ACTIONS = ("operator", "kernel", "grid")
FINISHED = ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY
XSRF_COOKIE = "_streamlit_xsrf"


class AppError(Exception):
    """The script raised: an exception element in the answer."""


@dataclass
class Answer:
    """What one run sent back: its time and the code blocks' texts."""

    seconds: float
    codes: list[str]


@dataclass
class Record:
    """What a session measured: (action, seconds, time answered) for paced actions, setup times,
    errors and isolation violations."""

    sid: int
    answers: list[tuple[str, float, float]] = field(default_factory=list)
    setup_done: float | None = None  # when its page was open with its grid typed
    setup: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


@lru_cache(maxsize=4096)
def expected(sid: int, variant, op: str, kernel: int) -> str:
    return expected_text(sid, variant, op, kernel)


class Client:
    """One session's WebSocket: rerun requests out, answers in."""

    def __init__(self, url: str, route: str):
        self.url, self.route = url, route
        self.ws = None
        self.widgets: dict[str, str] = {}  # key -> widget id, as last seen
        self.values: dict[str, WidgetState] = {}  # key -> the state sent, as the frontend keeps them
        self.query_string = ""
        self.cached: set[str] = set()  # hashes of cacheable messages received, reported like the frontend's
        self.session_id: str | None = None

    async def connect(self, timeout: float) -> None:
        self.ws = await websockets.connect(
            self.url.replace("http", "ws", 1) + "/_stcore/stream", subprotocols=["streamlit"], max_size=None,
            additional_headers={"Cookie": f"{serve.ROUTE_COOKIE}={self.route}"}, open_timeout=timeout,
            ping_interval=None)

    def set(self, key: str, **value) -> None:
        """Set a widget's value, e.g. ``set("kernel", double_array_value=[3])``."""
        state = WidgetState(id=self.widgets[key])
        for name, v in value.items():
            target = getattr(state, name)
            if name == "double_array_value":
                target.data.extend(v)
            elif name == "file_uploader_state_value":
                target.uploaded_file_info.extend(v)
            else:
                setattr(state, name, v)
        self.values[key] = state

    def rerun_message(self) -> bytes:
        message = BackMsg()
        request = message.rerun_script
        request.query_string = self.query_string
        request.context_info.locale = "en-US"
        request.cached_message_hashes.extend(sorted(self.cached))
        for key, state in self.values.items():
            state.id = self.widgets.get(key, state.id)
            request.widget_states.widgets.append(state)
        return message.SerializeToString()

    async def rerun(self, timeout: float) -> Answer:
        """Send a rerun request and read until the run has finished."""
        start = time.perf_counter()
        await self.ws.send(self.rerun_message())
        return await asyncio.wait_for(self.read_answer(start), timeout)

    async def read_answer(self, start: float) -> Answer:
        widgets, codes = {}, []
        while True:
            message = ForwardMsg.FromString(await self.ws.recv())
            kind = message.WhichOneof("type")
            if message.metadata.cacheable:
                self.cached.add(message.hash)
            if kind == "new_session":
                self.session_id = message.new_session.initialize.session_id
            elif kind == "page_info_changed":
                self.query_string = message.page_info_changed.query_string
            elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                element = message.delta.new_element
                which = element.WhichOneof("type")
                if which == "exception":
                    raise AppError(f"{element.exception.type}: {element.exception.message[:200]}")
                if which == "code":
                    codes.append(element.code.code_text)
                inner = getattr(element, which)
                if "id" in inner.DESCRIPTOR.fields_by_name and inner.id.startswith("$$ID-"):
                    widgets[inner.id.rsplit("-", 1)[1]] = inner.id
            elif kind == "script_finished":
                if message.script_finished != FINISHED:
                    raise AppError(f"run ended with {ForwardMsg.ScriptFinishedStatus.Name(message.script_finished)}")
                self.widgets.update(widgets)
                return Answer(time.perf_counter() - start, codes)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


class Student:
    """A simulated student: open the page, type a grid with the marker, then act at a class's pace."""

    def __init__(self, sid: int, url: str, args, names: dict[str, str]):
        self.sid, self.args, self.names = sid, args, names
        self.client = Client(url, f"capacity-{sid}")
        self.record = Record(sid)
        self.rng = random.Random(sid)
        self.variant, self.op_index, self.kernel_index = 0, 0, 0

    def check(self, action: str, answer: Answer) -> None:
        op, kernel = OPERATOR_CYCLE[self.op_index], KERNEL_CYCLE[self.kernel_index]
        want = expected(self.sid, self.variant, op, kernel)
        shown = " | ".join(answer.codes)
        foreign = sorted(markers_in(shown) - {marker(self.sid)})
        if foreign:
            self.record.violations.append(f"{action}: markers of other sessions {foreign}")
        if want not in answer.codes:
            self.record.errors.append(f"{action}: wanted {want!r}, got {shown[:200]!r}")

    async def setup(self) -> None:
        timeout = self.args.timeout
        await self.client.connect(timeout)
        self.record.setup.append((await self.client.rerun(timeout)).seconds)
        self.client.set("source", string_value=SOURCE_GRID)
        self.record.setup.append((await self.client.rerun(timeout)).seconds)
        self.client.set("grid_text", string_value=grid_text(self.sid, self.variant))
        answer = await self.client.rerun(timeout)
        self.record.setup.append(answer.seconds)
        self.record.setup_done = time.time()
        self.check("setup", answer)

    async def act(self) -> None:
        action = self.rng.choice(ACTIONS)
        if action == "operator":
            self.op_index = (self.op_index + 1) % len(OPERATOR_CYCLE)
            self.client.set("op", string_value=self.names[OPERATOR_CYCLE[self.op_index]])
        elif action == "kernel":
            self.kernel_index = (self.kernel_index + 1) % len(KERNEL_CYCLE)
            self.client.set("kernel", double_array_value=[KERNEL_CYCLE[self.kernel_index]])
        else:
            self.variant = (self.variant + 1) % GRID_VARIANTS
            self.client.set("grid_text", string_value=grid_text(self.sid, self.variant))
        answer = await self.client.rerun(self.args.timeout)
        self.record.answers.append((action, answer.seconds, time.time()))
        self.check(action, answer)

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await self.setup()
            while not stop.is_set():
                pause = self.rng.uniform(self.args.think_min, self.args.think_max)
                try:
                    await asyncio.wait_for(stop.wait(), pause)
                    break
                except TimeoutError:
                    pass
                await self.act()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # counted; the session ends
            self.record.errors.append(f"{type(error).__name__}: {str(error)[:200]}")
        finally:
            await self.client.close()


class Abuser(Student):
    """A session that misbehaves in three ways, in turn, while the others work: a burst of malformed
    frames (random bytes, a truncated BackMsg, a rerun for a widget id that does not exist); a flood
    of rerun requests (``--flood`` a second for 2 s, not waiting for answers); and an upload of
    ``--upload-mb`` MB (MiB) of random bytes named ``.png``, set as the uploader's file and rerun, as a
    student uploading a huge file would. Its own answers are not counted; what it does to the
    others is. What went wrong for it is listed under ``abuse``."""

    def __init__(self, sid: int, url: str, args, names: dict[str, str]):
        super().__init__(sid, url, args, names)
        self.url, self.done = url, {"malformed": 0, "flood": 0, "uploads": 0, "upload_failures": []}

    async def malformed(self) -> None:
        truncated = self.client.rerun_message()[: -3]
        bogus = BackMsg()
        bogus.rerun_script.widget_states.widgets.append(WidgetState(id="$$ID-0-nonexistent", string_value="x"))
        for frame in (os.urandom(64), b"", truncated, bogus.SerializeToString(), "text, not bytes"):
            await self.client.ws.send(frame)
            self.done["malformed"] += 1

    async def flood(self) -> None:
        for _ in range(self.args.flood * 2):
            await self.client.ws.send(self.client.rerun_message())
            self.done["flood"] += 1
            await asyncio.sleep(1 / self.args.flood)

    def put_upload(self, data: bytes) -> str:
        """PUT a file into this session's uploads through the proxy, as the frontend does."""
        with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=10) as reply:
            xsrf = next(c.split(";")[0].split("=", 1)[1] for c in reply.headers.get_all("Set-Cookie") or []
                        if c.startswith(XSRF_COOKIE + "="))
        file_id = str(uuid.uuid4())
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"huge.png\"\r\n"
                f"Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(
            f"{self.url}/_stcore/upload_file/{self.client.session_id}/{file_id}", data=body, method="PUT",
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "X-Xsrftoken": xsrf,
                     "Cookie": f"{serve.ROUTE_COOKIE}={self.client.route}; {XSRF_COOKIE}={xsrf}"})
        with urllib.request.urlopen(request, timeout=120) as reply:
            if reply.status != 204:
                raise RuntimeError(f"upload answered {reply.status}")
        return file_id

    async def upload(self) -> None:
        from streamlit.proto.Common_pb2 import UploadedFileInfo

        data = os.urandom(round(self.args.upload_mb * 2**20))
        try:
            file_id = await asyncio.to_thread(self.put_upload, data)
        except Exception as error:
            self.done["upload_failures"].append(f"{type(error).__name__}: {str(error)[:120]}")
            return
        self.done["uploads"] += 1
        self.client.set("source", string_value="Upload an image")
        await self.client.rerun(self.args.timeout)  # the uploader appears
        info = UploadedFileInfo(file_id=file_id, name="huge.png", size=len(data))
        self.client.set("upload", file_uploader_state_value=[info])
        await self.client.rerun(self.args.timeout)

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await self.client.connect(self.args.timeout)
            await self.client.rerun(self.args.timeout)
            while not stop.is_set():
                for attack in (self.malformed, self.flood, self.upload):
                    if stop.is_set():
                        break
                    try:
                        await attack()
                        await self.drain()
                    except Exception as error:
                        self.record.errors.append(f"{attack.__name__}: {type(error).__name__}: {str(error)[:160]}")
                        await self.client.close()
                        await self.client.connect(self.args.timeout)  # a new session, as a reloaded tab
                        await self.client.rerun(self.args.timeout)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.record.errors.append(f"abuser: {type(error).__name__}: {str(error)[:200]}")
        finally:
            await self.client.close()

    async def drain(self) -> None:
        """Read whatever the server still sends for 1 s (answers to the flood), as a browser would."""
        try:
            while True:
                await asyncio.wait_for(self.client.ws.recv(), 1.0)
        except TimeoutError:
            pass


def replica_rss(pids: list[int]) -> int:
    return sum(rss(psutil.Process(pid)) for pid in pids if psutil.pid_exists(pid))


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU seconds these processes (the replicas, or this client) have used."""
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


async def ramp(url: str, args, pids: list[int]) -> dict:
    names = operator_names()
    stop = asyncio.Event()
    students: list[Student] = []
    tasks: list[asyncio.Task] = []
    levels = []
    idle_rss = replica_rss(pids)
    count = args.abuse or args.start
    abuser = None
    while True:
        level_start, cpu_start, client_start = time.time(), cpu_seconds(pids), cpu_seconds([os.getpid()])
        runs_before = sum(len(s.record.answers) + len(s.record.setup) for s in students)
        spread = args.step_seconds / 4
        new = [Student(sid, url, args, names) for sid in range(len(students), count)]
        for i, student in enumerate(new):
            students.append(student)
            delay = spread * i / max(1, len(new))
            tasks.append(asyncio.create_task(start_later(student, delay, stop)))
        if args.abuse and levels:  # the abusive session joins the second level, at the same count
            abuser = Abuser(100_000, url, args, names)
            tasks.append(asyncio.create_task(abuser.run(stop)))
        await asyncio.sleep(args.step_seconds)
        cpu, client = cpu_seconds(pids) - cpu_start, cpu_seconds([os.getpid()]) - client_start
        runs = sum(len(s.record.answers) + len(s.record.setup) for s in students) - runs_before
        # The new sessions' first runs come in a burst; the level's steady answers come after them.
        counted_from = max([level_start + spread, *(s.record.setup_done or 0 for s in new)])
        times = [t for s in students for _, t, at in s.record.answers if at >= counted_from]
        level = {
            "sessions": len(students), "abusive": abuser is not None, "answers": len(times),
            "counted_s": round(time.time() - counted_from, 1),
            "server_cpu_share": cpu / (time.time() - level_start) if pids else None,
            "client_cpu_share": client / (time.time() - level_start),  # near 1: the client limits the run
            "cpu_ms_per_run": 1000 * cpu / runs if pids and runs else None,
            "p50_s": percentile(times, .5), "p95_s": percentile(times, .95), "max_s": max(times, default=None),
            "errors": sum(len(s.record.errors) for s in students),
            "violations": sum(len(s.record.violations) for s in students),
            "rss_mb": round(replica_rss(pids) / 2**20, 1),
        }
        levels.append({k: round(v, 3) if isinstance(v, float) else v for k, v in level.items()})
        print(json.dumps(levels[-1]), flush=True)
        p95 = level["p95_s"]
        if args.abuse and abuser is not None:
            break
        if args.abuse:
            continue
        if (p95 is not None and p95 > args.stop_p95) or count >= args.max_sessions or args.step == 0:
            break
        count = min(args.max_sessions, count + args.step)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return summary(args, levels, students, abuser, idle_rss)


async def start_later(student: Student, delay: float, stop: asyncio.Event) -> None:
    await asyncio.sleep(delay)
    await student.run(stop)


def summary(args, levels: list[dict], students: list[Student], abuser, idle_rss: int) -> dict:
    good = [lv for lv in levels if lv["p95_s"] is not None and lv["p95_s"] <= 0.5 and not lv["errors"]]
    top = max(levels, key=lambda lv: lv["sessions"])
    per_session = (top["rss_mb"] - idle_rss / 2**20) / top["sessions"] if top["sessions"] else None
    errors = [e for s in students for e in s.record.errors]
    violations = [v for s in students for v in s.record.violations]
    result = {
        "replicas": args.replicas, "pinned": args.pin, "think_s": [args.think_min, args.think_max],
        "levels": levels, "sessions_at_p95_le_0_5_s": max((lv["sessions"] for lv in good), default=0),
        "idle_rss_mb": round(idle_rss / 2**20, 1),
        "mb_per_session": None if per_session is None else round(per_session, 2),
        "setup_p95_s": percentile([t for s in students for t in s.record.setup], .95),
        "errors": len(errors), "error_examples": errors[:5], "violations": len(violations),
        "violation_examples": violations[:5],
    }
    if abuser is not None:
        result["abuse"] = {**abuser.done, "its_errors": abuser.record.errors[:5]}
    return result


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an app already served (else replicas are started here)")
    parser.add_argument("--replicas", type=int, default=1, help="started here: one is served directly, more via nginx")
    parser.add_argument("--proxy", action="store_true", help="serve one replica through nginx too")
    parser.add_argument("--pin", action="store_true", help="replica i on core i, this client on the last core")
    parser.add_argument("--start", type=int, default=100, help="sessions in the first level")
    parser.add_argument("--step", type=int, default=100, help="sessions added per level (0: one level)")
    parser.add_argument("--step-seconds", type=float, default=60.0)
    parser.add_argument("--max-sessions", type=int, default=1000)
    parser.add_argument("--stop-p95", type=float, default=1.0, help="stop after a level whose p95 passes this")
    parser.add_argument("--think-min", type=float, default=15.0)
    parser.add_argument("--think-max", type=float, default=45.0)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds an answer may take")
    parser.add_argument("--abuse", type=int, default=0, metavar="N",
                        help="N sessions for two levels; in the second, one abusive session joins them")
    parser.add_argument("--flood", type=int, default=40, help="the abusive session's reruns a second")
    # Streamlit refuses a request whose body (file and multipart framing) passes server.maxUploadSize.
    parser.add_argument("--upload-mb", type=float, default=19.9,
                        help="the abusive session's upload size (about the largest a 20 MB limit takes)")
    args = parser.parse_args(argv)
    if args.start < 1 or args.step < 0 or args.step_seconds <= 0 or args.think_min > args.think_max:
        parser.error("need --start >= 1, --step >= 0, --step-seconds > 0 and --think-min <= --think-max")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    deployment = None
    if (args.replicas > 1 or args.proxy) and not args.url:
        deployment = serve.start(args.replicas, serve.free_port(), host="127.0.0.1", pin=args.pin)
    elif not args.url:
        replicas = serve.start_replicas(1, secrets.token_urlsafe(32), pin=args.pin)
        deployment = serve.Deployment(replicas[0].url, replicas)
    url = args.url.rstrip("/") if args.url else deployment.url
    pids = [r.process.pid for r in deployment.replicas] if deployment else []
    if args.pin:
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    try:
        for replica in (deployment.replicas if deployment else []):  # the library's first import, untimed
            asyncio.run(warm_up(replica.url, args))
        result = asyncio.run(ramp(url, args, pids))
    finally:
        if deployment is not None:
            deployment.stop()
    print(json.dumps(result))
    return 1 if result["errors"] or result["violations"] else 0


async def warm_up(url: str, args) -> None:
    client = Client(url, "warm-up")
    await client.connect(args.timeout)
    await client.rerun(120)
    await client.close()


if __name__ == "__main__":
    sys.exit(main())
