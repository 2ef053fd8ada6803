"""KPIs for people: values with their units, changes against the parent, cards and chart.

Shared by the viewer (cards and chart), the offline comparison and the printable report, so
that a KPI reads the same everywhere: the same label (:func:`twin.viewer.i18n.kpi_label`),
the same units in the interface language (:func:`twin.viewer.i18n.unit_label`), the same
change text and colour.
"""

from __future__ import annotations

import html as _html
import textwrap
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
from dash import html

from twin.scenario.runner import Run
from twin.viewer.i18n import is_headline, kpi_label, tr, unit_label
from twin.viewer.numbers import number, percent, signed

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
    """A KPI value for people, in ``lang`` (:mod:`twin.viewer.numbers`): shares (unit ``"1"``)
    as percentages, other values with three significant digits, the unit in ``lang``."""
    v = float(value)
    if not np.isfinite(v):
        return "–"
    if unit == "1":
        return percent(v, lang)
    return f"{number(v, lang)} {unit_label(lang, unit)}".rstrip()


def change(before: float, after: float, unit: str, lang: str = "en") -> str:
    """The change from ``before`` to ``after`` in ``lang``: percentage points for shares,
    else the difference in the KPI's unit and the relative change; ``"–"`` when either is
    missing."""
    delta = float(after) - float(before)
    if not np.isfinite(delta):
        return "–"
    if unit == "1":
        return f"{signed(100 * delta, lang, 2)} {tr(lang, 'unit.points')}"
    pct = f" ({percent(delta / abs(before), lang, sign=True)})" if before else ""
    return f"{signed(delta, lang)} {unit_label(lang, unit)}".rstrip() + pct


def parent_value(parent: Run | None, name: Any) -> float:
    """The parent's value of a KPI (NaN when there is no parent or no such KPI)."""
    if parent is None or name not in parent.kpis.index:
        return float("nan")
    return float(parent.kpis.loc[name, "value"])


def headline_change(before: float, after: float, unit: str, lang: str) -> str:
    """The change a card shows large: relative to the parent (the chart's measure), else
    (from zero) the difference in the KPI's unit or in points."""
    delta = float(after) - float(before)
    if not np.isfinite(delta):
        return "–"
    if before:
        return percent(delta / abs(float(before)), lang, sign=True)
    return change(before, after, unit, lang)


def absolute_change(before: float, after: float, unit: str, lang: str) -> str:
    """The difference a card shows under its relative change (points for shares)."""
    delta = float(after) - float(before)
    if not np.isfinite(delta) or not before:
        return ""
    if unit == "1":
        return f"{signed(100 * delta, lang, 2)} {tr(lang, 'unit.points')}"
    return f"{signed(delta, lang)} {unit_label(lang, unit)}".rstrip()


def arrow(delta: float) -> str:
    """The direction of a change (its verdict is said in words: colour is never the only
    cue)."""
    return "▲" if delta > 0 else "▼" if delta < 0 else "="


def _card(k: Any, row: Any, parent: Run | None, lang: str) -> html.Div:
    """One KPI card: label, value, the change large with its verdict, the difference."""
    a, b, unit = parent_value(parent, k), float(row["value"]), str(row["unit"])
    verdict = judge(b - a, str(row.get("better", "neutral")))
    moved = parent is not None and np.isfinite(b - a)
    children: list[Any] = [
        html.Div(kpi_label(lang, str(k), row), className="kpi-label"),
        html.Div(show(b, unit, lang), className="kpi-value"),
    ]
    if moved:
        words = tr(lang, f"kpi.{verdict}")
        children += [
            html.Div(
                [
                    html.Span(arrow(b - a), className="kpi-icon"),
                    f" {headline_change(a, b, unit, lang)}",
                    html.Span(f" · {words}" if words else "", className="kpi-verdict"),
                ],
                className="kpi-change",
            ),
            html.Div(absolute_change(a, b, unit, lang), className="kpi-delta"),
        ]
    return html.Div(children, className=f"kpi {verdict}")


