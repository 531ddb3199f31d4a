"""The browsers' share of the CPU: below the server, as if each ran on a device of its own, and
optionally capped in all, as on a slower machine."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import psutil

CPU_CGROUPS = Path("/sys/fs/cgroup/cpu")  # cgroup v1's cpu controller, as on this project's machine


def yield_to_server() -> None:
    """Give this worker's Chromium the lowest CPU priority. Playwright starts Chromium in a session
    of its own (setsid); Linux's autogroups (on by default) share the CPU between sessions first and
    by niceness only within one, and Chromium sets its threads' niceness itself (0, or -8 as root).
    So the niceness goes to the browser's session (its autogroup), where every renderer it starts
    later lands too. psutil has no call for an autogroup's niceness: it is written to /proc."""
    browsers = []
    for process in psutil.Process().children(recursive=True):
        try:
            if process.name() == "chromium":
                browsers.append(process.pid)
        except psutil.NoSuchProcess:  # gone since the listing
            pass
    problem = None if browsers else "no Chromium process found"
    for pid in browsers:
        try:
            Path(f"/proc/{pid}/autogroup").write_text("19")
        except OSError as error:
            problem = error
    if problem:
        print(f"the browsers keep their priority: {problem}", file=sys.stderr)


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


def join_cgroup(group: str) -> None:
    """Move this process into ``group``; every process it starts later is in it too."""
    Path(group, "cgroup.procs").write_text(str(os.getpid()))


def remove_cgroup(group: Path) -> None:
    """Remove the browsers' cgroup once the processes killed at the end have left it."""
    for _ in range(100):
        try:
            group.rmdir()
            return
        except OSError:
            time.sleep(0.1)
    print(f"could not remove {group}", file=sys.stderr)
