"""bench/capacity.py's simulated students against a served app: they get the library's answers,
see only their own markers, and an abusive session does not break them."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench import capacity
from bench.classroom.grids import marker
from tests.browser import served


def in_a_thread(coroutine):
    """Run ``coroutine`` on an event loop of its own: Playwright's sync tests, earlier in the same
    process, leave one running in this thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="module")
def app_url():
    with served() as url:
        in_a_thread(capacity.warm_up(url, capacity.parse_args([])))  # the library's first import
        yield url


def run(url: str, *options: str) -> dict:
    args = capacity.parse_args(["--url", url, "--step", "0", "--think-min", "0.3", "--think-max", "0.8", *options])
    return in_a_thread(capacity.ramp(url, args, []))


def test_a_few_students_get_their_own_answers(app_url):
    result = run(app_url, "--start", "4", "--step-seconds", "8")
    (level,) = result["levels"]
    assert level["sessions"] == 4
    assert level["answers"] >= 8  # about one every 0.55 s each, counted over the last 6 s
    assert result["errors"] == 0, result["error_examples"]
    assert result["violations"] == 0, result["violation_examples"]
    assert 0 < level["p95_s"] < 5


def test_a_foreign_marker_or_a_wrong_answer_is_counted():
    student = capacity.Student(3, "http://unused", capacity.parse_args([]), {})
    right = capacity.expected(3, 0, "max", 2)
    student.check("grid", capacity.Answer(0.1, [right, f"max({marker(7)}, 1) = {marker(7)}"]))
    assert student.record.violations == [f"grid: markers of other sessions [{marker(7)}]"]
    student.check("kernel", capacity.Answer(0.1, ["max(1, 2) = 2"]))
    assert student.record.errors == [f"kernel: wanted {right!r}, got 'max(1, 2) = 2'"]


def test_an_abusive_session_does_not_break_the_others(app_url):
    result = run(app_url, "--abuse", "3", "--step-seconds", "8", "--flood", "20", "--upload-mb", "2")
    first, second = result["levels"]
    assert not first["abusive"] and second["abusive"]
    assert second["answers"] >= 6
    assert result["errors"] == 0, result["error_examples"]
    assert result["violations"] == 0
    abuse = result["abuse"]
    assert abuse["malformed"] >= 5 and abuse["flood"] >= 40 and abuse["uploads"] >= 1, abuse
    assert abuse["upload_failures"] == []
