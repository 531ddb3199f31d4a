"""Explore's inspector in a real Chromium: hover, play, keys and pins; screenshots are saved."""

import re
import time

import pytest

from tests.browser import python_panel, require_browser, screenshot, wait_idle

expect = require_browser()
pytestmark = pytest.mark.browser

LIT_CELLS = "els => els.map(e => [Number(e.dataset.row), Number(e.dataset.col)])"


def open_explore(page, app_url, query: str = ""):
    page.goto(f"{app_url}/?{query}")
    wait_idle(page)
    page.locator("[data-cell='out']").first.wait_for()


def cell(page, side: str, row: int, col: int):
    return page.locator(f"[data-cell='{side}'][data-row='{row}'][data-col='{col}']")


def lit(page, side: str) -> set[tuple[int, int]]:
    return {tuple(rc) for rc in page.locator(f"[data-cell='{side}'][data-lit='1']").evaluate_all(LIT_CELLS)}


def current(page) -> tuple[int, int]:
    [rc] = page.locator("[data-cell='out'][data-current='1']").evaluate_all(LIT_CELLS)
    return tuple(rc)


def test_hovering_an_output_lights_its_window_and_shows_its_arithmetic(page, app_url):
    open_explore(page, app_url)  # the textbook 4x4, max 2x2
    cell(page, "out", 0, 1).hover()
    expect(page.locator("[data-role='arithmetic']")).to_have_text("max(2, 4, 7, 8) = 8")
    assert lit(page, "in") == {(0, 2), (0, 3), (1, 2), (1, 3)}
    expect(page.locator("[data-cell='in'][data-winner='1']")).to_have_attribute("data-row", "1")
    screenshot(page, "inspector_hover_output")
    page.mouse.move(5, 5)  # leaving shows the pinned cell again
    expect(page.locator("[data-role='arithmetic']")).to_have_text("max(1, 1, 5, 6) = 6")
    assert lit(page, "in") == {(0, 0), (0, 1), (1, 0), (1, 1)}


def test_hovering_an_input_lights_every_output_that_reads_it(page, app_url):
    open_explore(page, app_url, "example=Random+8x8&kernel=3&stride=1")  # 6x6 outputs of overlapping windows
    cell(page, "in", 1, 1).hover()
    assert lit(page, "out") == {(i, j) for i in range(2) for j in range(2)}
    expect(page.locator("[data-role='status']")).to_have_text("Input (1, 1): read by 4 windows")
    cell(page, "in", 4, 4).hover()  # read by the windows starting at rows and columns 2..4
    assert lit(page, "out") == {(i, j) for i in range(2, 5) for j in range(2, 5)}
    expect(page.locator("[data-role='status']")).to_have_text("Input (4, 4): read by 9 windows")
    screenshot(page, "inspector_hover_input_overlapping")


def test_cells_no_window_reads_are_marked(page, app_url):
    open_explore(page, app_url, "kernel=3")  # 4x4 input, kernel 3, stride 3: one window, rows and columns 0..2
    unread = page.locator("[data-cell='in'][data-unread='1']").evaluate_all(LIT_CELLS)
    assert sorted(map(tuple, unread)) == sorted({(r, 3) for r in range(4)} | {(3, c) for c in range(3)})
    cell(page, "in", 3, 3).hover()
    expect(page.locator("[data-role='status']")).to_have_text("Input (3, 3): read by no window")


