"""Plotly figure builders: arrays in, figures out (no Streamlit)."""

from __future__ import annotations

import base64
import io
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import plotly.colors
import plotly.graph_objects as go
from PIL import Image

from pooling_core.numbers import fmt

SEQUENTIAL = "Viridis"
DIVERGING = "RdBu_r"
ANNOTATE_MAX_CELLS = 16 * 16
CLICKABLE_MAX_CELLS = 64 * 64
DISPLAY_MAX_SIDE = 256
PICTURE_ABOVE_SIDE = 64
HIGHLIGHT = "#ff2d55"
CHANGED = "YlOrRd"  # how much a cell changed: pale yellow for none, dark red for the most
FINDER_SIDE = 1 / 12  # of the figure's side: marked cells spanning less than a third of it get a finder


class HoverWords(NamedTuple):
    """The words of a heatmap's hover labels, in the reader's language."""

    row: str
    col: str
    click: str


def _layout(shape, title: str, pad: int = 0, height: int = 360, colorbar: bool = False) -> dict:
    """The layout of a grid figure, as one dict for ``go.Figure``: Plotly validates it once there,
    while ``update_layout``/``update_xaxes`` cost ten times as much per call (about 10 ms a figure)."""
    rows, cols = shape
    ticks = dict(tickmode="linear", tick0=0, dtick=1) if max(rows, cols) <= 32 else dict(tickmode="auto")
    return dict(
        title=dict(text=title, x=0.5, xanchor="center", font=dict(size=15)),
        # Fixed margins with room for tick labels and a colour bar: when Plotly may grow them it
        # draws every figure twice on each rerun.
        height=height, margin=dict(l=40, r=70 if colorbar else 10, t=40, b=30, autoexpand=False),
        showlegend=False, plot_bgcolor="rgba(0,0,0,0)",
        xaxis=dict(range=[-0.5 - pad, cols - 0.5 + pad], showgrid=False, zeroline=False, constrain="domain",
                   side="bottom", **ticks),
        yaxis=dict(range=[rows - 0.5 + pad, -0.5 - pad], showgrid=False, zeroline=False,
                   scaleanchor="x", constrain="domain", **ticks),
    )


