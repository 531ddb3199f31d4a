"""Teacher links: locked controls drawn disabled with the link's values, hidden sections, starting
in predict mode, bad values in those parameters, and the link to the current view."""

import pytest

from pages.ui.state import FIELDS, HIDEABLE, LOCKABLE
from tests.apptest import component_data, run_app, shown


def test_locked_controls_are_disabled_and_keep_the_links_values():
    at = run_app(query={"lock": "kernel,stride", "kernel": "3", "stride": "1"})
    assert not at.exception and not at.warning
    assert (at.slider(key="kernel").value, at.slider(key="kernel").disabled) == (3, True)
    assert (at.slider(key="stride").value, at.slider(key="stride").disabled) == (1, True)
    assert not at.slider(key="padding").disabled and not at.selectbox(key="op").disabled
    assert at.selectbox(key="preset").disabled  # a preset would change the locked kernel
    assert component_data(at)["output"]["values"] == [[7, 8], [7, 8]]


def test_params_lock_every_parameter_of_the_operator():
    at = run_app(query={"lock": "params,op", "op": "softpool", "softpool.temperature": "2"})
    assert at.selectbox(key="op").disabled and at.selectbox(key="op").value == "softpool"
    field = at.number_input(key="softpool.temperature")
    assert (field.value, field.disabled) == (2.0, True)


def test_hidden_sections_are_left_out():
    at = run_app(query={"hide": "upload,random,preset,language,formula,exports"})
    assert not at.exception
    assert at.radio(key="source").options == ["Example", "Type a grid"]
    assert [s.key for s in at.selectbox] == ["example", "op"]  # no preset menu
    assert "lang" not in [r.key for r in at.radio]
    # Explore's formula (with its PyTorch code) and downloads are hidden
    assert [e.label for e in at.expander] == ["Link to this view"]
    assert [e.label for e in run_app().expander] == ["Download for slides", "Formula, output size and citation",
                                                     "The PyTorch code", "Link to this view"]


def test_a_hidden_source_in_the_link_falls_back_to_the_first_one_offered():
    at = run_app(query={"hide": "upload", "source": "upload"})
    assert not at.exception and at.radio(key="source").value == "example"
    assert component_data(at)["input"]["rows"] == 4


def test_a_link_starts_in_predict_mode_with_its_switch_hidden_or_locked():
    at = run_app(query={"predict": "true", "hide": "predict"})
    assert at.subheader[0].value == "What size is the output?" and "predict" not in [t.key for t in at.toggle]
    at = run_app(query={"predict": "true", "lock": "predict"})
    assert at.toggle(key="predict").value is True and at.toggle(key="predict").disabled
    assert "output" not in component_data(at)


@pytest.mark.parametrize(("query", "notice", "kept"), [
    ({"lock": "kernel,nope"}, "lock 'kernel,nope' names something that is not among the choices; using kernel.",
     ("lock", ("kernel",))),
    ({"hide": "everything"}, "hide 'everything' names something that is not among the choices; using nothing.",
     ("hide", ())),
    ({"hide": "formula, <b>x</b>"},
     "hide 'formula, <b>x</b>' names something that is not among the choices; using formula.", ("hide", ("formula",))),
    ({"predict": "maybe"}, "predict 'maybe' is neither on nor off; using off.", ("predict", False)),
])
def test_bad_values_in_teacher_parameters_are_named(query, notice, kept):
    at = run_app(query=query)
    assert not at.exception
    assert [shown(w.value) for w in at.warning] == [notice]
    assert at.session_state[kept[0]] == kept[1]


def test_bad_teacher_values_in_chinese():
    at = run_app(query={"lang": "zh", "lock": "kernel,nope"})
    (warning,) = at.warning
    assert shown(warning.value) == "链接中的 lock = “kernel,nope” 含有不在可选项中的名称，改用 kernel。"


def test_the_view_link_holds_what_differs_from_the_defaults():
    at = run_app(query={"op": "softpool", "softpool.temperature": "2", "kernel": "3", "lock": "kernel,stride",
                        "hide": "upload", "predict": "on"})
    (link,) = [c.value for c in at.code if c.value.startswith("?")]
    assert link == ("?lang=en&op=softpool&kernel=3&predict=true&lock=kernel,stride&hide=upload"
                    "&softpool.temperature=2.0")
    names = at.expander[-1].code[1].value.splitlines()
    assert names[0].startswith("lock=lang,source,example,") and names[1] == "hide=" + ",".join(HIDEABLE)


@pytest.mark.parametrize("key", sorted(FIELDS))
def test_every_field_reads_back_what_it_writes(key):
    field = FIELDS[key]
    if field.kind in ("int", "float"):
        samples = [field.low, field.high if field.kind == "int" else min(field.high, field.low + 0.125)]
    else:
        samples = {"bool": [True, False], "choice": list(field.choices), "text": ["1 2\n3 4"], "cell": [(1, 2)],
                   "set": [(), field.choices[:2]]}[field.kind]
    for sample in samples:
        assert field.read(field.write(sample)) == (sample, None), sample


def test_the_lists_of_locks_and_sections():
    assert set(LOCKABLE) - {"params"} <= set(FIELDS) and "kernel" in LOCKABLE
    assert HIDEABLE == ("upload", "grid", "random", "preset", "language", "formula", "predict", "exports")
