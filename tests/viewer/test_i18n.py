"""KPI labels: the label the simulation declared (recorded in the run's KPI table, or read
from the declaration for older runs), else the run's description; capitalised."""

from __future__ import annotations

import pandas as pd

from twin.sims.heat.sim import Heat
from twin.viewer.i18n import is_headline, kpi_label


def test_kpi_labels_come_from_the_run_table_then_the_declaration() -> None:
    row = pd.Series({"label_fr": "étiquette du calcul", "description": "x"})
    assert kpi_label("fr", "canopy_area_m2", row) == "Étiquette du calcul"
    old = pd.Series({"description": "mean UHI"})  # a run written before labels were kept
    spec = Heat.kpi_spec("uhi_mean_c")
    assert spec is not None
    assert kpi_label("fr", "uhi_mean_c", old) == spec.label["fr"]
    zone = kpi_label("fr", "units_at_risk[MONTPELLIER CENTRE]", old)
    assert zone == "Cellules à risque — MONTPELLIER CENTRE"
    assert kpi_label("en", "no_such_kpi", pd.Series({"description": "as described"})) == (
        "As described"
    )


def test_headline_flag_reads_booleans_and_csv_strings() -> None:
    assert is_headline(pd.Series({"headline": True}))
    assert not is_headline(pd.Series({"headline": "False"}))
    assert is_headline(pd.Series({"description": "no flag: an old run"}))
