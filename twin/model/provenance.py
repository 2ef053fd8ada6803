"""Provenance of a layer: where it comes from, under which licence, and what was done to it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Sensitivity = Literal["public", "internal", "restricted"]


@dataclass
class Provenance:
    """Record of a layer's origin and transformations.

    Attributes
    ----------
    source : str
        The file, package resource or URL the layer was read from.
    producer : str
        Who produced the data (e.g. ``"OpenStreetMap contributors"``).
    licence : str
        Licence identifier (SPDX where one exists, e.g. ``"ODbL-1.0"``, ``"etalab-2.0"``).
    retrieved : str
        ISO date at which the data was retrieved or published, or ``"unknown"`` when no
        source or manifest gives it (never the date of the build).
    steps : list of str
        Transformation steps applied by twin, in order.
    personal_data : bool
        Whether the layer may hold personal data (GDPR). ``False`` by default;
        twin drops known personal fields (names of people, phone, e-mail) on load.
    sensitivity : {"public", "internal", "restricted"}
        Sensitivity level for sharing decisions.
    derived : dict of str to str
        Fields that twin derived or assumed rather than read, with the rule used
        (e.g. ``{"height_m": "building:levels × 3.0 m, else default 9.0 m"}``).
    counts : dict of str to int
        Counters recorded while loading (e.g. ``{"repaired_geometries": 3}``).
    """

    source: str
    producer: str = "unknown"
    licence: str = "unknown"
    retrieved: str = "unknown"
    steps: list[str] = field(default_factory=list)
    personal_data: bool = False
    sensitivity: Sensitivity = "public"
    derived: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    attribution: str | None = None

    def step(self, text: str) -> Provenance:
        """Append a transformation step and return ``self``."""
        self.steps.append(text)
        return self

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Provenance:
        """Build from :meth:`to_dict` output, ignoring unknown keys."""
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)
