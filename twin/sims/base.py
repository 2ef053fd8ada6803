"""Simulation plugins: what every simulation declares, once, and the registry.

A simulation is a class that declares everything the engine and the viewer need to know about
its domain; nothing outside its package repeats it (see ``docs/plugins.md``):

* ``name``, ``title`` — the name scenario files use, and a title in French and English;
* ``requires`` — twin layers it reads, as ``{role: kind}``; the layer names are parameters
  (``<role>_layer``) so a twin may call its roads ``streets``;
* ``columns`` — the columns it reads in those layers (:class:`Column`: unit, and either
  required or derived by a named rule, ASSUMED);
* ``inputs`` / ``outputs`` — names of outputs it consumes from / offers to other
  simulations in the same run (the runner orders simulations from these);
  ``optional_inputs`` are consumed only when a simulation of the run offers them;
* ``consumes`` — the intervention types it reads (their models and apply functions live in
  the domain's ``interventions.py``, registered in :mod:`twin.sims.interventions`);
* ``params_model`` — a pydantic model of its parameters (validated before anything runs);
* ``kpis`` — its KPIs as data (:class:`KPISpec`: unit, better direction, labels, headline or
  diagnostic);
* ``displays`` — how its outputs are drawn (:class:`Display`: variable, unit, palette, legend);
* ``notice`` — plain-language text for the algorithm notice, in French and English, formatted
  with the validated parameters by :meth:`Simulation.notice_text`;
* ``run(twin, params, inputs, rng)`` → :class:`SimResult`; a simulation with
  ``warm_start = True`` also gets ``state=``, the :attr:`SimResult.state` of the parent run.

The registry of simulations is :mod:`twin.sims.registry` (built-in ones and the
``twin.simulations`` entry-point group).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from twin.model.layer import Layer
from twin.model.twin import Twin

Better = Literal["lower", "higher", "neutral"]
Palette = Literal["sequential", "diverging", "categorical"]


@dataclass(frozen=True)
class KPISpec:
    """The declaration of a KPI.

    Attributes
    ----------
    name : str
        Identifier (``kpis.csv`` index, scenario ``kpis:`` lists).
    unit : str
        Unit symbol in English (``"1"`` for a share, shown as %).
    better : {"lower", "higher", "neutral"}
        Which direction of change is an improvement.
    label : dict
        Short label per language (``en``, ``fr``), for cards and charts.
    description : dict
        One sentence per language, for the notice; may hold ``{placeholders}`` filled by the
        values given to :meth:`Simulation.kpi`.
    headline : bool
        A result people decide on (True) or a diagnostic of the method (solver gap, AUC…).
    per_zone : bool
        Also reported per zone as ``name[zone]``.
    """

    name: str
    unit: str
    better: Better
    label: dict[str, str]
    description: dict[str, str]
    headline: bool = True
    per_zone: bool = False


@dataclass
class KPI:
    """A KPI value, with what its declaration says about it."""

    name: str
    value: float
    unit: str
    description: str
    better: str = "neutral"
    label_en: str = ""
    label_fr: str = ""
    description_fr: str = ""
    headline: bool = True


@dataclass(frozen=True)
class Display:
    """How an output variable is drawn: carried in the output layer's ``display`` attribute.

    Attributes
    ----------
    variable : str
        Column (vector) or data variable (grid); ``<variable>@<time>`` columns count as it.
    unit : str
        Unit symbol of the legend.
    label : dict
        Legend title per language (``en``, ``fr``).
    palette : {"sequential", "diverging", "categorical"}
        Colour ramp of the values (differences are always drawn diverging).
    """

    variable: str
    unit: str
    label: dict[str, str]
    palette: Palette = "sequential"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored in ``run.json``)."""
        return {
            "variable": self.variable,
            "unit": self.unit,
            "label": dict(self.label),
            "palette": self.palette,
        }


@dataclass(frozen=True)
class Column:
    """A column a simulation reads in one of its required layers.

    Attributes
    ----------
    role : str
        The required layer's role (a key of ``requires``).
    name : str
        Column name (units in the name, e.g. ``height_m``).
    unit : str
        Unit symbol.
    derive : str or None
        Name of the rule (:mod:`twin.sims.derive`) that provides the column when it is
        missing (flagged ASSUMED), or None when the column is required as it is.
    table : {"features", "links", "nodes"}
        For network layers, which table holds the column.
    """

    role: str
    name: str
    unit: str
    derive: str | None = None
    table: Literal["features", "links", "nodes"] = "features"


@dataclass
class SimResult:
    """What a simulation returns.

    Attributes
    ----------
    outputs : dict of str to Layer
        Output layers by output name.
    kpis : list of KPI
    state : object
        Anything a child run may warm-start from (kept in memory with the run, handed back by
        the runner as ``state=`` to the same simulation of a child scenario; never written).
    """

    outputs: dict[str, Layer] = field(default_factory=dict)
    kpis: list[KPI] = field(default_factory=list)
    state: Any = None


