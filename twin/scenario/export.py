"""Export a run to GeoPackage and GeoTIFF, with its comparison and provenance: what a GIS
team opens in QGIS after a batch of runs."""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from twin.model.layer import Layer
from twin.model.provenance import Provenance
from twin.scenario.runner import Run
from twin.store.export import export_layers, write_gpkg


def export_run(run_dir: str | PathLike[str], out: str | PathLike[str]) -> list[Path]:
    """Write a run's outputs, its differences with its parent and its KPI tables.

    The GeoPackage ``out`` holds every vector output, ``<output>_diff`` layers (scenario −
    parent, when the parent run is in the same store), ``kpis`` (the run's KPIs with their
    units and labels) and ``kpis_compare``; grids are GeoTIFFs beside it. Each layer carries
    its provenance (see :mod:`twin.store.export`).

    Parameters
    ----------
    run_dir : path-like
        A run directory written by ``twin run``.
    out : path-like
        The ``.gpkg`` file to write.

    Returns
    -------
    list of Path
        The files written.
    """
    r = Run.open(Path(run_dir))
    layers: dict[str, Layer] = dict(r.outputs)
    parent = _parent(r)
    comparison = r.compare(parent) if parent is not None else None
    if comparison is not None:
        layers.update({f"{n}_diff": lay for n, lay in comparison.layers.items()})
    written = export_layers(layers, out)
    prov = Provenance(source=f"twin run {r.run_id}", producer="twin", licence=_licence(r))
    prov.step(f"scenario '{r.scenario.name}', code {r.manifest.get('code_version', '?')}")
    tables = {"kpis": (r.kpis.reset_index(), prov)}
    if comparison is not None:
        tables["kpis_compare"] = (comparison.kpis.reset_index(), prov)
    target = Path(out).with_name(f"{Path(out).stem}_kpis.gpkg")
    write_gpkg(tables, target)
    return [*written, target]


def _parent(r: Run) -> Run | None:
    pid = r.manifest.get("parent_run")
    if pid is None or r.path is None or not (r.path.parent / pid / "run.json").is_file():
        return None
    return Run.open(r.path.parent / pid)


def _licence(r: Run) -> str:
    """The licences of the data the run used (a result derived from them is under them)."""
    found = sorted({d["provenance"]["licence"] for d in r.manifest.get("data", {}).values()})
    return ", ".join(found) or "unknown"
