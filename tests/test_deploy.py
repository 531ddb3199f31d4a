"""Two replicas behind ``deploy/serve.py``'s nginx, in Chromium: sessions spread over both, uploads
reach the replica that holds their session, and when one replica dies its sessions carry on in the
other with the view their URL holds."""

import io
import os
import re
import shutil
import urllib.error
import urllib.request

import numpy as np
import pytest
from PIL import Image

from deploy import serve
from pages.ui.i18n import text_in
from pooling_core import load_image, pool2d
from pooling_core.explain import window_report
from tests.browser import python_panel, require_browser, screenshot, wait_idle

expect = require_browser()
pytestmark = pytest.mark.browser

SESSIONS_PER_REPLICA = 2
STRIDE = 2  # the app's default


@pytest.fixture(scope="module")
def deployment():
    if not (shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")):
        message = "nginx is missing: apt-get install nginx (as root), as .ci/run does"
        if os.environ.get("POOLSCOPE_BROWSER_TESTS") == "required":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    running = serve.start(replicas=2, port=serve.free_port(), host="127.0.0.1")
    yield running
    running.stop()


def replica_for(url: str, route: str) -> str:
    """The replica (host:port) nginx sends a browser with this route cookie to."""
    request = urllib.request.Request(f"{url}/_stcore/health", headers={"Cookie": f"{serve.ROUTE_COOKIE}={route}"})
    with urllib.request.urlopen(request, timeout=5) as reply:
        return reply.headers[serve.REPLICA_HEADER]


def active_sessions(replica: serve.Replica) -> int:
    with urllib.request.urlopen(f"{replica.url}/_stcore/metrics", timeout=5) as reply:
        return int(re.search(r"^active_sessions (\d+)$", reply.read().decode(), re.M).group(1))


def routes_per_replica(deployment) -> dict[int, list[str]]:
    """Route cookies that put ``SESSIONS_PER_REPLICA`` browsers on each replica (by its port)."""
    routes = {replica.port: [] for replica in deployment.replicas}
    for i in range(200):
        port = int(replica_for(deployment.url, f"student-{i}").rsplit(":", 1)[1])
        if len(routes[port]) < SESSIONS_PER_REPLICA:
            routes[port].append(f"student-{i}")
        if all(len(found) == SESSIONS_PER_REPLICA for found in routes.values()):
            return routes
    raise AssertionError(f"200 cookies did not reach every replica: {routes}")


def student_image(n: int) -> bytes:
    """A grayscale PNG of its own size and values: 5 + n rows, 6 columns."""
    pixels = (np.arange((5 + n) * 6).reshape(5 + n, 6) * 7 + 31 * n) % 256
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def arithmetic(png: bytes, kernel: int, cell: tuple[int, int]) -> str:
    """What Explore's pinned-cell panel shows for max pooling of the image, by the library."""
    x = load_image(png).pixels
    return window_report(pool2d(x, "max", kernel_size=kernel, stride=STRIDE), x, *cell).text


def next_cell(png: bytes, kernel: int, cell: tuple[int, int]) -> tuple[int, int]:
    """The output cell after ``cell`` in reading order, as the inspector's Next button steps."""
    cols = pool2d(load_image(png).pixels, "max", kernel_size=kernel, stride=STRIDE).output.shape[-1]
    return divmod(cell[0] * cols + cell[1] + 1, cols)


def expect_no_error(page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)


class Student:
    def __init__(self, browser, url: str, route: str, n: int, tmp_path):
        self.n, self.kernel = n, 3 + n % 2  # not the default 2, so the URL holds it
        self.lang = ("en", "zh")[n % 2]
        self.png = student_image(n)
        self.path = tmp_path / f"student{n}.png"
        self.path.write_bytes(self.png)
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.context.add_cookies([{"name": serve.ROUTE_COOKIE, "value": route, "url": url}])
        self.page = self.context.new_page()
        self.url, self.cell = url, (0, 0)

    def open_and_upload(self) -> None:
        page = self.page
        page.goto(f"{self.url}/?source=upload&kernel={self.kernel}&lang={self.lang}")
        wait_idle(page)
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(self.path))
        wait_idle(page)
        self.expect_shape()
        expect(python_panel(page)).to_have_text(arithmetic(self.png, self.kernel, (0, 0)))
        expect_no_error(page)

    def expect_shape(self) -> None:
        """The inspector titles the input with the image's shape."""
        title = text_in(self.lang, "inspector.input_title", rows=5 + self.n, cols=6)
        expect(self.page.get_by_text(title, exact=True)).to_be_visible()

    def step(self) -> None:
        """Press Next once: the pinned cell moves on, the URL holds it and the server answers with its
        arithmetic."""
        self.cell = row, col = next_cell(self.png, self.kernel, self.cell)
        self.page.locator("[data-role='next']").click()
        expect(self.page).to_have_url(re.compile(rf"cell={row}%2C{col}"))
        wait_idle(self.page)
        expect(python_panel(self.page)).to_have_text(arithmetic(self.png, self.kernel, self.cell))
        expect_no_error(self.page)


