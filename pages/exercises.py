"""Exercises from the pooling chapter of Dive into Deep Learning (Chinese edition, 6.5 汇聚层): each a
short task with a check, computed by :mod:`pooling_core.exercises` on the sidebar's input, and a
button to the page that shows it."""

import numpy as np
import streamlit as st

from pages.ui import controls, views
from pages.ui.i18n import library_text, t
from pages.ui.predict import TOLERANCE
from pooling_core import PoolingError, pool2d
from pooling_core import exercises as ex
from pooling_core.explain import window_report
from pooling_core.numbers import fmt

GO_KEY = "_exercise_go"
SHOWN_MAX_CELLS = 64  # arrays up to 8x8 are shown as tables

if GO_KEY in st.session_state:  # a "show it" button's callback chose the page and its settings
    # An empty mapping, not None: clearing widget-bound URL parameters is refused; their widgets write them again.
    st.switch_page(st.session_state.pop(GO_KEY), query_params={})

settings, source = controls.current()
st.title(t("exercises.title"))
st.caption(t("exercises.caption"))
views.require_input(source)
plane, channel_note = views.shown_plane(source, settings)
window = dict(kernel_size=settings.kernel, stride=settings.stride, padding=settings.padding)
st.info(t("exercises.input", rows=plane.shape[0], cols=plane.shape[1], kernel=settings.kernel,
             stride=settings.stride, padding=settings.padding) + channel_note)


def go(page: str, **state) -> None:
    st.session_state.update(state)
    st.session_state[GO_KEY] = page


def show_button(number: int, page: str, label_key: str, **state) -> None:
    st.button(t(label_key), key=f"exercise_{number}_go", on_click=go, args=(page,), kwargs=state,
              icon=":material/arrow_forward:")


def check(number: int, label: str, value: float) -> None:
    """A number box and a Check button; once checked, right or wrong (within ±TOLERANCE) with the value."""
    answer_key, checked_key = f"exercise_{number}_answer", f"_exercise_{number}_checked"
    boxes = st.columns([3, 1], vertical_alignment="bottom")
    boxes[0].number_input(label, value=None, format="%g", key=answer_key)

    def take() -> None:
        st.session_state[checked_key] = st.session_state.get(answer_key)

    boxes[1].button(t("exercises.check"), key=f"exercise_{number}_check", on_click=take)
    if checked_key not in st.session_state:
        return
    answer = st.session_state[checked_key]
    if answer is None:
        st.warning(t("exercises.no_answer"))
    elif abs(answer - value) <= TOLERANCE + 1e-12:
        st.success(t("exercises.right", value=fmt(value), tolerance=fmt(TOLERANCE)))
    else:
        st.error(t("exercises.wrong", answer=fmt(answer), value=fmt(value)))


def small_table(values: np.ndarray) -> None:
    if values.size <= SHOWN_MAX_CELLS:
        st.dataframe(np.vectorize(fmt)(values), hide_index=False)


def exercise(number: int, body) -> None:
    with st.container(border=True):
        st.subheader(t(f"exercises.e{number}_title", number=number))
        st.markdown(t(f"exercises.e{number}_task"))
        try:
            body()
        except PoolingError as error:  # the sidebar's window does not fit this input
            st.error(library_text(error))


def average_as_convolution():
    k = settings.kernel
    check(1, t("exercises.e1_question", kernel=k), 1 / k**2)
    convolved = ex.average_as_convolution(plane, **window)
    pooled = pool2d(plane, "avg", **window).output
    st.markdown(t("exercises.e1_kernel", kernel=k))
    small_table(ex.average_kernel(k))
    st.markdown(t("exercises.e1_match", difference=fmt(float(np.max(np.abs(convolved - pooled))))))
    small_table(convolved)
    show_button(1, "pages/explore.py", "exercises.show_explore", op="avg")


def max_is_not_a_convolution():
    a, b = (st.columns(2)[k].number_input(name, value=v, key=f"exercise_2_{name}") for k, (name, v) in
            enumerate((("a", 3.0), ("b", 5.0))))
    check(2, t("exercises.e2_question", a=fmt(a), b=fmt(b)), ex.relu_max(a, b))
    first = window_report(pool2d(plane, "max", **window), plane, 0, 0)
    cells = first.values[first.real]
    st.markdown(t("exercises.e2_window", values=", ".join(fmt(v) for v in cells), by_relu=fmt(ex.max_by_relu(cells)),
                  pooled=fmt(first.output)))
    summed, of_sum = ex.pooling_is_not_linear(plane, **window)
    at = np.argmax(np.abs(summed - of_sum))  # the output where the two differ most
    st.markdown(t("exercises.e2_linear", summed=fmt(summed.flat[at]), of_sum=fmt(of_sum.flat[at])))
    show_button(2, "pages/explore.py", "exercises.show_explore", op="max")


def min_from_max():
    from_max = ex.min_from_max(plane, **window)
    check(3, t("exercises.e3_question"), float(from_max[0, 0]))
    same = np.array_equal(from_max, pool2d(plane, "min", **window).output)
    st.markdown(t("exercises.e3_same" if same else "exercises.e3_differs"))
    small_table(from_max)
    show_button(3, "pages/explore.py", "exercises.show_explore", op="min")


def softpool_between():
    temperature = st.select_slider(t("exercises.e4_temperature"), [0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0],
                                   value=1.0, key="exercise_4_temperature")
    mean = pool2d(plane, "avg", **window, count_include_pad=False).output[0, 0]
    peak = pool2d(plane, "max", **window).output[0, 0]
    soft = ex.softpool_path(plane, [temperature], **window)[0, 0, 0]
    st.markdown(t("exercises.e4_values", mean=fmt(mean), soft=fmt(soft), peak=fmt(peak), temperature=fmt(temperature)))
    st.radio(t("exercises.e4_question"), ("max", "avg"), index=None, key="exercise_4_answer",
             format_func=lambda choice: t(f"exercises.e4_{choice}"))
    choice = st.session_state.get("exercise_4_answer")
    if choice is not None:
        small, large = ex.softpool_path(plane, [1e-3, 1e3], **window)[:, 0, 0]
        right = choice == ("max" if abs(small - peak) <= abs(small - mean) else "avg")
        (st.success if right else st.error)(t("exercises.e4_right" if right else "exercises.e4_wrong",
                                              small=fmt(small), large=fmt(large)))
    st.caption(t("exercises.e4_popular"))
    show_button(4, "pages/weights.py", "exercises.show_weights", op="softpool")


def cost():
    names = ("c", "h", "w", "p", "padding", "s")
    defaults = (3, 32, 32, 2, 0, 2)
    boxes = st.columns(len(names))
    c, h, w, p, padding, s = (boxes[k].number_input(t(f"exercises.e5_{name}"), 0 if name == "padding" else 1, None,
                                                   v, key=f"exercise_5_{name}") for k, (name, v) in
                              enumerate(zip(names, defaults)))
    cost = ex.pooling_cost(c, h, w, p, s, padding)
    check(5, t("exercises.e5_question"), cost.comparisons)
    st.markdown(t("exercises.e5_formula", c=c, rows=cost.height, cols=cost.width, p=p, outputs=cost.outputs,
                  reads=cost.reads, comparisons=cost.comparisons))
    show_button(5, "pages/explore.py", "exercises.show_explore", kernel=min(p, 9), stride=min(s, 9),
                padding=min(padding, 4))


for k, body in enumerate([average_as_convolution, max_is_not_a_convolution, min_from_max, softpool_between, cost],
                         start=1):
    exercise(k, body)