def test_play_runs_in_the_browser_until_paused_without_a_request(page, app_url):
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(time.monotonic())))
    open_explore(page, app_url, "example=Random+8x8&kernel=2&stride=1")  # 7x7 outputs
    play = page.locator("[data-role='play']")
    play.click()
    before = len(sent)
    seen = [current(page)]
    start = time.monotonic()
    while time.monotonic() - start < 4:
        page.wait_for_timeout(100)
        if current(page) != seen[-1]:
            seen.append(current(page))
    assert len(seen) - 1 >= 5, seen  # at 2 cells a second, about 8
    assert seen[:3] == [(0, 0), (0, 1), (0, 2)]
    page.wait_for_timeout(1500)
    still = current(page)
    assert still != seen[-1], "play stopped by itself"
    assert len(sent) == before, "playing sent a frame to the server"
    play.click()  # pause: the cell reached is pinned and sent, once
    wait_idle(page)
    paused = current(page)
    page.wait_for_timeout(1200)
    assert current(page) == paused
    expect(page.get_by_label("Output column")).to_have_value(str(paused[1]))
    screenshot(page, "inspector_paused")


def test_arrow_keys_and_buttons_step_and_the_pin_reaches_python(page, app_url):
    open_explore(page, app_url)
    cell(page, "out", 0, 0).click()  # focuses the inspector
    page.mouse.move(5, 5)
    page.keyboard.press("ArrowRight")
    assert current(page) == (0, 1)
    expect(page.locator("[data-role='arithmetic']")).to_have_text("max(2, 4, 7, 8) = 8")
    expect(python_panel(page)).to_have_text("max(2, 4, 7, 8) = 8")  # the pin reached Python
    expect(page.get_by_label("Output column")).to_have_value("1")
    page.keyboard.press("ArrowDown")
    assert current(page) == (1, 1)
    page.locator("[data-role='previous']").click()
    assert current(page) == (1, 0)
    page.locator("[data-role='next']").click()
    page.locator("[data-role='next']").click()  # wraps around to the first cell
    assert current(page) == (0, 0)
    cell(page, "out", 1, 1).click()
    expect(python_panel(page)).to_have_text("max(1, 0, 3, 4) = 4")
    expect(page.get_by_text("Pinned output cell (1, 1):")).to_be_visible()
    expect(page.get_by_label("Output row")).to_have_value("1")
    page.mouse.move(5, 5)
    wait_idle(page)
    assert current(page) == (1, 1)  # the rerun's data keeps the pin
    screenshot(page, "inspector_pinned")


def test_a_photo_shows_pictures_and_its_pinned_window(page, app_url):
    open_explore_photo = "example=Landscape+photo&kernel=4&stride=4"
    page.goto(f"{app_url}/?{open_explore_photo}")
    wait_idle(page)
    output = page.locator("[data-picture='out'] img")
    output.wait_for()
    box = output.bounding_box()
    output.click(position={"x": box["width"] * 10.5 / 64, "y": box["height"] * 20.5 / 64})
    wait_idle(page)
    expect(page.get_by_label("Output row")).to_have_value("20")
    expect(page.get_by_label("Output column")).to_have_value("10")
    expect(page.locator("[data-role='arithmetic']")).to_have_text(python_panel(page).inner_text())
    expect(page.locator("[data-picture='in'] .mark-lit")).to_have_count(1)
    screenshot(page, "inspector_photo")


def test_the_inspector_follows_the_dark_theme(browser, app_url):
    page = browser.new_page(color_scheme="dark", viewport={"width": 1400, "height": 1000})
    open_explore(page, app_url)
    colour = page.locator("[data-role='status']").evaluate("e => getComputedStyle(e).color")
    red, green, blue = (int(v) for v in colour[colour.index("(") + 1:colour.index(")")].split(",")[:3])
    assert min(red, green, blue) > 180, colour  # light text on Streamlit's dark background
    font = cell(page, "in", 0, 0).evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert font >= 14  # readable on a projector
    screenshot(page, "inspector_dark")
    page.close()


