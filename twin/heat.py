"""Urban heat island, the public facade (see :mod:`twin.sims.heat` and docs/simulations/heat.md).

Functions
---------
simulate
    Local-scale urban energy balance (TARGET family, numba): air, surface and mean radiant
    temperature and UTCI on ``(time, y, x)`` [°C].
simulate_chunked
    The same on grids larger than memory, in Dask tiles with halos (no seams).
surface_from_twin, surface_from_grid
    The model's surface from the twin's land-cover grid, sky view factor by ray casting.
design_day, read_forcing_csv, check_forcing
    Forcing: an ASSUMED clear-sky heat-wave day, a forcing CSV, the forcing checks.
station_errors, correct_bias
    Model error against air-temperature sensors (RMSE, bias per station) and bias correction.
"""

from twin.sims.heat.chunked import simulate_chunked
from twin.sims.heat.design_day import design_day, read_forcing_csv
from twin.sims.heat.forcing import COLUMNS as FORCING_COLUMNS
from twin.sims.heat.forcing import check_forcing
from twin.sims.heat.model import FRACTIONS, simulate
from twin.sims.heat.params import SURFACE_TABLE, surface_table
from twin.sims.heat.sensors import correct_bias, station_errors
from twin.sims.heat.surface import surface_from_grid, surface_from_twin

__all__ = [
    "FORCING_COLUMNS",
    "FRACTIONS",
    "SURFACE_TABLE",
    "check_forcing",
    "correct_bias",
    "design_day",
    "read_forcing_csv",
    "simulate",
    "simulate_chunked",
    "station_errors",
    "surface_from_grid",
    "surface_from_twin",
    "surface_table",
]
