"""The flows a person uses, in a real Chromium against ``streamlit run``; screenshots are saved."""

import re

import pytest

from tests.browser import ROOT, python_panel, require_browser, screenshot, served, wait_idle

expect = require_browser()
pytestmark = pytest.mark.browser


def test_explore_typed_grid_click_shows_window_arithmetic(page, app_url):
    page.goto(app_url)
    wait_idle(page)
    page.get_by_text("Type a grid").click()
    wait_idle(page)
    grid = page.get_by_role("textbox", name="Grid: one row per line")
    grid.fill("1 1 2 4\n5 6 7 8\n3 2 1 0\n1 2 3 9")
    grid.press("Control+Enter")
    wait_idle(page)
    expect(python_panel(page)).to_have_text("max(1, 1, 5, 6) = 6")

    page.locator("[data-cell='out'][data-row='1'][data-col='1']").click()
    page.mouse.move(5, 5)  # the inspector shows a hovered cell before the pinned one
    wait_idle(page)
    expect(python_panel(page)).to_have_text("max(1, 0, 3, 9) = 9")
    row, column = page.get_by_label("Output row"), page.get_by_label("Output column")
    expect(row).to_have_value("1")
    expect(column).to_have_value("1")
    screenshot(page, "explore_typed_grid_click")
    row.fill("0")
    row.press("Enter")
    wait_idle(page)
    expect(python_panel(page)).to_have_text("max(2, 4, 7, 8) = 8")
    expect(page.locator("[data-role='arithmetic']")).to_have_text("max(2, 4, 7, 8) = 8")  # the inspector follows

    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Example", exact=True).click()
    wait_idle(page)
    sidebar.get_by_text("Type a grid", exact=True).click()
    wait_idle(page)
    expect(grid).to_have_value("1 1 2 4\n5 6 7 8\n3 2 1 0\n1 2 3 9")  # the typed grid is not lost


@pytest.mark.parametrize("token, rendered", [("<b>2</b>", "b"), ("*2*$x$", "em, .katex")])
def test_typed_markup_is_shown_as_text_not_rendered(page, app_url, token, rendered):
    page.goto(f"{app_url}/?source=Type+a+grid")
    wait_idle(page)
    grid = page.get_by_role("textbox", name="Grid: one row per line")
    grid.fill(f"1 {token}")
    grid.press("Control+Enter")
    wait_idle(page)
    alert = page.get_by_test_id("stAlert").first
    expect(alert).to_have_text(f"'{token}' on line 1 is not a number.")
    expect(page.get_by_test_id("stMain").locator(rendered)).to_have_count(0)
    expect(grid).to_have_value(f"1 {token}")


def set_slider(page, index: int, presses: int) -> None:
    handle = page.locator("[data-testid='stSlider'] input[type='range']").nth(index)
    handle.focus()
    for _ in range(presses):
        handle.press("ArrowRight")
    wait_idle(page)


def test_gradient_page_keeps_sidebar_settings_and_routes_to_one_cell(page, app_url):
    page.goto(app_url)
    wait_idle(page)
    set_slider(page, 0, 1)  # kernel 2 -> 3 on Explore
    expect(python_panel(page)).to_have_text("max(1, 1, 2, 5, 6, 7, 3, 2, 1) = 7")
    page.get_by_role("link", name="Gradient routing").click()
    wait_idle(page)
    expect(page.get_by_text("7 cells lie in no window")).to_be_visible()
    page.get_by_text("Selected output cell only").click()
    wait_idle(page)
    expect(page.get_by_test_id("stMetricValue").nth(1)).to_have_text("1")
    screenshot(page, "gradients_kernel3")


def test_unpooling_page_shows_reconstruction_table(page, app_url):
    page.goto(f"{app_url}/unpooling")
    wait_idle(page)
    expect(page.get_by_text("How close each way back gets")).to_be_visible()
    expect(page.locator(".js-plotly-plot")).to_have_count(2)  # unpooled and error; the inspector shows the rest
    page.locator("[data-cell='out'][data-row='0'][data-col='1']").hover()
    expect(page.locator("[data-role='arithmetic']")).to_have_text("max(2, 4, 7, 8) = 8")
    screenshot(page, "unpooling_textbook")


def test_stochastic_page_samples_and_shows_the_running_mean(page, app_url):
    page.goto(f"{app_url}/stochastic")
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"1000 draws.*seed 0"))).to_be_visible()
    page.get_by_role("button", name="Sample N times").click()
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"1000 draws.*seed 1"))).to_be_visible()
    expect(page.get_by_text("the eval output, their expectation, is 4.846")).to_be_visible()
    screenshot(page, "stochastic_sampling")


def test_weights_page_softpool_temperature_morphs_towards_max(page, app_url):
    page.goto(f"{app_url}/weights")
    wait_idle(page)
    expect(page.locator(".js-plotly-plot").filter(has_text="softpool: y = 5.685")).to_have_count(1)
    slider = page.get_by_test_id("stSlider").filter(has_text="SoftPool: log₁₀ temperature")
    temperature = slider.locator("input[type='range']")
    temperature.focus()
    for _ in range(50):  # log10 T from 0 to -3, in steps of 0.06
        temperature.press("ArrowLeft")
    wait_idle(page)
    expect(page.locator(".js-plotly-plot").filter(has_text="softpool: y = 6")).to_have_count(1)
    screenshot(page, "weights_softpool_cold")


