"""The legend of the side panel: one block (title, colour ramp, range) per visible layer."""

from __future__ import annotations

from typing import Any

from dash import html

from twin.viewer.i18n import tr, unit_label
from twin.viewer.numbers import number


def format_bound(v: float, lg: str = "en") -> str:
    """A legend bound in ``lg`` (three significant digits, the language's marks; ``–`` when
    not finite)."""
    return number(v, lg)


def legend_title(legend: dict[str, Any], lg: str) -> str:
    """What a payload's colours show: its declared label in ``lg`` (``legend["title"]``,
    else its English one), else the column it is coloured by."""
    title = legend.get("title") or {}
    return str(title.get(lg) or title.get("en") or legend["label"])


def unit_suffix(unit: str, lg: str) -> str:
    """`` [unit]`` in ``lg``; nothing for no unit or a share (unit ``1``)."""
    return f" [{unit_label(lg, unit)}]" if unit and unit != "1" else ""


def _blocks(base: dict[str, Any], data: dict[str, Any], lg: str) -> list[tuple[str, Any, str]]:
    """(layer title, payload or None, statistic) of every layer that may have a legend."""
    blocks = [
        (tr(lg, "layer.buildings"), base.get("buildings"), ""),
        (tr(lg, "layer.roads"), base.get("roads"), ""),
        (tr(lg, "layer.lamps"), base.get("lamps"), ""),
    ]
    # one block per sensor layer: its variable, averaged over time
    blocks += [
        (f"{tr(lg, 'layer.sensors')} ({p['layer']})", p, f", {tr(lg, 'sensors.mean')}")
        for p in base.get("sensors") or []
    ]
    left = data.get("left") or {}
    blocks += [
        (tr(lg, "layer.results"), left.get("points"), ""),
        (tr(lg, "layer.results"), left.get("paths"), ""),
        (tr(lg, "layer.results"), left.get("areas"), ""),
        (tr(lg, "layer.grid"), left.get("grid"), ""),
    ]
    return blocks


def legend_items(base: dict[str, Any], data: dict[str, Any], lg: str) -> list[Any]:
    """Legend blocks for the layers drawn.

    Parameters
    ----------
    base : dict
        The twin's static layers (:func:`twin.viewer.layers.base_payload`).
    data : dict
        The scenario payload (its ``left`` result layers: points, paths, grid).
    lg : str
        ``fr`` or ``en``.

    Returns
    -------
    list of dash.html.Div
        One block per layer: ``<layer> — <label>[, statistic] [unit]``, the colour ramp and
        its range.
    """
    items = []
    for title, p, stat in _blocks(base, data, lg):
        if not p:
            continue
        leg = p["legend"]
        stops = ", ".join(f"rgb({r},{g},{b})" for r, g, b in leg["stops"])
        head = f"{title} — {legend_title(leg, lg)}{stat}{unit_suffix(str(leg['unit']), lg)}"
        items.append(
            html.Div(
                className="legend-item",
                children=[
                    html.Div(head),
                    html.Div(
                        className="ramp", style={"background": f"linear-gradient(90deg, {stops})"}
                    ),
                    html.Div(
                        className="range",
                        children=(
                            [html.Span(f"{format_bound(leg['min'], lg)} ({tr(lg, 'legend.flat')})")]
                            if leg.get("flat")
                            else [
                                html.Span(format_bound(leg["min"], lg)),
                                html.Span(format_bound(leg["max"], lg)),
                            ]
                        ),
                    ),
                ],
            )
        )
    return items