def heatmap(values: np.ndarray, title: str, zmin: float, zmax: float, colorscale: str = SEQUENTIAL,
            zmid: float | None = None, clickable: bool = False, pad: int = 0, show_scale: bool = True,
            height: int = 360, *, hover: HoverWords) -> go.Figure:
    """A 2-D array as a heatmap on a fixed colour scale ``[zmin, zmax]``.

    Small grids print their values (a NaN cell prints none); ``clickable`` adds one invisible marker per cell carrying
    ``customdata=[row, col]`` (Streamlit reports clicks on markers, not on heatmap cells);
    ``pad`` widens the axes to leave room for drawing padding around the input; ``hover`` holds
    the words of the hover labels, in the reader's language. Arrays with a
    side over ``PICTURE_ABOVE_SIDE`` (photos) are sent as a colour-mapped PNG instead, from every
    n-th cell beyond ``DISPLAY_MAX_SIDE`` (axes keep input coordinates): the computation stays at
    full resolution, only the picture is lighter.
    """
    values = np.asarray(values, dtype=np.float32)
    rows, cols = values.shape
    step = -(-max(rows, cols) // DISPLAY_MAX_SIDE)
    if max(rows, cols) > PICTURE_ABOVE_SIDE:
        picture = colored_png(values[::step, ::step], zmin, zmax, colorscale)
        return go.Figure(go.Image(source=picture, dx=step, dy=step, x0=0, y0=0, hoverinfo="skip"),
                         layout=_layout((rows, cols), title, pad, height))
    annotate = values.size <= ANNOTATE_MAX_CELLS
    trace = go.Heatmap(
        z=values, zmin=zmin, zmax=zmax, zmid=zmid,
        colorscale=colorscale, showscale=show_scale,
        hoverinfo="skip" if clickable else None,
        hovertemplate=None if clickable else f"{hover.row} %{{y}}, {hover.col} %{{x}}: %{{z:.4g}}<extra></extra>",
        text=[[fmt(v) if not np.isnan(v) else "" for v in row] for row in values] if annotate else None,
        texttemplate="%{text}" if annotate else None, textfont=dict(size=13),
        colorbar=dict(thickness=12, len=0.8),
    )
    traces = [trace]
    if clickable and values.size <= CLICKABLE_MAX_CELLS:
        r, c = np.divmod(np.arange(values.size), cols)
        traces.append(go.Scatter(
            x=c, y=r, mode="markers", customdata=np.stack([r, c], axis=1),
            marker=dict(symbol="square", size=max(6, 300 // max(rows, cols)), opacity=0.01, color="white"),
            hovertemplate=f"{hover.row} %{{customdata[0]}}, {hover.col} %{{customdata[1]}}: %{{text}}"
                          f"<extra>{hover.click}</extra>",
            text=[fmt(v) for v in values.ravel()],
        ))
    return go.Figure(traces, layout=_layout((rows, cols), title, pad, height, colorbar=show_scale))


@lru_cache(maxsize=8)
def palette(colorscale: str) -> np.ndarray:
    """(256, 3) uint8 colours sampled evenly from a Plotly colour scale."""
    samples = plotly.colors.sample_colorscale(plotly.colors.get_colorscale(colorscale), np.linspace(0, 1, 256))
    return np.array([plotly.colors.unlabel_rgb(c) for c in samples], dtype=np.float64).round().astype(np.uint8)


def colored_pixels(values: np.ndarray, zmin: float, zmax: float, colorscale: str) -> np.ndarray:
    """(H, W, 3) uint8: ``values`` coloured like a heatmap on ``[zmin, zmax]`` (NaN is grey)."""
    span = (zmax - zmin) or 1.0
    index = np.clip(np.nan_to_num((values - zmin) / span * 255, nan=0), 0, 255).astype(np.uint8)
    pixels = palette(colorscale)[index]
    pixels[np.isnan(values)] = 128
    return pixels


def colored_png(values: np.ndarray, zmin: float, zmax: float, colorscale: str) -> str:
    """``values`` coloured like a heatmap on ``[zmin, zmax]``, as a PNG data URI (NaN is grey)."""
    return _png_uri(colored_pixels(values, zmin, zmax, colorscale))


def rgb_png(channels: np.ndarray) -> str:
    """A (3, H, W) array in [0, 1] as a PNG data URI."""
    return _png_uri((np.clip(np.moveaxis(channels, 0, -1), 0, 1) * 255).astype(np.uint8))


def _png_uri(pixels: np.ndarray) -> str:
    buffer = io.BytesIO()
    # zlib level 1: a 256 x 256 photo in 7 ms instead of 40 ms (level 6), 16% more bytes.
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _outline(cells, color: str, dash: str, width: float) -> dict:
    """One path shape outlining every (row, col) in ``cells``: a shape per cell costs the browser far more."""
    path = "".join(f"M{col - 0.5},{row - 0.5}H{col + 0.5}V{row + 0.5}H{col - 0.5}Z" for row, col in cells)
    return dict(type="path", path=path, line=dict(color=color, width=width, dash=dash))


def _finder(fig: go.Figure, cells, color: str) -> None:
    """A larger square around ``cells`` when they are too small to find (on a photo their outline is
    a few pixels wide), moved inside the axes where it would stick out: it still holds them."""
    rows, cols = np.array(cells, dtype=float).T
    (left, right), (bottom, top) = fig.layout.xaxis.range, fig.layout.yaxis.range
    side = FINDER_SIDE * max(right - left, bottom - top)
    if max(np.ptp(rows), np.ptp(cols)) + 1 >= side / 3:
        return
    x0 = np.clip((cols.min() + cols.max() - side) / 2, left, right - side)
    y0 = np.clip((rows.min() + rows.max() - side) / 2, top, bottom - side)
    fig.add_shape(type="rect", x0=x0, x1=x0 + side, y0=y0, y1=y0 + side, line=dict(color=color, width=2))


def outline_cells(fig: go.Figure, cells, color: str = HIGHLIGHT, dash: str = "solid", width: float = 3,
                  finder: bool = True) -> go.Figure:
    """Draw a square outline around each (row, col) in ``cells`` and, where they are tiny, a finder."""
    cells = list(cells)
    if cells:
        fig.add_shape(**_outline(cells, color, dash, width))
        if finder:
            _finder(fig, cells, color)
    return fig


def outline_window(fig: go.Figure, report) -> go.Figure:
    """Outline a window on the input: real cells solid, padding dotted, and a finder if it is tiny."""
    present = [(row, col, report.real[a, b]) for a, row in enumerate(report.rows)
               for b, col in enumerate(report.cols) if report.present[a, b]]
    for real, dash, width in ((True, "solid", 3), (False, "dot", 2)):
        outline_cells(fig, [(row, col) for row, col, is_real in present if is_real == real], dash=dash,
                      width=width, finder=False)
    if present:
        _finder(fig, [(row, col) for row, col, _ in present], HIGHLIGHT)
    return fig


def outline_block(fig: go.Figure, rows, cols, color: str = "rgba(255,255,255,0.5)", dash: str = "dot") -> go.Figure:
    """Outline the rectangle spanning ``rows`` x ``cols`` (e.g. the padded border of the input)."""
    fig.add_shape(type="rect", x0=cols[0] - 0.5, x1=cols[1] + 0.5, y0=rows[0] - 0.5, y1=rows[1] + 0.5,
                  line=dict(color=color, width=1.5, dash=dash), fillcolor="rgba(0,0,0,0)")
    return fig


CLASS_COLOURS = ("#1f77b4", "#ff7f0e")
CURVE_COLOURS = ("#2ca02c", "#d62728")
BAR_GROUP = 0.8  # of the spacing between outcomes: Plotly's default gap between bar groups is 0.2


def _chart_layout(title: str, x_title: str, y_title: str, height: int) -> dict:
    return dict(title=dict(text=title, x=0.5, xanchor="center", font=dict(size=15)), height=height,
                margin=dict(l=50, r=10, t=40, b=45, autoexpand=False), xaxis=dict(title=dict(text=x_title)),
                yaxis=dict(title=dict(text=y_title)), showlegend=True,
                legend=dict(x=1, xanchor="right", y=1, yanchor="top", bgcolor="rgba(255,255,255,0.8)"),
                barmode="group")


def distributions(values, exact, simulated, names, simulated_name: str, title: str, x_title: str, y_title: str,
                  height: int = 340) -> go.Figure:
    """Exact distributions as bars, one group per class, with simulated frequencies as diamonds on them.

    ``values`` (K,) are the outcomes; ``exact`` and ``simulated`` hold one (K,) array of probabilities
    per class, ``names`` one legend name per class; the diamonds have one legend entry, ``simulated_name``.
    """
    values = np.asarray(values, dtype=np.float64)
    spacing = float(np.min(np.diff(values))) if values.size > 1 else 1.0
    width = BAR_GROUP * spacing / len(exact)  # of one class's bar
    traces = []
    for index, (probabilities, shares, name) in enumerate(zip(exact, simulated, names)):
        colour = CLASS_COLOURS[index % len(CLASS_COLOURS)]
        centre = values + (index - (len(exact) - 1) / 2) * width  # where Plotly draws this class's bar
        traces.append(go.Bar(x=values, y=probabilities, name=name, marker_color=colour))
        marker = dict(symbol="diamond", size=9, color=colour, line=dict(color="black", width=1))
        traces.append(go.Scatter(x=centre, y=shares, name=simulated_name, mode="markers", marker=marker,
                                 legendgroup="simulated", showlegend=index == 0))
    return go.Figure(traces, layout=_chart_layout(title, x_title, y_title, height))


def curves(x, series: dict, title: str, x_title: str, y_title: str, marker_x=None, height: int = 340,
           colours=CURVE_COLOURS) -> go.Figure:
    """One line per ``series`` entry (legend name -> (N,) values over ``x``), and a dotted vertical line
    at ``marker_x``. ``colours`` has one colour per series; ``None`` leaves them to Plotly. A legend
    of more than two lines goes below the plot, where it covers none of them."""
    traces = [go.Scatter(x=list(x), y=list(y), name=name, mode="lines",
                         line=dict(color=None if colours is None else colours[i], width=2))
              for i, (name, y) in enumerate(series.items())]
    layout = _chart_layout(title, x_title, y_title, height)
    if len(series) > 2:  # a row each: long names in a half-width column take one
        layout["legend"] = dict(orientation="h", x=0, xanchor="left", y=-0.2, yanchor="top")
        layout["margin"]["b"] = 80 + 20 * len(series)
        layout["height"] = height + 20 * len(series)
    fig = go.Figure(traces, layout=layout)
    if marker_x is not None:
        fig.add_vline(x=marker_x, line=dict(color=HIGHLIGHT, dash="dot", width=2))
    return fig


# ---------------------------------------------------------------- the which-pooling experiment

# Points nearer than this (in fractions of the axes' spans) have their labels on opposite sides.
LABEL_CLEARANCE = 0.08


def _span(values) -> float:
    return max(float(values.max() - values.min()), 0.01)


def label_positions(x, y) -> list[str]:
    """Where each point's label goes: on the side away from its nearest neighbour when that one is
    close, else above. Max and LIP pooling in the shipped experiment have the same accuracy and
    consistencies 0.01 apart, and above both their names were written over each other."""
    x, y = (np.asarray(v, dtype=float) for v in (x, y))
    across, up = (x - x.min()) / _span(x), (y - y.min()) / _span(y)
    positions = []
    for i in range(len(x)):
        distance = np.hypot(across - across[i], up - up[i])
        distance[i] = np.inf  # a lone point's nearest neighbour is then infinitely far
        j = int(np.argmin(distance))
        dx, dy = across[j] - across[i], up[j] - up[i]
        if distance[j] >= LABEL_CLEARANCE:
            positions.append("top center")
        elif abs(dx) > abs(dy):
            positions.append("middle left" if dx > 0 else "middle right")
        else:  # the lower of the two (the later one where they coincide) writes below
            positions.append("bottom center" if dy > 0 or (dy == 0 and i > j) else "top center")
    return positions


def labelled_scatter(x, y, labels, names, title: str, x_title: str, y_title: str, height: int = 420) -> go.Figure:
    """One point per item (e.g. an operator's accuracy against its shift consistency), marked with
    its short label (:func:`label_positions`) and hovered with its name; the axes leave room for
    the labels."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def room(values):
        return [float(values.min()) - 0.12 * _span(values), float(values.max()) + 0.12 * _span(values)]

    trace = go.Scatter(x=x.tolist(), y=y.tolist(), text=list(labels), hovertext=list(names), mode="markers+text",
                       textposition=label_positions(x, y), marker=dict(size=12, color=HIGHLIGHT),
                       hovertemplate="%{hovertext}: %{x:.4f}, %{y:.4f}<extra></extra>")
    return go.Figure(trace, layout=dict(title=dict(text=title), height=height, margin=dict(l=50, r=20, t=50, b=50),
                                        xaxis=dict(title=dict(text=x_title), range=room(x)),
                                        yaxis=dict(title=dict(text=y_title), range=room(y))))