def test_a_small_parameter_shows_its_own_value_and_takes_a_typed_one(page, app_url):
    page.goto(f"{app_url}/weights?op=dpp")
    wait_idle(page)
    epsilon = page.get_by_test_id("stSidebar").get_by_label("ε", exact=True)
    expect(epsilon).to_have_value("0.001")  # not 0.00
    epsilon.fill("0.0005")
    epsilon.press("Enter")
    wait_idle(page)
    expect(epsilon).to_have_value("0.0005")
    assert "dpp.eps=0.0005" in page.url


def test_pyramid_page_draws_levels_and_vector(page, app_url):
    page.goto(f"{app_url}/pyramid")
    wait_idle(page)
    expect(page.get_by_text("The pooled vector: 21 numbers")).to_be_visible()
    screenshot(page, "pyramid_levels")


def test_upload_photo_in_colour_shows_all_three_channels(page, app_url):
    page.goto(app_url)
    wait_idle(page)
    page.get_by_text("Upload an image").click()
    wait_idle(page)
    page.get_by_text("RGB, per channel").click()
    wait_idle(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(ROOT / "assets" / "landscape.png"))
    wait_idle(page)
    page.get_by_text("All three").click()
    wait_idle(page)
    expect(python_panel(page)).to_have_text([re.compile(rf"^{name}: max\(") for name in ("Red", "Green", "Blue")])
    arithmetic = re.compile(r"^Red: max\(.*\nGreen: max\(.*\nBlue: max\(")
    expect(page.locator("[data-role='arithmetic']")).to_have_text(arithmetic)
    screenshot(page, "explore_photo_all_channels")


@pytest.fixture(scope="module")
def fresh_server(tmp_path_factory):
    """A server no one has opened yet: its first visitor comes from a deep link. Its URL and log."""
    log = tmp_path_factory.mktemp("fresh_server") / "server.log"
    with log.open("w") as output, served(log=output) as url:
        yield url, log


def test_a_deep_link_to_a_fresh_server_opens_its_page_with_the_shared_sidebar(page, fresh_server):
    fresh_server_url, log = fresh_server
    page.goto(f"{fresh_server_url}/gradients?stride=100&op=avg&ceil_mode=1")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Gradient routing")).to_be_visible()
    expect(page.get_by_text("stride '100' is not available; using 9.")).to_be_visible()
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_role("link", name="Pooling weights")).to_be_visible()  # app.py's navigation
    expect(sidebar.get_by_role("combobox", name="Operator")).to_have_value("Average pooling")
    screenshot(page, "deep_link_fresh_server")
    page.get_by_text("Seeded random").click()  # from the first change on, the URL holds the link's view
    wait_idle(page)
    expect(page).to_have_url(re.compile(r"/gradients\?(?=.*op=Average\+pooling)(?=.*stride=9)(?=.*ceil_mode=true)"))
    expect(page.get_by_text("stride '100' is not available")).to_have_count(0)
    # The link's values reach the widgets through session state on purpose; Streamlit's warning
    # about it (with a stack trace) would fill the server's log once per process.
    assert "Session State API" not in log.read_text()
    assert "Traceback" not in log.read_text()


CHINESE_PAGES = {"": "探索池化", "stochastic": "随机池化", "weights": "池化权重", "gradients": "梯度流向",
                 "unpooling": "最大反池化", "pyramid": "金字塔与跨通道"}


@pytest.mark.parametrize("path", list(CHINESE_PAGES))
def test_every_page_in_chinese(page, app_url, path):
    page.goto(f"{app_url}/{path}?lang=zh")
    wait_idle(page)
    expect(page.get_by_role("heading", name=CHINESE_PAGES[path])).to_be_visible()
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("池化窗口（核大小）")).to_be_visible()
    expect(sidebar.get_by_role("link", name="梯度流向")).to_be_visible()
    screenshot(page, f"zh_{path or 'explore'}")


def test_the_language_switch_turns_the_page_chinese_and_the_link_keeps_it(page, app_url):
    page.goto(f"{app_url}/gradients")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Gradient routing")).to_be_visible()
    page.get_by_test_id("stSidebar").get_by_text("中文").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="梯度流向")).to_be_visible()
    expect(page.get_by_text("上游梯度之和")).to_be_visible()
    expect(page).to_have_url(re.compile(r"lang="))
    page.reload()
    wait_idle(page)
    expect(page.get_by_role("heading", name="梯度流向")).to_be_visible()


def test_a_chinese_browser_gets_chinese_by_default(browser, app_url):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{app_url}/weights")
    wait_idle(page)
    expect(page.get_by_role("heading", name="池化权重")).to_be_visible()
    expect(page).not_to_have_url(re.compile(r"lang="))  # the browser's own language is the default
    context.close()
