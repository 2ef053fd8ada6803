"""KPIs for people: values with their units, changes against the parent, cards and chart.

Shared by the viewer (cards and chart), the offline comparison and the printable report, so
that a KPI reads the same everywhere: the same label (:func:`twin.viewer.i18n.kpi_label`),
the same units in the interface language (:func:`twin.viewer.i18n.unit_label`), the same
change text and colour.
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import plotly.graph_objects as go
from dash import html

from twin.scenario.runner import Run
from twin.viewer.i18n import is_headline, kpi_label, tr, unit_label

#: Chart labels are wrapped at this many characters; each bar takes this many pixels.
LABEL_WIDTH = 48
BAR_HEIGHT = 40

#: Colours of a change: better, worse, neither.
PALETTE = {"good": "#1a9850", "bad": "#d73027", "neutral": "#9aa5ae"}


def judge(delta: float, better: str) -> str:
    """``good``, ``bad`` or ``neutral`` for a change, given which direction is better."""
    if not np.isfinite(delta) or abs(delta) < 1e-12 or better not in ("lower", "higher"):
        return "neutral"
    return "good" if (delta < 0) == (better == "lower") else "bad"


def show(value: float, unit: str, lang: str = "en") -> str:
    """A KPI value for people: shares (unit ``"1"``) as percentages, large numbers with
    separators, the unit in ``lang``."""
    v = float(value)
    if not np.isfinite(v):
        return "–"
    if unit == "1":
        return f"{100 * v:.1f} %"
    text = f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"
    return f"{text} {unit_label(lang, unit)}".rstrip()


def change(before: float, after: float, unit: str, lang: str = "en") -> str:
    """The change from ``before`` to ``after``: percentage points for shares, else the
    difference in the KPI's unit and the relative change; ``"–"`` when either is missing."""
    delta = float(after) - float(before)
    if not np.isfinite(delta):
        return "–"
    if unit == "1":
        return f"{100 * delta:+.1f} pts"
    pct = f" ({100 * delta / abs(before):+.1f} %)" if before else ""
    text = f"{delta:+,.0f}" if abs(delta) >= 100 else f"{delta:+.3g}"  # no 1e+04 for people
    return f"{text} {unit_label(lang, unit)}".rstrip() + pct


def parent_value(parent: Run | None, name: Any) -> float:
    """The parent's value of a KPI (NaN when there is no parent or no such KPI)."""
    if parent is None or name not in parent.kpis.index:
        return float("nan")
    return float(parent.kpis.loc[name, "value"])


def kpi_cards(r: Run, parent: Run | None, lang: str) -> list[Any]:
    """One card per KPI: value, unit, change against the parent (coloured by `better`)."""
    cards = []
    for k, row in r.kpis.iterrows():
        a, b, unit = parent_value(parent, k), float(row["value"]), str(row["unit"])
        moved = parent is not None and np.isfinite(b - a)
        cards.append(
            html.Div(
                className=f"kpi {judge(b - a, str(row.get('better', 'neutral')))}",
                children=[
                    html.Div(kpi_label(lang, str(k), row), className="kpi-label"),
                    html.Div(show(b, unit, lang), className="kpi-value"),
                    html.Div(change(a, b, unit, lang) if moved else "", className="kpi-delta"),
                ],
            )
        )
    return cards


def kpi_chart(r: Run, parent: Run | None, lang: str) -> go.Figure:
    """Bar chart of the % change of each KPI against the parent (green better, red worse),
    diagnostics of the methods (solver gaps, fit statistics) left out: the % change of a
    convergence tolerance says nothing about the scenario and would dwarf the other bars."""
    fig = go.Figure()
    if parent is not None:
        idx = [k for k, row in r.kpis.iterrows() if k in parent.kpis.index and is_headline(row)]
        a = parent.kpis.loc[idx, "value"].astype(float)
        b = r.kpis.loc[idx, "value"].astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = np.where(a.abs() > 0, 100 * (b - a) / a.abs(), 0.0)
        pct = np.nan_to_num(pct)
        colours = [PALETTE[judge(float(b[k] - a[k]), str(r.kpis.loc[k, "better"]))] for k in idx]
        labels = [kpi_label(lang, str(k), r.kpis.loc[k]) for k in idx]
        # a change from zero has no percentage: no bar, its new value written instead
        fresh = [
            tr(lang, "chart.from_zero").format(value=show(b[k], str(r.kpis.loc[k, "unit"]), lang))
            if a[k] == 0 and b[k] != 0
            else ""
            for k in idx
        ]
        fig.add_bar(
            x=pct,
            y=["<br>".join(textwrap.wrap(t, LABEL_WIDTH)) for t in labels],
            orientation="h",
            marker_color=colours,
            customdata=labels,
            hovertemplate="%{customdata}: %{x:+.1f} %<extra></extra>",
            text=fresh,
            textposition="outside",
            cliponaxis=False,
        )
    n = len(fig.data[0].y) if fig.data else 0
    fig.update_layout(
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        height=max(200, 60 + BAR_HEIGHT * n),
        yaxis={"autorange": "reversed"},  # in the order of the cards
        title=tr(lang, "chart.title"),
        xaxis_title="%",
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
    )
    return fig
