"""APS in Explore's inspector, in Chromium: a pinned cell shows the winning component's window
and says which component won; screenshots in English and Chinese."""

import pytest

from tests.browser import python_panel, require_browser, screenshot, wait_idle

expect = require_browser()
pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang, words", [("en", "from polyphase component (0, 1)"), ("zh", "取自多相分量 (0, 1)")])
def test_the_inspector_shows_the_winning_components_window(page, app_url, lang, words):
    page.goto(f"{app_url}/?op=aps&cell=1,1&lang={lang}")
    wait_idle(page)
    # The textbook grid: component (0, 1) wins; output (1, 1) reads rows 2, 3 and columns 3, 0.
    expect(python_panel(page)).to_contain_text("max(0, 3, 4, 1) = 4")
    expect(python_panel(page)).to_contain_text(words)
    page.locator("[data-cell='out'][data-row='1'][data-col='1']").hover()
    expect(page.locator("[data-role='arithmetic']")).to_contain_text(words)
    screenshot(page, f"aps_inspector_{lang}")
