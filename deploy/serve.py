"""PoolScope for many classes on one machine: N Streamlit replicas behind nginx, sticky per browser.

    python deploy/serve.py --replicas 2 --port 8080

Starts ``streamlit run app.py`` N times (headless, each on a port of its own on 127.0.0.1, all with
the same ``server.cookieSecret``), waits until each answers ``/_stcore/health``, then runs Debian's
nginx in front of them on ``--port`` with a configuration written from ``deploy/nginx.conf.template``
into a temporary directory (its pid, logs and buffers live there too). Prints the URL. Ctrl-C or
SIGTERM stops nginx and every replica. A replica that dies is reported and not restarted: nginx
sends its browsers to the others, and a restarted one would take back requests (uploads) of
sessions that now live elsewhere.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
ROUTE_COOKIE = "poolscope_route"
REPLICA_HEADER = "X-PoolScope-Replica"


class NginxTemplate(string.Template):
    delimiter = "@"  # nginx's own variables start with $


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def max_upload_mb() -> int:
    """``server.maxUploadSize`` as the replicas will read it (config files, environment)."""
    from streamlit import config

    cwd = os.getcwd()
    os.chdir(ROOT)  # Streamlit reads .streamlit/config.toml from the working directory
    try:
        config.get_config_options(force_reparse=True)
        return int(config.get_option("server.maxUploadSize"))
    finally:
        os.chdir(cwd)


def nginx_config(prefix: Path, listen: str, replica_ports: list[int], upload_mb: int) -> str:
    """The nginx configuration for replicas on 127.0.0.1 at ``replica_ports``."""
    servers = "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;" for port in replica_ports)
    return NginxTemplate(TEMPLATE.read_text()).substitute(
        prefix=prefix, listen=listen, servers=servers, max_body=f"{upload_mb + 1}m")


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


@dataclass
class Replica:
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Deployment:
    """The replicas and nginx of one :func:`start`; ``url`` is the proxy's."""

    url: str
    replicas: list[Replica]
    nginx: subprocess.Popen | None = None
    workdir: Path | None = None
    reported: set = field(default_factory=set)

    def stop(self) -> None:
        """Stop nginx and every replica (SIGTERM, then SIGKILL after 15 s) and remove the work files."""
        processes = [p for p in [self.nginx, *(r.process for r in self.replicas)] if p is not None]
        for process in processes:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 15
        for process in processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def nginx_log(self) -> str:
        """The end of nginx's error log (the directory holding it goes when the deployment stops)."""
        try:
            return " / ".join((self.workdir / "error.log").read_text().strip().splitlines()[-3:]) or "no error logged"
        except (OSError, TypeError):
            return "no error log"

    def watch(self) -> str | None:
        """Report replicas that have exited since the last call; why the whole must stop, if it must."""
        for replica in self.replicas:
            code = replica.process.poll()
            if code is not None and replica.port not in self.reported:
                self.reported.add(replica.port)
                print(f"replica on port {replica.port} exited ({code}); its browsers move to the others", flush=True)
        if self.nginx is not None and self.nginx.poll() is not None:
            return f"nginx exited ({self.nginx.returncode}): {self.nginx_log()}"
        if len(self.reported) == len(self.replicas):
            return "every replica has exited"
        return None


def pinned_to(core: int):
    """For ``Popen(preexec_fn=...)``: the child and every thread it starts run on ``core`` only."""
    return lambda: os.sched_setaffinity(0, {core})


def start_replicas(count: int, cookie_secret: str, timeout: float = 120, pin: bool = False) -> list[Replica]:
    """``count`` headless replicas of the app on free ports, returned once every one is healthy;
    with ``pin``, replica i runs on the i-th core this process may use (modulo their count). Their
    standard output (which names each replica's own URL) is dropped; their log goes to standard error."""
    cores = sorted(os.sched_getaffinity(0))
    env = {**os.environ, "STREAMLIT_SERVER_COOKIE_SECRET": cookie_secret}  # not on the command line, where ps shows it
    replicas = []
    for i in range(count):
        port = free_port()
        command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                   "--server.address", "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none",
                   "--browser.gatherUsageStats", "false"]
        preexec = pinned_to(cores[i % len(cores)]) if pin else None
        replicas.append(Replica(port, subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                                       preexec_fn=preexec)))
    deadline = time.monotonic() + timeout
    waiting = list(replicas)
    try:
        while waiting:
            waiting = [r for r in waiting if not healthy(r.url)]
            for replica in waiting:
                if replica.process.poll() is not None:
                    raise RuntimeError(f"the replica on port {replica.port} exited ({replica.process.returncode})")
            if waiting and time.monotonic() > deadline:
                raise RuntimeError(f"replicas on ports {[r.port for r in waiting]} not healthy within {timeout:g} s")
            if waiting:
                time.sleep(0.3)
    except BaseException:
        Deployment("", replicas).stop()
        raise
    return replicas


