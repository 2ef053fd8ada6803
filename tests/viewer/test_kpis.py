"""KPIs for people: values, units and changes read the same in cards, export and report."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from twin.scenario.runner import Run
from twin.viewer.i18n import kpi_label, unit_label
from twin.viewer.kpis import change, judge, kpi_cards, show
from twin.viewer.report import kpi_table


def _run(values: dict[str, float]) -> Run:
    rows = {
        "buildings_exposed": ["heat", "buildings", "buildings exposed to very strong heat stress",
                              "lower"],
        "retrofit_payback_years": ["lighting", "years", "simple payback of LED retrofits",
                                   "lower"],
        "vacancy_rate": ["commerce", "1", "vacancy rate", "lower"],
        "energy_kwh_year": ["lighting", "kWh", "energy", "lower"],
    }  # fmt: skip
    kpis = pd.DataFrame(
        [[rows[k][0], v, *rows[k][1:]] for k, v in values.items()],
        index=pd.Index(list(values), name="kpi"),
        columns=["simulation", "value", "unit", "description", "better"],
    )
    return Run(scenario=None, run_id="r", kpis=kpis, outputs={}, manifest={})  # type: ignore[arg-type]


def texts(component: Any) -> list[str]:
    """Every text of a Dash component tree, in order (what the page shows)."""
    if isinstance(component, str):
        return [component]
    if isinstance(component, (list, tuple)):
        return [t for c in component for t in texts(c)]
    return texts(getattr(component, "children", None) or [])


def test_values_and_changes_in_both_languages() -> None:
    """French numbers as French readers read them (Babel's CLDR data): "22 011 m²" with a
    narrow no-break space, a decimal comma, a no-break space before %; English ones with
    commas and points. Three significant digits: no "−0.00867 °C (−0.0 %)"."""
    nn, nb = "\u202f", "\u00a0"
    assert show(382, "buildings", "fr") == "382 bâtiments"
    assert show(382, "buildings", "en") == "382 buildings"
    assert show(0.1234, "1", "fr") == f"12,3{nb}%" and show(0.1234, "1", "en") == "12.3%"
    assert show(12345.6, "kWh", "fr") == f"12{nn}346 kWh"
    assert show(22011.2, "m²", "en") == "22,011 m²"
    assert show(3.14159, "°C", "fr") == "3,14 °C"
    assert show(float("nan"), "kWh") == "–"
    assert change(397, 382, "buildings", "fr") == f"-15 bâtiments (-3,8{nb}%)"
    assert change(0.10, 0.125, "1") == "+2.5 pts"
    assert change(0.10, 0.125, "1", "fr") == "+2,5 pts"
    assert change(1_120_919 + 72_100, 1_120_919, "m²") == "-72,100 m² (-6.0%)"
    assert change(30.0, 30.0 - 0.008674, "°C", "fr") == "-0,00867 °C (≈ 0 %)"
    assert change(float("nan"), 3, "years") == "–"
    assert change(0, 3, "years", "fr") == "+3 ans"  # no relative change from zero
    assert unit_label("fr", "°C") == "°C" and unit_label("en", "years") == "years"
    assert judge(-1.0, "lower") == "good" and judge(1.0, "lower") == "bad"
    assert judge(1.0, "neutral") == "neutral" and judge(1e-15, "higher") == "neutral"


def test_labels_are_capitalised_and_french_from_the_simulation() -> None:
    # the heat simulation's declared French label, capitalised
    fr = kpi_label("fr", "uhi_mean_c", pd.Series({"description": "mean UHI intensity"}))
    assert fr[0].isupper() and "îlot de chaleur" in fr.lower()
    row = pd.Series({"description": "some description"})
    assert kpi_label("en", "not_a_kpi", row) == "Some description"


def test_cards_and_report_agree(tmp_path: object) -> None:
    parent = _run({"buildings_exposed": 397, "retrofit_payback_years": 6.0, "vacancy_rate": 0.10})
    child = _run({"buildings_exposed": 382, "retrofit_payback_years": 6.5, "vacancy_rate": 0.125})
    found = kpi_cards(child, parent, "fr")
    cards = " | ".join(texts(found)) + " " + " ".join(c.className for c in found)
    table = kpi_table(child, parent, "fr")
    for text in ("382 bâtiments", "6,5 ans", "+2,5 pts", "12,5\u00a0%"):
        assert text in cards and text in table, text
    # the card: the relative change large, with its direction and verdict, the difference
    assert "▼ |  -3,8\u00a0% |  · mieux | -15 bâtiments" in cards
    assert "-15 bâtiments (-3,8\u00a0%)" in table
    assert "kpi good" in cards and "kpi bad" in cards  # fewer exposed: better; payback: worse
    assert "<tr class='good'>" in table and "<tr class='bad'>" in table
    assert "Bâtiments exposés" in table  # the heat simulation's declared label
    assert "buildings" not in table.replace("buildings_exposed", "")


@pytest.mark.parametrize(("lang", "text"), [("fr", "1\u202f500 kWh"), ("en", "1,500 kWh")])
def test_a_run_without_parent_shows_values_only(lang: str, text: str) -> None:
    cards = kpi_cards(_run({"energy_kwh_year": 1500.0}), None, lang)
    assert texts(cards).count(text) == 1


def test_chart_labels_wrapped_in_card_order_and_height_follows() -> None:
    from twin.viewer.kpis import BAR_HEIGHT, LABEL_WIDTH, kpi_chart

    parent = _run({"buildings_exposed": 397, "retrofit_payback_years": 6.0, "vacancy_rate": 0.10})
    child = _run({"buildings_exposed": 382, "retrofit_payback_years": 6.5, "vacancy_rate": 0.125})
    fig = kpi_chart(child, parent, "fr")
    (bar,) = fig.data
    # the heat simulation's declared label, whole in the hover text
    assert bar.customdata[0] == kpi_label("fr", "buildings_exposed", child.kpis.iloc[0])
    assert bar.customdata[0].startswith("Bâtiments exposés")
    assert all(len(line) <= LABEL_WIDTH for y in bar.y for line in y.split("<br>"))
    assert bar.y[0].replace("<br>", " ") == bar.customdata[0]
    assert list(bar.x) == pytest.approx([100 * (382 - 397) / 397, 100 * 0.5 / 6, 25.0])
    assert fig.layout.height == max(200, 60 + 3 * BAR_HEIGHT)
    assert fig.layout.yaxis.autorange == "reversed"


def test_a_change_from_zero_is_written_not_charted() -> None:
    from twin.viewer.kpis import kpi_chart

    parent = _run({"energy_kwh_year": 0.0, "vacancy_rate": 0.10})
    child = _run({"energy_kwh_year": 26_484.0, "vacancy_rate": 0.10})
    (bar,) = kpi_chart(child, parent, "fr").data
    assert list(bar.x) == [0.0, 0.0]
    assert list(bar.text) == ["de 0 à 26\u202f484 kWh", ""]


def test_headline_results_first_diagnostics_folded() -> None:
    """An official reads the results first; the methods' diagnostics (a solver gap) are
    folded under their own heading, after them, whatever the order of the KPI table."""
    from dash import html

    parent = _run({"energy_kwh_year": 1000.0, "vacancy_rate": 0.10})
    child = _run({"energy_kwh_year": 1500.0, "vacancy_rate": 0.10})
    for r in (parent, child):
        r.kpis["headline"] = [False, True]  # energy as if it were a diagnostic
    cards = kpi_cards(child, parent, "fr")
    assert texts(cards[0])[0] == "Vacancy rate"
    folded = cards[-1]
    assert isinstance(folded, html.Details)
    assert texts(folded)[0].startswith("Diagnostics des calculs")
    assert "1\u202f500 kWh" in texts(folded) and "1\u202f500 kWh" not in texts(cards[:-1])
