"""Classroom mode in a real Chromium: predict then reveal in English and Chinese, a teacher's link,
and a download; screenshots are saved."""

import io

import pytest
from PIL import Image

from tests.browser import SCREENSHOTS, python_panel, require_browser, screenshot, wait_idle

expect = require_browser()
pytestmark = pytest.mark.browser

WORDS = {
    "en": dict(rows="Rows", cols="Columns", check="Check the size", size_right="Right: the output is 2x2.",
               cell="Your value for output (0, 0)", reveal="Reveal", result="0 of 1 right (within ±0.01).",
               wrong="✗ wrong", score="Your score this session: 1 of 2 right.", again="Predict again",
               right_result="1 of 1 right (within ±0.01).", hidden="Predict this cell's value below, then reveal."),
    "zh": dict(rows="行数", cols="列数", check="核对尺寸", size_right="答对了：输出是 2x2。",
               cell="你对输出 (0, 0) 的预测值", reveal="揭晓", result="答对 0 个，共 1 个（误差 ±0.01 以内）。",
               wrong="✗ 错", score="本次得分：答对 1 个，共 2 个。", again="重新预测",
               right_result="答对 1 个，共 1 个（误差 ±0.01 以内）。",
               hidden="请在下方填写这个单元格的预测值，再点“揭晓”。"),
}


def fill_number(page, label: str, value) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    wait_idle(page)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_predict_then_reveal(page, app_url, lang):
    words = WORDS[lang]
    page.goto(f"{app_url}/?predict=true&lang={lang}")
    wait_idle(page)
    expect(page.locator("[data-cell='in']").first).to_be_visible()
    assert page.locator("[data-cell='out']").count() == 0  # no output before its size is answered
    screenshot(page, f"predict_{lang}_1_size")
    fill_number(page, words["rows"], 2)
    fill_number(page, words["cols"], 2)
    page.get_by_role("button", name=words["check"], exact=True).click()
    wait_idle(page)
    expect(page.get_by_text(words["size_right"])).to_be_visible()
    outputs = page.locator("[data-cell='out'] .v")
    expect(outputs.first).to_have_text("?")
    assert outputs.all_inner_texts() == ["?"] * 4
    page.locator("[data-cell='out'][data-row='0'][data-col='0']").hover()
    expect(page.locator("[data-role='arithmetic']")).to_have_text(words["hidden"])  # the window, not its value
    assert page.locator("[data-cell='in'][data-winner='1']").count() == 0
    screenshot(page, f"predict_{lang}_2_hidden")
    fill_number(page, words["cell"], 5)
    page.get_by_role("button", name=words["reveal"], exact=True).click()
    wait_idle(page)
    expect(page.get_by_text(words["result"])).to_be_visible()
    expect(page.get_by_text(words["score"])).to_be_visible()
    table = page.get_by_test_id("stTable")
    expect(table).to_contain_text(words["wrong"])
    expect(table).to_contain_text("max(1, 1, 5, 6) = 6")
    assert outputs.all_inner_texts() == ["6", "8", "3", "4"]
    screenshot(page, f"predict_{lang}_3_revealed")
    page.get_by_role("button", name=words["again"], exact=True).click()
    wait_idle(page)
    assert outputs.all_inner_texts() == ["?"] * 4
    fill_number(page, words["cell"], 6)
    page.get_by_role("button", name=words["reveal"], exact=True).click()
    wait_idle(page)
    expect(page.get_by_text(words["right_result"])).to_be_visible()


