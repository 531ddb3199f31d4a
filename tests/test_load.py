"""The parts of bench/load.py that run without a browser: grids and markers, the server sampler, the report."""

import json
import multiprocessing as mp
import subprocess
import sys
import time
from argparse import Namespace

import numpy as np

from bench.classroom.grids import expected_texts, grid_rows, grid_text, marker, markers_in
from bench.classroom.report import percentile, pooled, report, summary
from bench.classroom.sampler import Sampler
from pooling_core.inputs import parse_grid

MB = 2**20

# A stand-in for the server: once told to, it allocates 32 MB, burns 0.3 s of CPU and starts a
# child that allocates 64 MB; then it waits until its stdin closes.
SERVER = """
import subprocess, sys, time
print("up", flush=True)
sys.stdin.readline()
own = b"s" * (32 << 20)
start = time.process_time()
while time.process_time() - start < 0.3:
    pass
child = subprocess.Popen([sys.executable, "-c",
                          "import sys; data = b'c' * (64 << 20); print('up', flush=True); sys.stdin.read()"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
child.stdout.readline()
print("ready", flush=True)
sys.stdin.read()
child.stdin.close()
child.wait()
"""
SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def test_grids_carry_the_session_marker():
    assert grid_rows(7, 3)[0][:2] == [marker(7), 3] == [90007, 3]
    np.testing.assert_array_equal(parse_grid(grid_text(7, 3)), np.array(grid_rows(7, 3), dtype=float))
    texts = expected_texts(7)
    assert texts[(3, "max", 2)] == "max(90007, 3, 3, 8) = 90007"  # row 1: (3 + 7 + 3 + 5c) % 10
    assert texts[("example", "avg", 3)] == expected_texts(8)[("example", "avg", 3)]


def test_markers_are_whole_numbers_only():
    shown = "max(90003, 0) = 90003 | 190001 | 90012.5 | 1.90004 | 90007"
    assert markers_in(shown) == {90003, 90007}


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(20, 0, -1)]
    assert percentile(values, .5) == 10.0
    assert percentile(values, .95) == 19.0
    assert percentile(values, 1.0) == 20.0
    assert percentile([3.0, 1.0, 2.0], .01) == 1.0
    assert percentile([], .5) is None


def record(sid, load, reruns, script, server, errors=(), violations=()):
    return {"sid": sid, "initial_load": load, "page_load": [1.0], "reruns": reruns, "script_reruns": script,
            "server": server, "errors": list(errors), "violations": list(violations)}


ARGS = Namespace(sessions=3, seconds=40.0, browser_cpus=None, workers=2, ramp=0.5, load_concurrency=1)
RECORDS = {  # session 2 never reported
    1: [record(1, 6.0, [("operator", 0.2)], [0.25], [0.09], errors=[("timeout", "iteration 0 (operator)")],
               violations=["kernel: markers of other sessions [90000]"])],
    0: [record(0, 4.0, [("source_grid", 0.1), ("type_grid", 0.3)], [0.2, 0.4], [0.05, 0.07])],
}
EXPECTED = {
    "sessions": 3, "seconds": 40.0, "browser_cpus": None, "initial_load_p50_s": 4.0, "initial_load_p95_s": 6.0,
    "rerun_p50_s": 0.2, "rerun_p95_s": 0.3, "reruns": 3, "rerun_script_p50_s": 0.25, "rerun_script_p95_s": 0.4,
    "server_answer_p50_s": 0.07, "server_answer_p95_s": 0.09, "errors": 2, "isolation_violations": 1,
    "server_peak_rss_mb": 300.5,
}


def test_report_prints_the_tables_and_the_summary(capsys):
    assert summary(ARGS, pooled(RECORDS), 300 * MB + MB // 2) == EXPECTED
    marks = {"steady": {"time": 100.0, "server_cpu": 2.0}, "end": {"time": 110.0, "server_cpu": 2.3}}
    assert report(ARGS, RECORDS, 70 * MB, 300 * MB + MB // 2, marks) == 1
    lines = capsys.readouterr().out.splitlines()
    assert list(json.loads(lines[-1]).items()) == list(EXPECTED.items())  # the same fields, in order
    assert "operator                      1    0.200    0.200    0.200" in lines
    assert "1           6.000       1   0.200   0.200       1      1" in lines
    assert "errors: 2 {'timeout': 1} (1 sessions never reported)" in lines
    assert "server RSS: before any session 70 MB, peak 300 MB" in lines
    assert any("0.30 reruns/s; the server used 3% of one core (100 ms per rerun)" in line for line in lines)


def test_sampler_adds_the_server_tree_and_keeps_the_peak():
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert server.stdout.readline() == "up\n"
        sampler = Sampler(server.pid, interval=0.05)
        idle_rss, idle_cpu = sampler.peak_server_rss, sampler.server_cpu
        sampler.start()
        server.stdin.write("go\n")
        server.stdin.flush()
        assert server.stdout.readline() == "ready\n"
        deadline = time.monotonic() + 5
        while sampler.peak_server_rss < idle_rss + 96 * MB and time.monotonic() < deadline:
            time.sleep(0.05)
        sampler.stop_event.set()
        sampler.join()
        grown = sampler.peak_server_rss - idle_rss
        assert 96 * MB <= grown < 140 * MB  # both allocations, plus the child's own interpreter
        assert 0.29 <= sampler.server_cpu - idle_cpu < 0.6  # the server's own time only
        server.stdin.close()
        server.wait(timeout=10)
        sampler.sample()
        assert sampler.peak_server_rss == idle_rss + grown
    finally:
        server.kill()


def leftovers(results) -> None:
    """In a process of its own, so that the only processes it has started are these."""
    server = subprocess.Popen(SLEEPER)
    sampler = Sampler(server.pid)
    stray, helper = subprocess.Popen(["sleep", "60"]), subprocess.Popen(SLEEPER)
    killed = sampler.kill_leftovers()
    results.put((killed, stray.wait(timeout=10), helper.poll(), server.poll()))
    helper.kill()
    server.kill()


def test_kill_leftovers_spares_the_server_and_python():
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    process = ctx.Process(target=leftovers, args=(results,))
    process.start()
    killed, stray, helper, server = results.get(timeout=30)
    process.join(timeout=10)
    assert killed == ["sleep"]
    assert stray == -9
    assert helper is None and server is None
