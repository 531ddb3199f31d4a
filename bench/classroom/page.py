"""How the script sees the app's page: the scripts it runs in the page and the widgets it uses.

Every widget is found here, by its label, so a change of the sidebar's layout is adapted in one place.
"""

from __future__ import annotations

SOURCE_EXAMPLE, SOURCE_GRID = "Example", "Type a grid"  # the Source radio's options
GRID_LABEL = "Grid: one row per line"
OPERATOR_LABEL = "Operator"
SIDEBAR = "[data-testid='stSidebar']"
GRID_AREA = f"{SIDEBAR} [data-testid='stTextArea']"  # present only while the source is a typed grid
KERNEL_SLIDER = "[data-testid='stSlider'] input[type='range']"  # the first slider is the kernel's

# Installed in every document: the time of the last input event, in the page's clock.
INPUT_CLOCK_JS = """(() => {
  const clock = window.__loadClock = {input: null};
  for (const type of ["keydown", "mousedown"]) {
    window.addEventListener(type, event => { clock.input = event.timeStamp; }, true);
  }
})();"""
RESET_CLOCK_JS = "() => { window.__loadClock.input = null; }"
# Resolves when the run is over and shows the wanted text, checking on every change of the page
# (the cheap tests first: checkVisibility lays the page out).
SETTLE_JS = """([wanted, grid, timeoutMs, gridArea]) => new Promise(resolve => {
  const state = () => {
    if (document.querySelector("[data-testid='stException']")) return "exception";
    const app = document.querySelector("[data-testid='stApp']");
    if (!app || app.getAttribute("data-test-script-state") !== "notRunning") return null;
    if (document.querySelector("[data-testid='stSkeleton']")) return null;
    if (grid !== (document.querySelector(gridArea) !== null)) return null;
    for (const code of document.querySelectorAll("[data-testid='stMain'] [data-testid='stCode'] code")) {
      if (code.textContent.trim() === wanted && code.checkVisibility()) return "shown";
    }
    return null;
  };
  const finish = outcome => {
    observer.disconnect();
    clearTimeout(timer);
    resolve({outcome, at: performance.now(), input: window.__loadClock.input});
  };
  const check = () => { const outcome = state(); if (outcome) finish(outcome); };
  const observer = new MutationObserver(check);
  const timer = setTimeout(() => finish("timeout"), timeoutMs);
  observer.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
  check();
})"""
STATE_JS = """gridArea => {
  const app = document.querySelector("[data-testid='stApp']");
  const codes = [...document.querySelectorAll("[data-testid='stMain'] [data-testid='stCode'] code")];
  return {state: app && app.getAttribute("data-test-script-state"),
          grid: !!document.querySelector(gridArea),
          exception: [...document.querySelectorAll("[data-testid='stException']")].map(e => e.innerText.slice(0, 300)),
          skeletons: document.querySelectorAll("[data-testid='stSkeleton']").length,
          codes: codes.map(c => c.textContent.trim())};
}"""
SHOWN_JS = """() => {
  const main = document.querySelector("[data-testid='stMain']");
  if (!main) return "";
  const parts = [];
  main.querySelectorAll("[data-testid='stCode'] code").forEach(e => parts.push(e.textContent));
  main.querySelectorAll(".js-plotly-plot text").forEach(e => parts.push(e.textContent));
  return parts.join(" | ");
}"""


async def settle(page, wanted: str, grid: bool, timeout_ms: float) -> dict:
    """The page's outcome ("shown", "exception" or "timeout") and its times, in ms, of that moment
    (``at``) and of the last input event (``input``)."""
    return await page.evaluate(SETTLE_JS, [wanted, grid, timeout_ms, GRID_AREA])


async def page_state(page) -> dict:
    """What the page shows, for an error message."""
    return await page.evaluate(STATE_JS, GRID_AREA)


def source_option(page, label: str):
    return page.locator(SIDEBAR).get_by_text(label, exact=True)


def grid_area(page):
    return page.get_by_role("textbox", name=GRID_LABEL)


def operator_box(page):
    return page.get_by_role("combobox", name=OPERATOR_LABEL)


def operator_option(page, name: str):
    return page.get_by_role("option", name=name, exact=True)


def kernel_slider(page):
    return page.locator(KERNEL_SLIDER).first