def test_a_padded_window_lights_its_dotted_padding_and_shows_the_weights(page, app_url):
    open_explore(page, app_url, "op=avg&kernel=3&stride=1&padding=1")
    cell(page, "out", 0, 1).hover()
    expect(page.locator("[data-role='arithmetic']")).to_have_text("(1 + 1 + 2 + 5 + 6 + 7) / 9 = 2.444")
    assert lit(page, "in") == {(r, c) for r in (0, 1) for c in (0, 1, 2)}
    assert lit(page, "pad") == {(-1, 0), (-1, 1), (-1, 2)}  # the row of padding above the input
    expect(page.locator("[data-cell='pad']")).to_have_count(20)  # the ring around 4x4
    expect(cell(page, "in", 1, 2).locator(".w")).to_have_text("×0.111")
    screenshot(page, "inspector_padding_weights")


def test_the_url_keeps_the_pinned_cell(page, app_url):
    open_explore(page, app_url, "kernel=2&stride=1")
    cell(page, "out", 2, 1).click()
    expect(python_panel(page)).to_have_text("max(2, 1, 2, 3) = 3")
    expect(page).to_have_url(re.compile(r"cell=2%2C1|cell=2,1"))
    page.reload()
    wait_idle(page)
    page.locator("[data-cell='out']").first.wait_for()
    expect(python_panel(page)).to_have_text("max(2, 1, 2, 3) = 3")
    assert current(page) == (2, 1)


def test_the_inspector_speaks_chinese(page, app_url):
    open_explore(page, app_url, "lang=zh&kernel=3&stride=1")
    expect(page.locator("[data-role='play']")).to_have_text("▶ 播放")
    cell(page, "in", 1, 1).hover()
    expect(page.get_by_text("输入 (1, 1)：被 4 个窗口读取")).to_be_visible()
    page.mouse.move(5, 5)
    page.locator("[data-role='play']").click()
    expect(page.locator("[data-role='play']")).to_have_text("⏸ 暂停")
    page.mouse.move(5, 5)
    page.wait_for_timeout(2500)  # 2 cells a second: several steps, all in the browser
    assert current(page) != (0, 0)
    expect(page.get_by_text(re.compile(r"^输出 \(\d, \d\).* · 播放中$"))).to_be_visible()
    page.locator("[data-role='play']").click()
    expect(page.locator("[data-role='play']")).to_have_text("▶ 播放")
    screenshot(page, "zh_inspector")


def gradient_cells(page) -> dict[tuple[int, int], str]:
    cells = page.locator("[data-cell='in'][data-gradient='1']")
    return {(int(c.get_attribute("data-row")), int(c.get_attribute("data-col"))): c.locator(".w").inner_text()
            for c in cells.all()}


def test_the_gradients_page_lights_where_a_hovered_output_sends_its_gradient(page, app_url):
    page.goto(f"{app_url}/gradients?op=avg&kernel=3&stride=2&padding=1")  # 2x2 outputs, overlapping windows
    wait_idle(page)
    cell(page, "out", 1, 1).hover()
    assert gradient_cells(page) == {(r, c): "∂ 0.111" for r in (1, 2, 3) for c in (1, 2, 3)}
    expect(page.locator("[data-role='status']")).to_contain_text("its gradient reaches 9 input cells")
    screenshot(page, "gradients_inspector_avg")
    page.get_by_text("Selected output cell only").click()
    wait_idle(page)
    cell(page, "out", 0, 1).click()  # the pin moves the upstream's single 1 to output (0, 1)
    wait_idle(page)
    expect(page).to_have_url(re.compile(r"cell=0%2C1|cell=0,1"))
    # Its window holds 6 input cells and 3 of padding, which keep their 3/9 of the gradient.
    expect(page.get_by_test_id("stMetricValue").nth(1)).to_have_text("0.6667")
    page.goto(f"{app_url}/gradients?op=max&lang=zh")
    wait_idle(page)
    cell(page, "out", 0, 1).hover()
    assert gradient_cells(page) == {(1, 3): "∂ 1"}  # max sends everything to its winner, 8
    expect(page.locator("[data-role='status']")).to_contain_text("它的梯度传到 1 个输入单元格")
    screenshot(page, "zh_gradients_inspector_max")