def kpi_groups(r: Run) -> tuple[list[tuple[Any, Any]], list[tuple[Any, Any]]]:
    """The run's KPIs as (name, row) pairs: the headline results, then the diagnostics of
    the methods (solver gaps, fit statistics), each in the order of the KPI table."""
    rows = list(r.kpis.iterrows())
    return [kr for kr in rows if is_headline(kr[1])], [kr for kr in rows if not is_headline(kr[1])]


def kpi_cards(r: Run, parent: Run | None, lang: str) -> list[Any]:
    """The KPI cards: headline results first, each with its value, its change against the
    parent large and signed, coloured and worded by better/worse; the diagnostics of the
    methods (solver gaps, fit statistics) folded away under their own heading."""
    headline, diagnostics = kpi_groups(r)
    head = [_card(k, row, parent, lang) for k, row in headline]
    diag = [_card(k, row, parent, lang) for k, row in diagnostics]
    if diag:
        summary = html.Summary(tr(lang, "kpi.diagnostics"))
        folded = html.Details([summary, html.Div(diag, className="kpis")], className="kpi-diag")
        return [*head, folded]
    return head


@dataclass(frozen=True)
class KpiLine:
    """One KPI of a comparison, as texts for people (a row of :func:`kpi_table`).

    Attributes
    ----------
    label : str
        The KPI's label in the language.
    parent, scenario : str
        The parent's and the scenario's values with their unit (``–`` when missing).
    change : str
        The signed change with its unit and, when meaningful, the relative change
        (:func:`change`).
    verdict : {"good", "bad", "neutral"}
        Whether the change is an improvement (:func:`judge`).
    words : str
        The verdict in words (``mieux``, ``moins bien``; empty when neither).
    """

    label: str
    parent: str
    scenario: str
    change: str
    verdict: str
    words: str


def kpi_line(name: Any, row: Any, parent: Run | None, lang: str) -> KpiLine:
    """The texts of KPI ``name`` (its ``row`` of the run's KPI table) against ``parent``."""
    a, b, unit = parent_value(parent, name), float(row["value"]), str(row["unit"])
    verdict = judge(b - a, str(row.get("better", "neutral")))
    return KpiLine(
        label=kpi_label(lang, str(name), row),
        parent=show(a, unit, lang),
        scenario=show(b, unit, lang),
        change=change(a, b, unit, lang),
        verdict=verdict,
        words=tr(lang, f"kpi.{verdict}"),
    )


def kpi_table(r: Run, parent: Run | None, lang: str) -> str:
    """The KPI table as HTML (the offline comparison and the printable report).

    Columns: indicator, parent, scenario, change (:func:`change`) and the verdict in words;
    each row's class is its verdict (``good``, ``bad``, ``neutral``), for colour. Headline
    results first, then the methods' diagnostics under their own heading row (as the
    cards, :func:`kpi_cards`). Every text is escaped.
    """
    cols = ("kpi.indicator", "kpi.parent", "kpi.scenario", "kpi.change", "kpi.verdict")
    head = "".join(f"<th>{_html.escape(tr(lang, c))}</th>" for c in cols)
    headline, diagnostics = kpi_groups(r)
    rows = [_table_row(kpi_line(k, row, parent, lang)) for k, row in headline]
    if diagnostics:
        title = _html.escape(tr(lang, "kpi.diagnostics"))
        rows.append(f"<tr class='diag'><th colspan='{len(cols)}'>{title}</th></tr>")
        rows += [_table_row(kpi_line(k, row, parent, lang)) for k, row in diagnostics]
    return f"<table class='kpitable'><tr>{head}</tr>{''.join(rows)}</table>"


def _table_row(line: KpiLine) -> str:
    e = _html.escape
    return (
        f"<tr class='{line.verdict}'><td>{e(line.label)}</td>"
        f"<td class='num'>{e(line.parent)}</td>"
        f"<td class='num'>{e(line.scenario)}</td>"
        f"<td class='num chg'>{e(line.change)}</td>"
        f"<td class='verdict'>{e(line.words or '–')}</td></tr>"
    )


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
