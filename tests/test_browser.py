"""The flows a person uses, in a real Chromium against ``streamlit run``; screenshots are saved."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser import screenshot, wait_idle

pytestmark = pytest.mark.browser


def click_cell(chart, row: int, col: int, rows: int, cols: int) -> None:
    area = chart.locator(".nsewdrag").first
    box = area.bounding_box()
    area.click(position={"x": box["width"] * (col + 0.5) / cols, "y": box["height"] * (row + 0.5) / rows})


def test_explore_typed_grid_click_shows_window_arithmetic(page, app_url):
    page.goto(app_url)
    wait_idle(page)
    page.get_by_text("Type a grid").click()
    wait_idle(page)
    grid = page.get_by_role("textbox", name="Grid: one row per line")
    grid.fill("1 1 2 4\n5 6 7 8\n3 2 1 0\n1 2 3 9")
    grid.press("Control+Enter")
    wait_idle(page)
    expect(page.get_by_text("max(1, 1, 5, 6) = 6")).to_be_visible()

    output_chart = page.locator(".stPlotlyChart").nth(1)
    click_cell(output_chart, 1, 1, 2, 2)
    wait_idle(page)
    expect(page.get_by_text("max(1, 0, 3, 9) = 9")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Output cell \(row 1, column 1\)"))).to_be_visible()
    screenshot(page, "explore_typed_grid_click")
