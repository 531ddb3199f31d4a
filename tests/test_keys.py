"""Explore's step buttons outside the inspector (their shortcuts, the cells they pin, the keys said on the
page) and the projector view."""

import pytest

from tests.apptest import component_data, run_app


def shortcut(at, key: str) -> str:
    (button,) = [b for b in at.button if b.key == key]
    return button.proto.shortcut


def test_the_step_buttons_have_shortcuts_and_wrap_around():
    at = run_app()
    assert (shortcut(at, "step_previous"), shortcut(at, "step_next")) == ("p", "n")  # as Streamlit normalises them
    at = at.button(key="step_next").click().run()
    assert component_data(at)["pinned"] == [0, 1] and at.main.code[0].value == "max(2, 4, 7, 8) = 8"
    at = at.button(key="step_next").click().run()
    assert component_data(at)["pinned"] == [1, 0]  # the next row
    at = at.button(key="step_previous").click().run().button(key="step_previous").click().run()
    at = at.button(key="step_previous").click().run()
    assert component_data(at)["pinned"] == [1, 1]  # from (0, 0) back to the last cell


@pytest.mark.parametrize(("lang", "said"), [
    ("en", "elsewhere on the page, P and N pin the previous and the next cell."),
    ("zh", "在页面其他位置，按 P 和 N 固定上一个或下一个单元格。"),
])
def test_the_page_says_which_keys(lang, said):
    at = run_app(query={"lang": lang})
    assert any(said in c.value for c in at.main.caption)


def test_the_projector_view_is_a_bound_setting_the_inspector_is_sent():
    plain, projected = component_data(run_app()), component_data(run_app(query={"projector": "true"}))
    assert plain["projector"] is False and projected["projector"] is True
    assert plain["digest"] != projected["digest"]  # the browser builds its grids again, at the large sizes
    at = run_app(query={"projector": "true", "lock": "projector"})
    assert at.toggle(key="projector").value is True and at.toggle(key="projector").disabled
