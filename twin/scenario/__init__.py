"""Scenario engine: schema, interventions, runner, comparison, algorithm notice."""

from twin.scenario.compare import Comparison, compare_runs
from twin.scenario.runner import Run, run
from twin.scenario.schema import Scenario, scenario_json_schema

__all__ = ["Comparison", "Run", "Scenario", "compare_runs", "run", "scenario_json_schema"]