def start_nginx(workdir: Path, listen: str, replica_ports: list[int], upload_mb: int,
                nginx: str = "nginx") -> subprocess.Popen:
    """Debian's nginx in the foreground with its configuration and files in ``workdir``."""
    binary = shutil.which(nginx) or shutil.which(nginx, path="/usr/sbin:/sbin")
    if binary is None:
        raise RuntimeError("nginx is not installed: apt-get install nginx")
    conf = workdir / "nginx.conf"
    conf.write_text(nginx_config(workdir, listen, replica_ports, upload_mb))
    # As root nginx's workers run as nobody, who must reach the buffer directories inside workdir.
    workdir.chmod(0o711)
    command = [binary, "-p", str(workdir), "-c", str(conf), "-e", str(workdir / "error.log")]
    checked = subprocess.run([*command, "-t", "-q"], capture_output=True, text=True)
    if checked.returncode:
        raise RuntimeError(f"nginx refused its configuration: {checked.stderr.strip()}")
    return subprocess.Popen(command)


def start(replicas: int = 2, port: int = 8080, host: str = "0.0.0.0", cookie_secret: str | None = None,
          pin: bool = False) -> Deployment:
    """Replicas (pinned to a core each with ``pin``) and nginx on ``host:port``, healthy; stop them
    with :meth:`Deployment.stop`."""
    if replicas < 1:
        raise ValueError("at least one replica")
    cookie_secret = cookie_secret or secrets.token_urlsafe(32)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    deployment = Deployment(f"http://{shown_host}:{port}", [])
    try:
        deployment.replicas = start_replicas(replicas, cookie_secret, pin=pin)
        deployment.workdir = Path(tempfile.mkdtemp(prefix="poolscope-nginx-"))
        deployment.nginx = start_nginx(deployment.workdir, f"{host}:{port}" if host else str(port),
                                       [r.port for r in deployment.replicas], max_upload_mb())
        deadline = time.monotonic() + 10
        while not healthy(deployment.url):
            if deployment.nginx.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not answer on {deployment.url}: {deployment.nginx_log()}")
            time.sleep(0.1)
    except BaseException:
        deployment.stop()
        raise
    return deployment


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2, help="Streamlit processes (about one per core)")
    parser.add_argument("--port", type=int, default=8080, help="the port browsers connect to")
    parser.add_argument("--host", default="0.0.0.0", help="the address nginx listens on (0.0.0.0: every one)")
    parser.add_argument("--cookie-secret", default=os.environ.get("POOLSCOPE_COOKIE_SECRET"),
                        help="shared by every replica (default: $POOLSCOPE_COOKIE_SECRET, else a new random one)")
    parser.add_argument("--pin", action="store_true", help="hold replica i to core i (on a machine of its own)")
    args = parser.parse_args(argv)
    if args.replicas < 1:
        parser.error("--replicas must be at least 1")
    return args


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    args = parse_args(argv)
    # SIGTERM (from systemd, docker or kill) stops everything as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"starting {args.replicas} replica(s) and nginx ...", flush=True)
    try:
        deployment = start(args.replicas, args.port, args.host, args.cookie_secret, pin=args.pin)
    except (RuntimeError, OSError) as error:
        print(f"could not start: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    print(f"PoolScope is served at {deployment.url} by replicas on ports "
          f"{', '.join(str(r.port) for r in deployment.replicas)}; Ctrl-C stops it", flush=True)
    try:
        while (problem := deployment.watch()) is None:
            time.sleep(1)
        print(problem, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopping ...", flush=True)
        return 0
    finally:
        deployment.stop()


if __name__ == "__main__":
    sys.exit(main())
