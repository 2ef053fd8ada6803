"""A small real twin with a basemap, for the viewer's basemap tests: the Montpellier buildings
within 600 m of the Place de la Comédie, over a basemap of the city's districts and streets
(vector tiles, PMTiles) or of its districts drawn as PNG tiles (MBTiles)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely

from ..io._tiles import COMEDIE, montpellier_frame, raster_mbtiles, vector_archive

#: The basemap's attribution in the test manifest.
ATTRIBUTION = "Fond : Ville de Montpellier, Licence Ouverte 2.0"
#: Colour of the districts in the raster basemap (RGB).
SAND = (200, 190, 170)

MANIFEST = """name: Montpellier, Écusson
layers:
  buildings:
    loader: vector
    source: buildings.gpkg
    producer: Ville de Montpellier
    licence: etalab-2.0
    retrieved: 2014-01-27
basemap:
  source: {source}
  attribution: "{attribution}"
  licence: etalab-2.0
  producer: Ville de Montpellier
  retrieved: 2014-05-20
"""


def basemap_twin(folder: Path, montpellier: Path, kind: str) -> Path:
    """Build the twin in ``folder`` with a ``vector`` (PMTiles) or ``raster`` (MBTiles)
    basemap; return the twin's directory (the archive is ``folder / "fond.*"``)."""
    from twin.build import build

    folder.mkdir(parents=True, exist_ok=True)
    b = montpellier_frame(montpellier, "buildings")
    centre = gpd.GeoSeries([shapely.Point(COMEDIE)], crs=4326).to_crs(2154).iloc[0]
    near = b.to_crs(2154)
    near[near.intersects(centre.buffer(600.0))].to_file(folder / "buildings.gpkg")
    districts = montpellier_frame(montpellier, "districts")
    if kind == "vector":
        streets = montpellier_frame(montpellier, "streets")
        src = vector_archive(folder / "fond.pmtiles", [districts, streets], range(11, 15))
    else:
        src = folder / "fond.mbtiles"
        raster_mbtiles(src, districts, range(12, 15), SAND)
    text = MANIFEST.format(source=src.name, attribution=ATTRIBUTION)
    (folder / "twin.yaml").write_text(text, encoding="utf-8")
    out = folder / "twin"
    build(folder / "twin.yaml", out)
    return out