def test_a_teacher_link_locks_and_hides(page, app_url):
    page.goto(f"{app_url}/?kernel=3&stride=1&lock=kernel,stride&hide=upload,preset,formula")
    wait_idle(page)
    sidebar = page.get_by_test_id("stSidebar")
    sliders = sidebar.get_by_test_id("stSlider")
    expect(sliders.nth(0)).to_contain_text("3")
    for k in (0, 1):
        assert sliders.nth(k).locator("input[type='range']").is_disabled()
    assert not sliders.nth(2).locator("input[type='range']").is_disabled()  # padding is not locked
    expect(sidebar.get_by_test_id("stRadio").first).not_to_contain_text("Upload")
    expect(page.get_by_text("Formula, output size and citation")).to_have_count(0)
    assert page.locator("[data-cell='out']").count() == 4  # 4x4 input, kernel 3, stride 1
    sidebar.get_by_text("Link to this view").click()
    link = sidebar.get_by_test_id("stCode").first
    expect(link).to_contain_text("kernel=3&stride=1&lock=kernel,stride&hide=upload,preset,formula")
    screenshot(page, "teacher_link_locked")
    page.goto(f"{app_url}/?lock=kernel,nope")
    wait_idle(page)
    expect(page.get_by_text("lock 'kernel,nope' names something that is not among the choices; using kernel."))\
        .to_be_visible()


def test_the_png_download_is_a_picture(page, app_url):
    page.goto(f"{app_url}/?lang=zh")
    wait_idle(page)
    page.get_by_text("下载课件素材").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="图片（PNG）").click()
    image = Image.open(io.BytesIO(download.value.path().read_bytes()))
    assert image.format == "PNG" and image.width > 500
    assert download.value.suggested_filename == "poolscope.png"
    image.save(SCREENSHOTS / "download_zh.png")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_exercises_page_checks_and_links(page, app_url, lang):
    page.goto(f"{app_url}/exercises?lang={lang}")
    wait_idle(page)
    title = {"en": "1. Average pooling as a convolution", "zh": "1. 把平均池化写成卷积"}[lang]
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    box = page.get_by_test_id("stNumberInput").first.locator("input")
    box.fill("0.25")
    box.press("Enter")
    wait_idle(page)
    page.get_by_test_id("stButton").filter(has_text={"en": "Check", "zh": "核对"}[lang]).first.click()
    wait_idle(page)
    expect(page.get_by_test_id("stAlertContentSuccess").first).to_contain_text("0.25")
    screenshot(page, f"exercises_{lang}")
    page.get_by_test_id("stButton").filter(has_text={"en": "Show it on Explore", "zh": "在“探索池化”中查看"}[lang])\
        .first.click()
    wait_idle(page)
    expect(page.get_by_role("heading", name={"en": "Explore pooling", "zh": "探索池化"}[lang])).to_be_visible()
    caption = page.get_by_test_id("stMain").get_by_test_id("stCaptionContainer").first  # the operator's name
    expect(caption).to_contain_text({"en": "Average pooling", "zh": "平均池化"}[lang])


def test_keys_outside_the_inspector_step_the_pinned_cell(page, app_url):
    page.goto(f"{app_url}/")
    wait_idle(page)
    page.get_by_role("heading", name="Explore pooling").click()  # the page, not the inspector, has the focus
    page.keyboard.press("n")
    wait_idle(page)
    expect(python_panel(page).first).to_have_text("max(2, 4, 7, 8) = 8")
    page.keyboard.press("p")
    wait_idle(page)
    expect(python_panel(page).first).to_have_text("max(1, 1, 5, 6) = 6")


def cell_width(page, side: str) -> float:
    return page.locator(f"[data-cell='{side}'][data-row='0'][data-col='0']").bounding_box()["width"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_projector_view_enlarges_the_inspector(page, app_url, lang):
    page.goto(f"{app_url}/?lang={lang}")
    wait_idle(page)
    normal = cell_width(page, "in"), page.locator("[data-role='arithmetic']").evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)")
    page.goto(f"{app_url}/?lang={lang}&projector=true")
    wait_idle(page)
    page.locator("[data-cell='in']").first.wait_for()
    large = cell_width(page, "in"), page.locator("[data-role='arithmetic']").evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)")
    assert normal == (64, 15) and large[0] >= 84 and large[1] == 28, (normal, large)
    font = page.locator("[data-cell='in'][data-row='1'][data-col='1']").evaluate(
        "e => parseFloat(e.parentElement.style.fontSize)")
    assert font >= 24
    screenshot(page, f"projector_{lang}")