def test_sessions_spread_over_both_replicas_and_survive_the_loss_of_one(browser, deployment, tmp_path):
    routes = routes_per_replica(deployment)
    students = {port: [Student(browser, deployment.url, route, n, tmp_path)
                       for n, route in enumerate(found, start=i * SESSIONS_PER_REPLICA)]
                for i, (port, found) in enumerate(routes.items())}
    everyone = [s for group in students.values() for s in group]
    try:
        for student in everyone:
            student.open_and_upload()
            student.step()
        for replica in deployment.replicas:
            assert active_sessions(replica) == SESSIONS_PER_REPLICA
        screenshot(everyone[0].page, "deploy_before_failover")

        lost, kept = deployment.replicas
        lost.process.kill()
        lost.process.wait()
        for _ in range(100):  # the browsers reconnect on their own, through the proxy
            if active_sessions(kept) == len(everyone):
                break
            everyone[0].page.wait_for_timeout(200)
        assert active_sessions(kept) == len(everyone)

        for student in students[kept.port]:  # untouched: the next step is answered as before
            student.step()
        for student in students[lost.port]:
            page = student.page
            language = "(?=.*lang=)" if student.lang == "zh" else ""  # English is the browser's, not in the URL
            expect(page).to_have_url(re.compile(rf"(?=.*kernel={student.kernel})(?=.*cell=0%2C1){language}"))
            assert student.cell == (0, 1)
            expect_no_error(page)
            # The image lived in the lost replica's memory; the student picks it again, the upload
            # reaches the replica that now holds the session, and the URL's view comes back.
            again = student.path.with_name(f"again{student.n}.png")
            again.write_bytes(student.png)
            page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(again))
            wait_idle(page)
            student.expect_shape()
            expect(python_panel(page)).to_have_text(arithmetic(student.png, student.kernel, student.cell))
            expect_no_error(page)
            student.step()
        for student in students[lost.port]:
            screenshot(student.page, f"deploy_after_failover_{student.lang}")
    finally:
        for student in everyone:
            student.context.close()


def test_the_proxy_limits_a_browser_s_uploads(deployment):
    """Three uploads at once per browser, then one every 20 s: from the fourth in a row on, nginx
    answers 429 itself (the replica refuses these made-up requests too, with another code)."""
    statuses = []
    for i in range(6):
        request = urllib.request.Request(f"{deployment.url}/_stcore/upload_file/no-session/file{i}", data=b"x",
                                         method="PUT", headers={"Cookie": f"{serve.ROUTE_COOKIE}=uploader"})
        try:
            with urllib.request.urlopen(request, timeout=5) as reply:
                statuses.append(reply.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
    assert 429 not in statuses[:3] and statuses[3:] == [429] * 3, statuses
