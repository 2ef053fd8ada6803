"""KPIs for people: values, units and changes read the same in cards, export and report."""

from __future__ import annotations

import json

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


def test_values_and_changes_in_both_languages() -> None:
    assert show(382, "buildings", "fr") == "382 bâtiments"
    assert show(382, "buildings", "en") == "382 buildings"
    assert show(0.1234, "1", "fr") == "12.3 %"
    assert show(12345.6, "kWh", "fr") == "12,346 kWh"
    assert show(float("nan"), "kWh") == "–"
    assert change(397, 382, "buildings", "fr") == "-15 bâtiments (-3.8 %)"
    assert change(0.10, 0.125, "1") == "+2.5 pts"
    assert change(1_120_919 + 72_100, 1_120_919, "m²") == "-72,100 m² (-6.0 %)"
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
    cards = json.dumps(
        [c.to_plotly_json() for c in kpi_cards(child, parent, "fr")],
        default=str,
        ensure_ascii=False,
    )
    table = kpi_table(child, parent, "fr")
    for text in ("382 bâtiments", "-15 bâtiments (-3.8 %)", "6.5 ans", "+2.5 pts", "12.5 %"):
        assert text in cards and text in table, text
    assert "kpi good" in cards and "kpi bad" in cards  # fewer exposed: better; payback: worse
    assert "<tr class='good'>" in table and "<tr class='bad'>" in table
    assert "Bâtiments exposés" in table  # the heat simulation's declared label
    assert "buildings" not in table.replace("buildings_exposed", "")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_run_without_parent_shows_values_only(lang: str) -> None:
    cards = kpi_cards(_run({"energy_kwh_year": 1500.0}), None, lang)
    assert json.dumps(cards[0].to_plotly_json(), default=str).count("1,500 kWh") == 1


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
    assert list(bar.text) == ["de 0 à 26,484 kWh", ""]
