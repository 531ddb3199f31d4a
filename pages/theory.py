"""Theory: max or average? Boureau et al. (2010) on pooling a binary feature, exact and simulated."""

import numpy as np
import streamlit as st

from pages.ui import controls, figures, views
from pages.ui.controls import integer_widget
from pages.ui.i18n import t
from pages.ui.state import BOUND, FIELDS
from pooling_core.numbers import fmt
from pooling_core.theory import (
    average_pooling,
    frequencies,
    max_pooling,
    separability,
    separability_by_pool_size,
    simulate,
)

ALPHA_STEP = 0.001


def alpha_slider(key: str, label: str) -> float:
    field = FIELDS[key]
    return st.slider(label, field.low, field.high, field.default, ALPHA_STEP, format="%.3f", key=key, **BOUND)


controls.current()  # the shared sidebar is drawn; this page's model needs none of its input
st.title(t("theory.title"))
st.caption(t("theory.caption"))
st.latex(r"f_{avg} = \frac{1}{P}\sum_{i=1}^{P} v_i \sim \frac{\mathrm{Binomial}(P, \alpha)}{P}, \qquad "
         r"f_{max} = \max_i v_i \sim \mathrm{Bernoulli}\left(1 - (1 - \alpha)^P\right), \qquad "
         r"\psi = \frac{|\mu_1 - \mu_2|}{\sigma_1 + \sigma_2}")

left, middle, right = st.columns(3)
with left:
    alpha1 = alpha_slider("theory_alpha1", t("theory.alpha1"))
    alpha2 = alpha_slider("theory_alpha2", t("theory.alpha2"))
with middle:
    pool = integer_widget(st.slider, t("theory.pool"), "theory_pool")
with right:
    draws = integer_widget(st.number_input, t("theory.draws"), "theory_draws")
    seed = integer_widget(st.number_input, t("theory.seed"), "theory_seed")

classes = [t("theory.class", number=1, alpha=fmt(alpha1)), t("theory.class", number=2, alpha=fmt(alpha2))]
average = [average_pooling(alpha, pool) for alpha in (alpha1, alpha2)]
maximum = [max_pooling(alpha, pool) for alpha in (alpha1, alpha2)]
samples = [simulate(alpha, pool, draws, seed + index) for index, alpha in enumerate((alpha1, alpha2))]
simulated = t("theory.simulated", draws=draws)

charts = st.columns(2)
with charts[0]:
    views.chart(figures.distributions(
        average[0].values, [d.probabilities for d in average],
        [frequencies(s[0], average[0].values) for s in samples], classes, simulated,
        t("theory.average_title", pool=pool), t("theory.average_axis"), t("theory.probability")))
with charts[1]:
    views.chart(figures.distributions(
        maximum[0].values, [d.probabilities for d in maximum],
        [frequencies(s[1], maximum[0].values) for s in samples], classes, simulated,
        t("theory.max_title", pool=pool), t("theory.max_axis"), t("theory.probability")))

psi_average, psi_max = separability(*average), separability(*maximum)
metrics = st.columns(4)
for column, (label, exact, drawn) in zip(metrics, [
        (t("theory.mean_average", number=1), average[0].mean, samples[0][0].mean()),
        (t("theory.mean_average", number=2), average[1].mean, samples[1][0].mean()),
        (t("theory.mean_max", number=1), maximum[0].mean, samples[0][1].mean()),
        (t("theory.mean_max", number=2), maximum[1].mean, samples[1][1].mean())]):
    column.metric(label, fmt(exact), t("theory.simulated_delta", value=fmt(drawn)), delta_color="off",
                  delta_arrow="off")
scores = st.columns(2)
scores[0].metric(t("theory.psi_average"), fmt(psi_average))
scores[1].metric(t("theory.psi_max"), fmt(psi_max))
if psi_max > psi_average:
    st.success(t("theory.max_wins", max=fmt(psi_max), average=fmt(psi_average), pool=pool))
elif psi_average > psi_max:
    st.info(t("theory.average_wins", max=fmt(psi_max), average=fmt(psi_average), pool=pool))
else:
    st.info(t("theory.tie", value=fmt(psi_max)))

sizes = np.arange(1, FIELDS["theory_pool"].high + 1)
curve_average, curve_max = separability_by_pool_size(alpha1, alpha2, sizes)
views.chart(figures.curves(sizes, {t("theory.average"): curve_average, t("theory.max"): curve_max},
                           t("theory.curve_title"), t("theory.pool_axis"), t("theory.psi_axis"), marker_x=pool))
st.markdown(t("theory.when"))
st.caption(t("theory.citation"))
