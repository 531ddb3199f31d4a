"""Hand-edited and old links: every page opens from any query string with valid settings, and says
which values it replaced."""

import math
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pages.ui.i18n import LANG_KEY
from pages.ui.state import FIELDS
from tests.apptest import run_app, shown
from tests.test_robustness import PAGES

NASTY = ["-3", "0", "1", "100", "9" * 40, "2.5", "-0.5", "1e-4", "1e300", "abc", "nan", "NaN", "inf", "-inf",
         "", " ", "<b>2</b>", "<script>alert(1)</script>", "*2*", "$x$", "true", "false", "on", "max", "avg", "nope",
         "Type a grid", "grid", "rgb", "all", "3,4", "-1,2", "1,2,3", "1 2\n3 4"]
KEYS = [*FIELDS, "unknown", "lang", "op.nope", "kernel_size"]
QUERIES = st.dictionaries(
    st.sampled_from(KEYS),
    st.one_of(st.sampled_from(NASTY), st.integers(-10**12, 10**12).map(str), st.floats().map(str),
              st.text(max_size=8)),
    max_size=6,
)


def literal_value(field, text: str):
    """What ``text`` means for ``field`` when it is a valid value, else ``None`` (it must be replaced)."""
    text = text.strip()
    if field.kind == "text":
        return text
    if field.kind == "bool":
        return {"true": True, "1": True, "false": False, "0": False}.get(text.lower(), "other")
    if field.kind == "choice":
        return next((c for c in field.choices if text in (str(c), field.label(c))), None)
    if field.kind == "set":
        names = {name.strip() for name in text.split(",") if name.strip()}
        return tuple(c for c in field.choices if c in names) if names <= set(field.choices) else None
    if field.kind == "cell":
        parts = text.split(",")
        return tuple(map(int, parts)) if len(parts) == 2 and all(p.strip().isdigit() for p in parts) else None
    try:
        number = float(text)
    except ValueError:
        return None
    if math.isnan(number) or not field.low <= number <= field.high:
        return None
    return number if field.kind == "float" or number == int(number) else None


def assert_opened(at, query: dict) -> None:
    assert not at.exception, at.exception[0].message
    notices = " ".join(shown(w.value) for w in at.warning)
    for key, text in query.items():
        field = FIELDS.get(key)
        if field is None:
            continue
        meant = literal_value(field, text)
        if meant is None and key == LANG_KEY:  # an unknown language: the browser's, without a word
            assert at.session_state[key] == "en"
        elif meant is None:
            assert re.search(rf"(?<![\w.]){re.escape(key)} ", notices), (key, text, notices)
        elif meant != "other" and field.kind != "cell":  # a cell is then kept inside the output
            assert at.session_state[key] == meant, (key, text)
    for key, field in FIELDS.items():
        if key in at.session_state and field.kind in ("int", "float"):
            assert field.low <= at.session_state[key] <= field.high, key
        elif key in at.session_state and field.kind == "choice":
            assert at.session_state[key] in field.choices, key


SHARED_LINKS = [
    {"kernel": "100"}, {"stride": "0"}, {"dilation": "0"}, {"padding": "9"}, {"kernel": "-3"}, {"seed": "-3"},
    {"stride": "1" * 40}, {"op": "nope"}, {"softpool.temperature": "1e-9", "op": "softpool"},
    {"source": "Type a grid", "grid_text": "1 <b>2</b>"}, {"ceil_mode": "1", "kernel": "3", "stride": "2"},
    {"cell": "9,9"}, {"op": "lp", "lp.p": "nan"}, {"random_rows": "2.5", "source": "random"},
]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("query", SHARED_LINKS, ids=lambda q: "&".join(f"{k}={v[:8]}" for k, v in q.items()))
def test_shared_links_open_every_page(page, query):
    assert_opened(run_app(page, query=query), query)


def test_a_replaced_value_is_named_with_the_value_used():
    at = run_app(query={"kernel": "100", "op": "nope", "seed": "-3"})
    (warning,) = at.warning
    assert [line.strip() for line in shown(warning.value).splitlines()] == [
        "kernel '100' is not available; using 9.",
        "op 'nope' is not one of the choices; using Max pooling.",
        "seed '-3' is not available; using 0."]
    assert at.slider(key="kernel").value == 9 and at.selectbox(key="op").value == "max"


def test_older_links_keep_working():
    at = run_app(query={"source": "Type a grid", "grid_text": "1 2 3\n4 5 6", "op": "avg", "ceil_mode": "1",
                        "kernel": "2", "stride": "2"})
    assert not at.warning
    assert at.radio(key="source").value == "grid" and at.checkbox(key="ceil_mode").value is True
    assert at.code[0].value == "(1 + 2 + 4 + 5) / 4 = 3"


def test_an_older_link_with_a_replaced_value_still_keeps_the_rest():
    at = run_app(query={"op": "softpool", "softpool.temperature": "1e-9", "kernel": "3"})
    assert [shown(w.value) for w in at.warning] == ["softpool.temperature '1e-9' is not available; using 0.001."]
    assert at.number_input(key="softpool.temperature").value == 0.001 and at.slider(key="kernel").value == 3


@pytest.mark.parametrize("page", PAGES)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=QUERIES)
def test_fuzzed_links_open_every_page(page, query):
    assert_opened(run_app(page, query=query), query)
