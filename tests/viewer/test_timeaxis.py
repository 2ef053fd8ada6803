"""One time slider for every time-varying layer: (time, y, x) grids and <metric>@<time> columns."""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd
import pytest

from twin.scenario.runner import Run
from twin.viewer import timeaxis as tx
from twin.viewer.layers import result_slots, run_layers, shared_ranges, time_labels, unit_of

from ._synthetic import HOURS, synthetic_run, write_run


def rgba(p: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(p["rgba"]), np.uint8).reshape(p["height"], p["width"], 4)


def test_labels_and_columns() -> None:
    assert tx.split_column("flow_veh_h@08:00") == ("flow_veh_h", "08:00")
    assert tx.split_column("flow_veh_h@08:00_diff") == ("flow_veh_h_diff", "08:00")
    assert tx.split_column("vacancy_risk@2026-03") == ("vacancy_risk", "2026-03")
    assert tx.split_column("height_m") == ("height_m", None)
    assert tx.label_of(np.datetime64("2026-07-15T13:00")) == "2026-07-15T13:00"
    assert tx.label_of(pd.Timestamp("2026-02-01")) == "2026-02-01"
    assert tx.pick(["2026-01", "2026-02"], "2026-07-15T12:00") == 1  # last month before
    assert tx.pick(["12:00", "13:00"], "12:30") == 0 and tx.pick([], "x") == 0
    assert tx.short_labels([f"{h:%Y-%m-%dT%H:%M}" for h in HOURS]) == ["12:00", "13:00", "14:00"]
    assert list(tx.marks([str(i) for i in range(40)], most=10)) == [
        0,
        4,
        8,
        12,
        16,
        20,
        24,
        28,
        32,
        36,
    ]
    assert unit_of("flow_veh_h@08:00_diff") == "veh/h" and unit_of("air_temperature_c") == "°C"


def test_one_axis_for_every_layer() -> None:
    r = synthetic_run()
    labels = time_labels(r)
    # hours of the grid, clock times of the lines, months of the points: one sorted axis
    assert labels == [
        "12:00",
        "13:00",
        "14:00",
        "2026-01",
        "2026-02",
        "2026-07-15T12:00",
        "2026-07-15T13:00",
        "2026-07-15T14:00",
    ]
    s = result_slots(r, when="2026-07-15T13:00")
    da, col, v, hint = s["grid"]
    assert da.dims == ("y", "x") and col == "air_temperature_c@2026-07-15T13:00"
    assert (
        hint["unit"] == "°C" and v[0, 0] == pytest.approx(26.0) and v[1, 1] == pytest.approx(25.0)
    )
    assert s["points"][1] == "vacancy_risk@2026-02"  # the month before the hour shown
    assert s["paths"][1] == "flow_veh_h@14:00"  # clock times sort before ISO dates
    assert result_slots(r, when="13:00")["paths"][1] == "flow_veh_h@13:00"
    np.testing.assert_allclose(result_slots(r, when="13:00")["paths"][2], [200.0, 50.0])


def test_slider_frames_render_differently_on_one_scale() -> None:
    r = synthetic_run()
    ranges = shared_ranges(r)
    assert ranges["grid"] == (20.0, 32.0)  # over every frame
    first = run_layers(r, ranges=ranges, when="2026-07-15T12:00")
    last = run_layers(r, ranges=ranges, when="2026-07-15T14:00")
    assert first["grid"]["legend"]["min"] == last["grid"]["legend"]["min"] == 20.0
    a, b = rgba(first["grid"]), rgba(last["grid"])
    assert (np.abs(a[..., :3].astype(int) - b[..., :3]).sum(axis=2) > 30).all()
    # comparisons of two time-varying runs keep the time axis (difference of one frame)
    hot = synthetic_run("hotter", offset=1.5)
    diff = hot.compare(r)
    s = result_slots(hot, diff=diff, when="2026-07-15T13:00")
    np.testing.assert_allclose(s["grid"][2], 1.5)
    assert time_labels(hot, r) == time_labels(r)


def test_time_run_round_trips_through_the_store(tmp_path) -> None:
    d = write_run(synthetic_run(), tmp_path)
    r = Run.open(d)
    assert time_labels(r) == time_labels(synthetic_run())
    np.testing.assert_allclose(result_slots(r, when="2026-07-15T14:00")["grid"][2][1, 1], 30.0)


def test_legend_has_every_result_slot_with_its_declared_title() -> None:
    """Points, lines and grid each get a legend block titled by their display hint (in the
    interface language); a share (unit ``1``) shows no unit."""
    from twin.viewer.legend import legend_items, unit_suffix

    r = synthetic_run()
    r.outputs["units"].display[0]["label"] = {"en": "Vacancy risk", "fr": "Risque de vacance"}
    r.outputs["flows"].display[0]["label"] = {"en": "Traffic flow", "fr": "Débit"}
    data = {"left": run_layers(r, when="2026-07-15T13:00")}
    heads = {
        lg: [item.children[0].children for item in legend_items({}, data, lg)]
        for lg in ("en", "fr")
    }
    assert heads["en"] == [
        "Results — Vacancy risk",
        "Results — Traffic flow [veh/h]",
        "Grid — air_temperature_c [°C]",
    ]
    assert heads["fr"][:2] == ["Résultats — Risque de vacance", "Résultats — Débit [véh/h]"]
    assert unit_suffix("1", "en") == unit_suffix("", "fr") == ""
