"""Helpers for the real-browser tests: a streamlit server on a free port, Chromium, waiting."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "tests" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def require_browser():
    """Playwright's ``expect``. Where Playwright or Debian's Chromium is missing, the calling test
    module is skipped, saying why, or fails when ``POOLSCOPE_BROWSER_TESTS=required`` (``.ci/run``)."""
    missing = None
    try:
        from playwright.sync_api import expect
    except ImportError:
        missing = "Playwright is missing: pip install -r requirements-dev.txt"
    if missing is None and not Path(CHROMIUM).exists():
        missing = f"no Chromium at {CHROMIUM}: apt-get install chromium (as root), as .ci/run does"
    if missing is None:
        return expect
    if os.environ.get("POOLSCOPE_BROWSER_TESTS") == "required":
        pytest.fail(missing, pytrace=False)
    pytest.skip(missing, allow_module_level=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, root: Path = ROOT, log=subprocess.DEVNULL) -> subprocess.Popen:
    """``streamlit run app.py`` in ``root`` (this checkout, or another for a comparison) on ``port``,
    its output going to ``log``; returns once its health check answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=root, stdout=log, stderr=log, env={**os.environ},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("streamlit did not start within 60 s")


@contextmanager
def served(log=subprocess.DEVNULL):
    """The app served on a free port for the block, its output going to ``log``; its URL."""
    port = free_port()
    process = start_server(port, log=log)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)


def wait_idle(page, timeout: float = 30_000) -> None:
    """Wait until the script has finished its run and Plotly has drawn."""
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", state="attached",
                           timeout=timeout)
    page.wait_for_function("document.querySelectorAll(\"[data-testid='stSkeleton']\").length === 0",
                           timeout=timeout)
    page.wait_for_timeout(300)


def python_panel(page):
    """Explore's arithmetic of the pinned cell, written by Python (the inspector shows the hovered one)."""
    return page.locator("xpath=//*[@data-testid='stMain']//*[@data-testid='stCode']"
                        "[not(ancestor::*[@data-testid='stExpander'])]")  # not the PyTorch code below


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
