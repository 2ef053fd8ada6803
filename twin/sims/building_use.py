"""Building uses shared by the simulations that turn buildings into people (trips, footfall)."""

from __future__ import annotations

#: OSM ``building=*`` values counted as housing (``building=yes`` is mixed / unknown use).
RESIDENTIAL: frozenset[str] = frozenset(
    {
        "house",
        "apartments",
        "residential",
        "detached",
        "terrace",
        "semidetached_house",
        "dormitory",
        "bungalow",
    }
)