class Params(BaseModel):
    """Base of simulation parameter models (unknown parameters are errors).

    Each field's ``description`` says what it means in English; ``meanings_fr`` says it in
    French, declared once next to the model (the notice and the report read both through
    :meth:`meaning`).
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    #: What each parameter means in French, by name (a parameter left out reads in English).
    meanings_fr: ClassVar[dict[str, str]] = {}

    @classmethod
    def meaning(cls, name: str, lang: str) -> str:
        """What parameter ``name`` means in ``lang`` (``fr`` or ``en``): its French meaning
        when declared, else its field's description; empty for an unknown name."""
        field = cls.model_fields.get(name)
        english = (field.description or "") if field is not None else ""
        return cls.meanings_fr.get(name, english) if lang == "fr" else english


@dataclass(frozen=True)
class NoticeText:
    """Plain-language description of a simulation for the algorithm notice.

    Each text may hold ``{placeholders}`` filled from the validated parameters (and the
    extra values of :meth:`Simulation.notice_values`) by :meth:`Simulation.notice_text`.
    """

    purpose: str
    method: str
    limits: str


class Simulation:
    """Base class of simulation plugins."""

    name: ClassVar[str]
    title: ClassVar[dict[str, str]]
    requires: ClassVar[dict[str, str]] = {}
    columns: ClassVar[tuple[Column, ...]] = ()
    inputs: ClassVar[tuple[str, ...]] = ()
    optional_inputs: ClassVar[tuple[str, ...]] = ()  # used when another simulation offers them
    outputs: ClassVar[tuple[str, ...]] = ()
    consumes: ClassVar[tuple[str, ...]] = ()
    kpis: ClassVar[tuple[KPISpec, ...]] = ()
    displays: ClassVar[dict[str, tuple[Display, ...]]] = {}
    params_model: ClassVar[type[Params]] = Params
    #: when True, a scenario run also passes the parent run's outputs of the simulation's own
    #: output names as ``inputs["parent:<name>"]`` and its state as ``state=``
    warm_start: ClassVar[bool] = False
    notice: ClassVar[dict[str, NoticeText]]

    # -- declarations read by the engine ------------------------------------------------------
    @classmethod
    def kpi_spec(cls, name: str) -> KPISpec | None:
        """The declaration of KPI ``name`` (``name[zone]`` finds its per-zone KPI)."""
        base, _, zone = name.partition("[")
        for k in cls.kpis:
            if k.name == base and (not zone or k.per_zone):
                return k
        return None

    def kpi(self, name: str, value: float, zone: str | None = None, **fmt: Any) -> KPI:
        """A KPI value with its declared unit, direction, labels and descriptions.

        Parameters
        ----------
        name : str
            A declared KPI name.
        value : float
            Its value [the declared unit].
        zone : str, optional
            Zone name of a per-zone KPI (reported as ``name[zone]``).
        **fmt
            Values of the description's placeholders.
        """
        spec = self.kpi_spec(name)
        if spec is None or (zone is not None and not spec.per_zone):
            msg = f"{self.name}: KPI '{name}' is not declared in {type(self).__name__}.kpis"
            raise KeyError(msg)
        suffix = f"[{zone}]" if zone is not None else ""
        label_zone = f" — {zone}" if zone is not None else ""
        return KPI(
            name=f"{name}{suffix}",
            value=float(value),
            unit=spec.unit,
            description=spec.description["en"].format(**fmt) + label_zone,
            better=spec.better,
            label_en=spec.label["en"] + label_zone,
            label_fr=spec.label["fr"] + label_zone,
            description_fr=spec.description["fr"].format(**fmt) + label_zone,
            headline=spec.headline,
        )

    def notice_values(self, params: Params, lang: str) -> dict[str, Any]:
        """Extra values for the notice's placeholders in ``lang`` (e.g. the full name of the
        algorithm chosen by a parameter)."""
        return {}

    def notice_text(self, params: Params, lang: str) -> NoticeText:
        """The notice of this simulation in ``lang``, formatted with the parameters used."""
        values = {**params.model_dump(), **self.notice_values(params, lang)}
        t = self.notice[lang]
        return NoticeText(*(s.format(**values) for s in (t.purpose, t.method, t.limits)))

    def display_hints(self, output: str) -> tuple[Display, ...]:
        """How the variables of ``output`` are drawn (empty when not declared)."""
        return self.displays.get(output, ())

    # -- planning and running -----------------------------------------------------------------
    def layer_names(self, params: Params) -> dict[str, str]:
        """Twin layer name of each required role (parameter ``<role>_layer``)."""
        return {role: getattr(params, f"{role}_layer", role) for role in self.requires}

    def check(self, twin: Twin, params: Params) -> list[str]:
        """Problems that would stop the run (missing or wrong-kind layers)."""
        problems = []
        for role, lname in self.layer_names(params).items():
            kind = self.requires[role]
            if lname not in twin:
                problems.append(
                    f"{self.name}: needs a {kind} layer '{lname}' ({role}); the twin has "
                    f"{sorted(twin.layers)} — set parameters.{self.name}.{role}_layer"
                )
            elif twin.layer(lname).kind != kind:
                problems.append(
                    f"{self.name}: layer '{lname}' is a {twin.layer(lname).kind}, not a {kind}"
                )
        return problems

    def run(
        self, twin: Twin, params: Any, inputs: dict[str, Layer], rng: np.random.Generator
    ) -> SimResult:
        """Run the simulation on a (scenario) twin."""
        raise NotImplementedError
