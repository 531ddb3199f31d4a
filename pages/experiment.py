"""Which pooling should I use? Small CNNs trained on real digits: accuracy against shift consistency."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import streamlit as st

from pages.ui import controls, figures, views
from pages.ui.i18n import operator_name, t
from pooling_core import OPERATORS, PoolingError
from pooling_core.experiments import which_pooling

REFERENCE = Path(__file__).resolve().parent.parent / "assets" / "which_pooling_reference.json"
REFERENCE_COMMAND = "python -m pooling_core.experiments.which_pooling --seed 0"
RUN_KEY = "experiment_run"
BUDGETS = ("quick", "full")


class SharedRuns:
    """Finished runs by their settings, for every session: 30 students pressing Run with the same
    settings train once (the others wait for that run); a cancelled run is not kept."""

    def __init__(self):
        self.results, self.locks, self.guard = {}, {}, threading.Lock()

    def train(self, key: tuple, progress) -> dict:
        with self.guard:
            lock = self.locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self.results:
                operators, seed, budget = key
                self.results[key] = which_pooling.run(operators, seed=seed, quick=budget == "quick",
                                                      progress=progress)
            return self.results[key]


@st.cache_resource
def shared_runs() -> SharedRuns:
    return SharedRuns()


@st.cache_data
def reference() -> dict:
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


@st.cache_data
def fitting_operators() -> list[str]:
    """The operators that can take a pooling layer's place (they halve a 16x16 map)."""
    fitting = []
    for op in OPERATORS:
        try:
            which_pooling.check_operators([op])
        except PoolingError:
            continue
        fitting.append(op)
    return fitting


settings, _ = controls.current()
st.title(t("experiment.title"))
st.caption(t("experiment.caption"))

options = fitting_operators()
choice = st.columns([4, 1, 1], vertical_alignment="bottom")
chosen = choice[0].multiselect(t("experiment.operators"), options, default=list(which_pooling.OPERATORS),
                               format_func=lambda op: operator_name(OPERATORS[op]), key="experiment_operators")
budget = choice[1].radio(t("experiment.budget"), BUDGETS, format_func=lambda b: t(f"experiment.budget_{b}"),
                         key="experiment_budget", horizontal=True, help=t("experiment.budget_help"))
seed = choice[2].number_input(t("experiment.seed"), 0, 2**31 - 1, 0, key="experiment_seed")
buttons = st.columns([1, 1, 6])
run_pressed = buttons[0].button(t("experiment.run"), type="primary", key="experiment_start", disabled=not chosen)
# Pressing Cancel during a run makes Streamlit stop the script at its next progress update.
if buttons[1].button(t("experiment.cancel"), key="experiment_cancel"):
    st.session_state.pop(RUN_KEY, None)
    st.info(t("experiment.cancelled"))

runs = shared_runs()
if run_pressed:
    key = (tuple(chosen), int(seed), budget)
    bars = {op: st.progress(0.0, text=t("experiment.waiting", name=operator_name(OPERATORS[op]))) for op in chosen}

    def progress(op, epoch, epochs):
        bars[op].progress(epoch / epochs, text=t("experiment.progress", name=operator_name(OPERATORS[op]),
                                                  epoch=epoch, epochs=epochs))

    runs.train(key, progress)
    st.session_state[RUN_KEY] = key

key = st.session_state.get(RUN_KEY)
if key in runs.results:
    results = runs.results[key]
    operators, seed_used, budget_used = key
    st.success(t("experiment.live", count=len(operators), seed=seed_used, budget=t(f"experiment.budget_{budget_used}")))
else:
    results = reference()
    st.info(t("experiment.reference", command=REFERENCE_COMMAND))

names = {op: operator_name(OPERATORS[op]) for op in results["operators"]}
rows = results["operators"]
views.chart(figures.labelled_scatter([r["accuracy"] for r in rows.values()], [r["consistency"] for r in rows.values()],
                                     list(rows), list(names.values()), t("experiment.scatter_title"),
                                     t("experiment.accuracy"), t("experiment.consistency")), key="experiment_scatter")
st.dataframe([{t("experiment.operator"): names[op], t("experiment.accuracy"): r["accuracy"],
               t("experiment.consistency"): r["consistency"], t("experiment.parameters"): r["parameters"],
               t("experiment.seconds"): r["seconds"]} for op, r in rows.items()], hide_index=True)

columns = st.columns(2)
with columns[0]:
    epochs = range(1, 1 + max(len(r["curve"]) for r in rows.values()))
    accuracies = {names[op]: [point["accuracy"] for point in r["curve"]] for op, r in rows.items()}
    views.chart(figures.curves(epochs, accuracies, t("experiment.curves_title"), t("experiment.epoch"),
                               t("experiment.accuracy"), colours=None), key="experiment_curves")
with columns[1]:
    pinned = st.selectbox(t("experiment.pinned"), list(rows), format_func=names.get, key="experiment_pinned")
    confusion = np.array(rows[pinned]["confusion"])
    views.chart(views.heatmap(confusion, t("experiment.confusion_title", name=names[pinned]), 0, confusion.max()),
                key="experiment_confusion")
    st.caption(t("experiment.confusion_caption"))

st.subheader(t("experiment.published_title"))
st.markdown(t("experiment.published"))
st.markdown(t("experiment.differs"))

st.subheader(t("code.title"))
views.torch_code(settings)
