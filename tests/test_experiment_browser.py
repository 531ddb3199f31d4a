"""The which-pooling page in Chromium: the shipped reference at once, then a small run with its
progress bars and its scatter; screenshots in English and Chinese."""

import re

import pytest

import pooling_core as pc
from pooling_core.experiments.which_pooling import OPERATORS
from tests.browser import require_browser, screenshot, wait_idle

expect = require_browser()
pytestmark = pytest.mark.browser


def test_the_reference_then_a_quick_run_of_two_operators(page, app_url):
    page.goto(f"{app_url}/experiment?lang=en")
    wait_idle(page)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("The shipped reference, made by")).to_be_visible()
    expect(main.locator(".js-plotly-plot")).to_have_count(3)  # scatter, curves, confusion
    screenshot(page, "experiment_reference")
    main.locator(".js-plotly-plot").nth(1).scroll_into_view_if_needed()
    screenshot(page, "experiment_reference_charts")

    chooser = main.get_by_test_id("stMultiSelect")
    for op in OPERATORS[2:]:  # keep max and avg
        chooser.get_by_role("button", name=f"Remove {pc.OPERATORS[op].name}", exact=True).click()
        wait_idle(page)
    main.get_by_role("button", name="Run").click()
    expect(main.get_by_test_id("stProgress").first).to_be_visible(timeout=20_000)
    expect(main.get_by_text("Max pooling: epoch")).to_be_visible(timeout=60_000)
    screenshot(page, "experiment_progress")
    expect(main.get_by_text("Trained here: 2 operators, seed 0")).to_be_visible(timeout=180_000)
    wait_idle(page)
    scatter = main.locator(".js-plotly-plot").first
    expect(scatter.locator(".scatterlayer .point")).to_have_count(2)
    screenshot(page, "experiment_run")
    scatter.scroll_into_view_if_needed()
    screenshot(page, "experiment_run_scatter")


def test_the_page_in_chinese(page, app_url):
    page.goto(f"{app_url}/experiment?lang=zh")
    wait_idle(page)
    expect(page.get_by_role("heading", name="我该用哪种池化？")).to_be_visible()
    expect(page.get_by_test_id("stMain").get_by_text("这是随项目附带的参考结果")).to_be_visible()
    screenshot(page, "experiment_reference_zh")
    page.get_by_test_id("stMain").locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    screenshot(page, "experiment_reference_zh_scatter")


def test_cancel_stops_a_run_and_keeps_the_reference(page, app_url):
    page.goto(f"{app_url}/experiment?lang=en")
    wait_idle(page)
    main = page.get_by_test_id("stMain")
    seed = main.get_by_label("Seed")
    seed.fill("7")  # settings no other test has trained
    seed.press("Enter")
    wait_idle(page)
    # The full budget, and any epoch of it: on an idle machine a quick run of nine operators, or one
    # operator's first epoch, can pass before the browser draws it.
    main.get_by_text("full", exact=True).click()
    wait_idle(page)
    main.get_by_role("button", name="Run").click()
    expect(main.get_by_text(re.compile(r"^Max pooling: epoch \d+ of 15$"))).to_be_visible(timeout=60_000)
    main.get_by_role("button", name="Cancel").click()
    expect(main.get_by_text("The run was cancelled")).to_be_visible(timeout=60_000)
    wait_idle(page)
    expect(main.get_by_text("The shipped reference, made by")).to_be_visible()
    expect(main.get_by_test_id("stProgress")).to_have_count(0)
    screenshot(page, "experiment_cancelled")
