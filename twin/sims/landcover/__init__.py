"""Land cover: the land-cover indicators simulation and the interventions that change the grid
(trees, green areas, de-sealing, water, cool and green roofs), read also by the heat
simulation."""

from twin.sims.landcover.interventions import DEFAULT_ROOF_ALBEDO
from twin.sims.landcover.sim import LandCover, LandCoverParams

__all__ = ["DEFAULT_ROOF_ALBEDO", "LandCover", "LandCoverParams"]
