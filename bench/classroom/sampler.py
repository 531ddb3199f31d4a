"""The server's memory and CPU while the class works, and the processes a run leaves behind."""

from __future__ import annotations

import sys
import threading

import psutil


def rss(process: psutil.Process) -> int:
    """Resident memory in bytes, 0 for a process that has exited."""
    try:
        return process.memory_info().rss
    except psutil.NoSuchProcess:
        return 0


class Sampler(threading.Thread):
    """Every ``interval`` s: the server tree's RSS (peak kept), the server's CPU time, and every
    other process this one has started (to kill at the end whatever is still running)."""

    def __init__(self, server_pid: int, interval: float = 0.5):
        super().__init__(daemon=True)
        self.server, self.interval = psutil.Process(server_pid), interval
        self.stop_event = threading.Event()
        self.peak_server_rss = 0
        self.server_cpu = 0.0  # user + system seconds of the server process itself
        self.started: set[psutil.Process] = set()  # a Process is its pid and start time: no pid reuse
        self.lock = threading.Lock()
        self.sample()

    def sample(self) -> None:
        try:
            tree = [self.server, *self.server.children(recursive=True)]
            times = self.server.cpu_times()
        except psutil.NoSuchProcess:  # the server has exited: nothing more to add
            tree, times = [], None
        total = sum(rss(process) for process in tree)
        others = set(psutil.Process().children(recursive=True)).difference(tree)
        with self.lock:
            self.peak_server_rss = max(self.peak_server_rss, total)
            if times is not None:
                self.server_cpu = times.user + times.system
            self.started.update(others)

    def run(self) -> None:
        while not self.stop_event.wait(self.interval):
            try:
                self.sample()
            except Exception as error:  # sampling must never end the run
                print(f"sampler: {error!r}", file=sys.stderr)

    def kill_leftovers(self) -> list[str]:
        """SIGKILL every process this run started that is still running; the names of those killed.
        Python processes are spared: the workers (joined before) and multiprocessing's helper."""
        self.sample()
        killed: list[str] = []
        with self.lock:
            for process in self.started:
                try:
                    if not process.is_running():
                        continue
                    name = process.name()
                    if not name.startswith("python"):
                        process.kill()
                        killed.append(name)
                except psutil.Error:  # exited meanwhile, or not ours to kill
                    pass
        return killed
