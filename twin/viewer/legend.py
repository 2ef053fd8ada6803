"""The legends of the layers drawn: one block (title, colour ramp, range) per layer.

The blocks are built once, as data (:func:`legend_blocks`), and rendered twice: as Dash
components in the viewer's side panel (:func:`legend_items`) and as an HTML string in the
offline comparison (:func:`legend_html`), so that both read the same.
"""

from __future__ import annotations

import html as _html
from dataclasses import dataclass
from typing import Any

from dash import html

from twin.viewer.i18n import tr, unit_label
from twin.viewer.numbers import number

#: What a difference's title starts with (scenario − parent).
DELTA = "Δ "


@dataclass(frozen=True)
class LegendBlock:
    """The legend of one layer, in one language.

    Attributes
    ----------
    layer : str
        The layer's name for people (``Bâtiments (3D)``, ``Résultats``).
    title : str
        What its colours show: the variable's declared label (``Δ`` first for a
        difference), with the statistic shown when there is one (``, moyenne dans le temps``).
    unit : str
        The unit in the language, as `` [unit]`` (empty for no unit or a share).
    stops : list of tuple of int
        The colour ramp, RGB 0–255, from the low to the high end.
    low, high : str
        The range's ends, as numbers in the language (``high`` empty when ``flat``).
    flat : bool
        One value everywhere: ``low`` then says so (``100 (partout)``).
    categories : tuple of (str, tuple of int)
        For a categorical layer, each category's name in the language (``oui`` / ``non`` for
        a yes/no value) and its colour; empty for a ramp.
    unit_code : str
        The unit as declared (``1`` for a share, empty for none).
    """

    layer: str
    title: str
    unit: str
    stops: tuple[tuple[int, int, int], ...]
    low: str
    high: str
    flat: bool
    categories: tuple[tuple[str, tuple[int, int, int]], ...] = ()
    unit_code: str = ""

    @property
    def kind(self) -> str:
        """``categories``, ``unit`` (a ramp whose title names its unit) or ``plain`` (a ramp
        of values without unit: a share, unit ``1``, or a count)."""
        return "categories" if self.categories else ("unit" if self.unit else "plain")

    @property
    def head(self) -> str:
        """The block's title line: ``<layer> — <title> [unit]``."""
        return f"{self.layer} — {self.title}{self.unit}"

    @property
    def gradient(self) -> str:
        """The ramp as a CSS background."""
        stops = ", ".join(f"rgb({r},{g},{b})" for r, g, b in self.stops)
        return f"linear-gradient(90deg, {stops})"


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


def category_names(values: list[float], lg: str) -> list[str]:
    """The names of a categorical legend's values in ``lg``: *non* / *oui* for a yes/no
    value (0 / 1), else the values as numbers."""
    if {float(v) for v in values} <= {0.0, 1.0} and len(values) == 2:
        return [tr(lg, "tip.no"), tr(lg, "tip.yes")]
    return [number(float(v), lg) for v in values]


def _categories(leg: dict[str, Any], lg: str) -> tuple[tuple[str, tuple[int, int, int]], ...]:
    """(name, colour) of each category of a categorical payload's legend (else empty)."""
    values = leg.get("categories")
    if not values:
        return ()
    names = category_names(values, lg)
    return tuple(
        (n, (int(c[0]), int(c[1]), int(c[2]))) for n, c in zip(names, leg["stops"], strict=True)
    )


def _layers(
    base: dict[str, Any], data: dict[str, Any], lg: str
) -> list[tuple[str, Any, str, bool]]:
    """(layer title, payload or None, statistic, whether a result) of every layer that may
    have a legend."""
    blocks = [
        (tr(lg, "layer.buildings"), base.get("buildings"), "", False),
        (tr(lg, "layer.roads"), base.get("roads"), "", False),
        (tr(lg, "layer.lamps"), base.get("lamps"), "", False),
    ]
    # one block per sensor layer: its variable, averaged over time
    blocks += [
        (f"{tr(lg, 'layer.sensors')} ({p['layer']})", p, f", {tr(lg, 'sensors.mean')}", False)
        for p in base.get("sensors") or []
    ]
    left = data.get("left") or {}
    blocks += [
        (tr(lg, "layer.results"), left.get("points"), "", True),
        (tr(lg, "layer.results"), left.get("paths"), "", True),
        (tr(lg, "layer.results"), left.get("areas"), "", True),
        (tr(lg, "layer.grid"), left.get("grid"), "", True),
    ]
    return blocks


