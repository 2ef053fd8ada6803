"""KPI labels: the viewer's own, else the simulation's French description, else the run's;
capitalised."""

from __future__ import annotations

from twin.sims.heat.sim import Heat
from twin.viewer.i18n import kpi_label


def test_kpi_labels_fall_back_to_the_simulations_french_text() -> None:
    assert kpi_label("fr", "canopy_area_m2", "x") == "Canopée"  # the viewer's table
    fr = Heat.kpi_fr["uhi_mean_c"]
    assert kpi_label("fr", "uhi_mean_c", "mean UHI") == fr[0].upper() + fr[1:]
    zone = kpi_label("fr", "units_at_risk[MONTPELLIER CENTRE]", "x")
    assert zone.endswith(" — MONTPELLIER CENTRE") and "risque" in zone
    assert kpi_label("en", "uhi_mean_c", "mean UHI intensity") == "Mean UHI intensity"
    assert kpi_label("fr", "no_such_kpi", "as described") == "As described"
