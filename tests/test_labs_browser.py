"""The labs in a real Chromium, in English and in Chinese; screenshots are saved."""

import re
from urllib.parse import urlencode

import pytest

from tests.browser import require_browser, screenshot, wait_idle

expect = require_browser()
pytestmark = pytest.mark.browser

BOOK_9_8 = {"source": "grid", "grid_text": "0.1 1 0.2 0.1", "kernel": "3", "stride": "1", "padding": "1",
            "shift_mode": "fill", "shift_fill": "0.3"}


def tall_screenshot(page, name: str) -> None:
    """A screenshot of the whole page: the viewport is made tall enough for every chart (Streamlit scrolls its
    main area itself, so a full-page screenshot alone stops at the window's height)."""
    page.set_viewport_size({"width": 1400, "height": 2600})
    wait_idle(page)
    screenshot(page, name)
    page.set_viewport_size({"width": 1400, "height": 1000})


def metric(page, label: str):
    return page.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id("stMetricValue")


def test_shift_lab_figure_9_8_chosen_from_the_menu(page, app_url):
    page.goto(f"{app_url}/shift?lang=en")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Shift lab: is pooling invariant?")).to_be_visible()
    page.get_by_test_id("stSelectbox").filter(has_text="Experiment").click()
    page.get_by_role("option", name="Deep Learning book, Figure 9.8: invariance").click()
    wait_idle(page)
    expect(metric(page, "Input cells changed")).to_have_text("4 of 4")
    expect(metric(page, "Output cells changed in place")).to_have_text("2 of 4")
    expect(page.get_by_text(re.compile("that is padding 1"))).to_be_visible()
    expect(page).to_have_url(re.compile(r"shift_fill=0.3"))
    tall_screenshot(page, "labs_shift_en")
    # The typed grid, drawn for the first time by the experiment, reaches the URL on the next run.
    page.get_by_text("Mirror left-right").click()
    wait_idle(page)
    expect(page).to_have_url(re.compile(r"grid_text=0.1\+1\+0.2\+0.1"))
    expect(metric(page, "Output cells that match")).to_have_text("4 of 4")  # padding on both ends: flips commute


def test_shift_lab_in_chinese_from_a_link(page, app_url):
    page.goto(f"{app_url}/shift?{urlencode({'lang': 'zh', **BOOK_9_8})}")
    wait_idle(page)
    expect(page.get_by_role("heading", name="平移实验：池化真的不变吗？")).to_be_visible()
    expect(metric(page, "变化的输入单元格")).to_have_text("4 个中有 4 个")
    expect(metric(page, "原位变化的输出单元格")).to_have_text("4 个中有 2 个")
    tall_screenshot(page, "labs_shift_zh")


@pytest.mark.parametrize("lang, heading", [("en", "Compare operators"), ("zh", "并排比较池化算子")])
def test_compare_a_click_pins_the_window_under_every_operator(page, app_url, lang, heading):
    page.goto(f"{app_url}/compare?lang={lang}&compare_3=none&compare_4=none")
    wait_idle(page)
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    code = page.get_by_test_id("stMain").get_by_test_id("stCode")
    expect(code.nth(0)).to_have_text("max(1, 1, 5, 6) = 6")
    area = page.locator(".js-plotly-plot").first.locator(".nsewdrag").first
    box = area.bounding_box()
    area.click(position={"x": box["width"] * 0.75, "y": box["height"] * 0.75})  # output cell (1, 1)
    wait_idle(page)
    expect(code.nth(0)).to_have_text("max(1, 0, 3, 4) = 4")
    expect(code.nth(1)).to_have_text("(1 + 0 + 3 + 4) / 4 = 2")
    expect(page).to_have_url(re.compile(r"cell=1%2C1|cell=1,1"))
    tall_screenshot(page, f"labs_compare_{lang}")


@pytest.mark.parametrize("lang, heading, verdict", [
    ("en", "Theory: max or average?", "With P = 64, average pooling separates the classes better"),
    ("zh", "理论：最大池化还是平均池化？", "P = 64 时，平均池化更能分开两个类别")])
def test_theory_exact_means_and_the_verdict(page, app_url, lang, heading, verdict):
    page.goto(f"{app_url}/theory?lang={lang}")
    wait_idle(page)
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.get_by_test_id("stMetricValue").nth(2)).to_have_text("0.8147")  # 1 − 0.9^16, max pooling, class 1
    tall_screenshot(page, f"labs_theory_{lang}")
    page.goto(f"{app_url}/theory?lang={lang}&theory_pool=64")
    wait_idle(page)
    expect(page.get_by_text(re.compile(re.escape(verdict)))).to_be_visible()


def test_shift_lab_checkerboard_max_against_blurpool(page, app_url):
    page.goto(f"{app_url}/shift?lang=en")
    wait_idle(page)
    page.get_by_test_id("stSelectbox").filter(has_text="Experiment").click()
    page.get_by_role("option", name="Stride 2 on a checkerboard (Zhang 2019)").click()
    wait_idle(page)
    expect(metric(page, "Output cells changed in place")).to_have_text("8 of 16")
    expect(metric(page, "Largest change of a value")).to_have_text("1")
    tall_screenshot(page, "labs_shift_checkerboard_en")