def legend_blocks(
    base: dict[str, Any], data: dict[str, Any], lg: str, *, difference: bool = False
) -> list[LegendBlock]:
    """The legend of the layers drawn, as data.

    Parameters
    ----------
    base : dict
        The twin's static layers (:func:`twin.viewer.layers.base_payload`).
    data : dict
        The scenario payload (its ``left`` result layers: points, paths, areas, grid).
    lg : str
        ``fr`` or ``en``.
    difference : bool
        The result layers are differences (scenario − parent): their titles start with
        ``Δ``.

    Returns
    -------
    list of LegendBlock
        One block per layer drawn, in the side panel's order.
    """
    out = []
    for layer, p, stat, result in _layers(base, data, lg):
        if not p:
            continue
        leg = p["legend"]
        delta = DELTA if difference and result else ""
        flat = bool(leg.get("flat"))
        out.append(
            LegendBlock(
                layer=layer,
                title=f"{delta}{legend_title(leg, lg)}{stat}",
                unit=unit_suffix(str(leg["unit"]), lg),
                stops=tuple((int(r), int(g), int(b)) for r, g, b in leg["stops"]),
                low=format_bound(leg["min"], lg) + (f" ({tr(lg, 'legend.flat')})" if flat else ""),
                high="" if flat else format_bound(leg["max"], lg),
                flat=flat,
                categories=_categories(leg, lg),
                unit_code=str(leg["unit"]),
            )
        )
    return out


def _swatches(b: LegendBlock) -> Any:
    """A categorical block's categories: a colour swatch and the category's name each."""
    return html.Div(
        className="categories",
        children=[
            html.Span(
                className="cat",
                children=[
                    html.Span(className="swatch", style={"background": f"rgb{c}"}),
                    name,
                ],
            )
            for name, c in b.categories
        ],
    )


def legend_items(
    base: dict[str, Any], data: dict[str, Any], lg: str, *, difference: bool = False
) -> list[Any]:
    """The side panel's legend: :func:`legend_blocks` (same parameters) as Dash components.

    Returns
    -------
    list of dash.html.Div
        One block per layer: ``<layer> — <label>[, statistic] [unit]``, the colour ramp and
        its range (or the categories and their colours).
    """
    return [
        html.Div(
            className="legend-item",
            # what the legend is of, for tools and tests: a ramp with a unit, a share, or
            # categories
            **{"data-kind": b.kind, "data-unit": b.unit_code},  # type: ignore[arg-type]  # data-* props
            children=[html.Div(b.head), _swatches(b)]
            if b.categories
            else [
                html.Div(b.head),
                html.Div(className="ramp", style={"background": b.gradient}),
                html.Div(
                    className="range",
                    children=[html.Span(b.low)]
                    if b.flat
                    else [html.Span(b.low), html.Span(b.high)],
                ),
            ],
        )
        for b in legend_blocks(base, data, lg, difference=difference)
    ]


def legend_html(blocks: list[LegendBlock]) -> str:
    """:func:`legend_blocks` as HTML (the side panel's classes; every text escaped)."""
    out = []
    for b in blocks:
        if b.categories:
            cats = "".join(
                f"<span class='cat'><span class='swatch' style='background: rgb{c}'></span>"
                f"{_html.escape(name)}</span>"
                for name, c in b.categories
            )
            out.append(
                f"<div class='legend-item'><div>{_html.escape(b.head)}</div>"
                f"<div class='categories'>{cats}</div></div>"
            )
            continue
        ends = [b.low] if b.flat else [b.low, b.high]
        spans = "".join(f"<span>{_html.escape(t)}</span>" for t in ends)
        out.append(
            "<div class='legend-item'>"
            f"<div>{_html.escape(b.head)}</div>"
            f"<div class='ramp' style='background: {_html.escape(b.gradient)}'></div>"
            f"<div class='range'>{spans}</div></div>"
        )
    return "".join(out)
