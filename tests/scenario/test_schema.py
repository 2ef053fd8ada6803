"""Scenario files: one error listing every problem; JSON Schema; fuzzing never crashes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin.errors import InputError, SchemaError, TwinError
from twin.scenario.schema import Scenario, scenario_json_schema

ROOT = Path(__file__).resolve().parents[2]

BAD = """
name: bad scenario
parent: baseline
colour: blue
interventions:
  - type: close_links
    target: {layer: roads, ids: [a], where: {name: x}}
  - type: fly
  - type: dimming_schedule
    target: {layer: street_lamps}
    schedule:
      - {start: "23:00", level: 1.5}
  - type: roadworks
    target: {layer: roads}
    start: 2027-05-01
    end: 2027-04-01
simulations: [accessibility]
parameters: {heat: {}}
"""


def test_every_problem_listed_with_its_path(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text(BAD)
    with pytest.raises(SchemaError) as err:
        Scenario.from_yaml(p)
    text = str(err.value)
    assert text.startswith(str(p))
    expected = [
        "name: String should match pattern",
        "colour: unknown field",
        "interventions[0].target: Value error, give only one of ids, where, geometry".replace(
            "Value error, ", ""
        ),
        "interventions[1]: unknown intervention type 'fly'",
        "interventions[2].schedule[0].level: must be between 0 and 1",
        "interventions[3]: end must not be before start",
        "parameters: parameters given for simulations not run: ['heat']",
    ]
    for line in expected:
        assert line in text, line
    assert "7 problem(s)" in text


def test_shipped_scenarios_are_valid() -> None:
    for p in sorted((ROOT / "scenarios").glob("*.yaml")):
        sc = Scenario.from_yaml(p)
        assert sc.source == p.resolve()


def test_json_schema_published() -> None:
    schema = scenario_json_schema()
    assert schema["title"] == "twin scenario"
    kinds = json.dumps(schema)
    for t in ("close_links", "plant_trees", "led_retrofit", "pipe_break", "shopping_centre"):
        assert t in kinds
    import jsonschema

    # a peer validator accepts the shipped scenarios and rejects a broken one
    validator = jsonschema.Draft202012Validator(schema)
    for p in sorted((ROOT / "scenarios").glob("*.yaml")):
        data = json.loads(json.dumps(yaml.safe_load(p.read_text()), default=str))
        assert not list(validator.iter_errors(data)), p
    assert list(validator.iter_errors({"name": "x", "interventions": [{"type": "fly"}]}))
    # the parameters of each simulation, with their bounds, are in the published schema
    hostile = {"name": "x", "simulations": ["heat"], "parameters": {"heat": {"spinup_hours": 1e9}}}
    errors = list(validator.iter_errors(hostile))
    assert errors and "spinup_hours" in str(errors[0].path), errors
    typo = {"name": "x", "simulations": ["heat"], "parameters": {"heat": {"spinup_hour": 6}}}
    assert list(validator.iter_errors(typo))


def test_missing_and_unparseable_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        Scenario.from_yaml(tmp_path / "none.yaml")
    p = tmp_path / "x.yaml"
    p.write_text("name: [oops\n")
    with pytest.raises(SchemaError, match="not valid YAML"):
        Scenario.from_yaml(p)
    p.write_text("- just\n- a list\n")
    with pytest.raises(SchemaError, match="must be a mapping"):
        Scenario.from_yaml(p)


values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-10, 10)
    | st.floats(allow_nan=True)
    | st.text(max_size=12)
    | st.sampled_from(["close_links", "plant_trees", "baseline", "roads", "23:00", "2027-01-01"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "name",
                    "type",
                    "target",
                    "layer",
                    "ids",
                    "where",
                    "schedule",
                    "level",
                    "start",
                    "end",
                    "parent",
                    "interventions",
                    "simulations",
                    "seed",
                    "geometry",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.dictionaries(
        st.sampled_from(
            [
                "name",
                "parent",
                "interventions",
                "simulations",
                "parameters",
                "seed",
                "kpis",
                "description",
            ]
        ),
        values,
        max_size=6,
    )
)
def test_fuzzed_scenarios_never_crash(data: dict) -> None:
    try:
        Scenario.from_dict(data)
    except TwinError as exc:
        assert "problem(s)" in str(exc) or "mapping" in str(exc)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_fuzzed_yaml_text_never_crashes(
    text: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    p = tmp_path_factory.mktemp("fuzz") / "s.yaml"
    p.write_text(text, encoding="utf-8")
    try:
        Scenario.from_yaml(p)
    except TwinError:
        pass


def test_yaml_roundtrip_of_a_valid_scenario(tmp_path: Path) -> None:
    sc = Scenario.from_yaml(ROOT / "scenarios" / "closure.yaml")
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(sc.model_dump(mode="json")))
    assert Scenario.from_yaml(p).canonical_json() == sc.canonical_json()


def test_commerce_interventions_new_parking_and_vacancy_tax() -> None:
    ok = Scenario.from_dict(
        {
            "name": "shops",
            "interventions": [
                {"type": "new_parking", "spaces": 300,
                 "location": {"layer": "car_parks",
                              "geometry": {"type": "Point", "coordinates": [24.94, 60.17]}}},
                {"type": "vacancy_tax", "rate": 0.1, "target": {"layer": "shops"}},
            ],
        }
    )  # fmt: skip
    assert [iv.type for iv in ok.interventions] == ["new_parking", "vacancy_tax"]
    with pytest.raises(SchemaError) as e:
        Scenario.from_dict(
            {
                "name": "shops",
                "interventions": [
                    {"type": "new_parking", "location": {"layer": "car_parks"}, "spaces": 0},
                    {"type": "vacancy_tax", "rate": 1.5, "target": {"layer": "shops"}},
                    {"type": "vacancy_tax", "target": {"layer": "shops"}},
                ],
            }
        )
    text = str(e.value)
    assert "interventions[0].spaces: Input should be greater than 0" in text
    assert "interventions[1].rate: Input should be less than or equal to 1" in text
    assert "interventions[2].rate: Field required" in text
