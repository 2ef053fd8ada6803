"""Command-line interface: a thin layer over the public API.

Every :class:`~twin.errors.TwinError` is printed as one clear message (exit code 2); an
unexpected failure prints a one-line report request instead of a traceback (exit code 3),
unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from twin.errors import TwinError, message
from twin.runtime import keep_freed_memory

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_MANIFEST = REPO_ROOT / "layers" / "demo.yaml"
DEMO_SCENARIOS = REPO_ROOT / "scenarios"


def _cmd_build(args: argparse.Namespace) -> int:
    from twin.build import build

    twin = build(args.manifest, args.out)
    for w in twin.meta.get("build_warnings", []):
        print(f"twin: warning: {w}", file=sys.stderr)
    print(f"built {twin!r} in {args.out}")
    if args.gpkg:
        from twin.store.export import export_gpkg

        for path in export_gpkg(twin, Path(args.out) / "twin.gpkg"):
            print(f"  + {path} (for GIS without GeoParquet)")
    return 0


def _print_info(info: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(info, indent=2, ensure_ascii=False))
        return
    print(f"{info['name']}  CRS {info['crs']}  extent {[round(v) for v in info['extent']]}")
    for name, lay in info["layers"].items():
        p = lay["provenance"]
        print(
            f"  {name:<14} {lay['kind']:<8} {lay['count']:>7}  {p['licence']:<12} {p['producer']}"
        )
        personal = "yes" if p["personal_data"] else "no"
        print(f"      retrieved {p['retrieved']}; personal data {personal}")
        for field, rule in p.get("derived", {}).items():
            print(f"      derived {field}: {rule}")
        for step in p.get("steps", []):
            if "personal" in step:
                print(f"      {step}")
    b = info.get("basemap")
    if b:
        p = b["provenance"]
        print(
            f"  basemap        {b['format']} {b['tile_type']}, zoom {b['minzoom']}–{b['maxzoom']}"
            f"  {p['licence']:<12} {p['producer']}"
        )
        print(
            f"      {b['path']} ({b['size_bytes']:,} bytes, not copied); retrieved {p['retrieved']}"
        )
        for field, rule in p.get("derived", {}).items():
            print(f"      derived {field}: {rule}")


def _cmd_info(args: argparse.Namespace) -> int:
    from twin.store.twinstore import read_manifest

    m = read_manifest(args.dir)
    info = {k: m[k] for k in ("name", "crs", "extent", "extent_lonlat")}
    info["time"] = m.get("time")
    info["layers"] = {
        name: {k: v for k, v in lay.items() if k != "files"} for name, lay in m["layers"].items()
    }
    info["basemap"] = m.get("meta", {}).get("basemap")  # a local tile archive, by reference
    _print_info(info, args.json)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from twin.store.export import export_gpkg
    from twin.store.twinstore import open_twin

    if (Path(args.dir) / "run.json").is_file():
        from twin.scenario.export import export_run

        paths = export_run(args.dir, args.out)
    else:
        paths = export_gpkg(open_twin(args.dir), args.out)
    for path in paths:
        print(path)
    return 0


def _cmd_html(args: argparse.Namespace) -> int:
    from twin.viewer.offline import export_comparison

    print(export_comparison(args.dir, args.run, args.out, runs_dir=args.runs, lang=args.lang))
    return 0


#: The network demos built beside the Helsinki one: (twin folder, layer manifest, scenario
#: folder); real networks shipped with WNTR and pandapower.
NETWORK_DEMOS = (("ky10", "ky10.yaml", "ky10"), ("oberrhein", "oberrhein.yaml", "oberrhein"))


def _network_demos(root: Path) -> None:
    """Build each network demo twin in ``root`` and run its scenarios (``runs-<name>``)."""
    from twin.build import build
    from twin.scenario.runner import run

    for name, manifest, folder in NETWORK_DEMOS:
        tdir, rdir = root / name, root / f"runs-{name}"
        build(REPO_ROOT / "layers" / manifest, tdir)
        for path in sorted((DEMO_SCENARIOS / folder).glob("*.yaml")):
            r = run(tdir, path, out=rdir)
            print(f"scenario {r.scenario.name} ({name}): {r.path}")
        print(f"network demo '{name}': twin serve {tdir} --runs {rdir}")


def _cmd_demo(args: argparse.Namespace) -> int:
    from twin.build import build

    manifest = Path(args.manifest) if args.manifest else DEMO_MANIFEST
    if not manifest.is_file():
        msg = message(
            "demo manifest not found",
            where=manifest,
            fix="run from a source checkout (pip install -e .) or pass --manifest layers/demo.yaml",
        )
        raise TwinError(msg)
    build(manifest, args.out)
    print(f"demo twin built in {args.out}:")
    _cmd_info(argparse.Namespace(dir=args.out, json=False))
    from twin.scenario.runner import run

    runs = Path(args.out).resolve().parent / "runs"
    for path in sorted(DEMO_SCENARIOS.glob("*.yaml")):
        r = run(args.out, path, out=runs)
        print(f"scenario {r.scenario.name}: {r.path}")
    if not args.manifest:
        _network_demos(Path(args.out).resolve().parent)
    if not args.no_serve:
        from twin.viewer.server import serve

        serve(args.out, runs, host=args.host, port=args.port)
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from twin.viewer.server import serve

    serve(
        args.dir,
        args.runs,
        host=args.host,
        port=args.port,
        token=args.token,
        lang=args.lang,
        workers=args.workers,
    )
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from twin.viewer.report import write_report

    run_dir = Path(args.run_dir)
    out = Path(args.out) if args.out else Path(f"report-{run_dir.resolve().name}.{args.lang}.html")
    write_report(run_dir, out, lang=args.lang)
    print(f"wrote {out}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from twin.scenario.runner import run

    out = Path(args.out) if args.out else Path(args.twin).resolve().parent / "runs"
    r = run(args.twin, args.scenario, out=out, cache=not args.no_cache)
    origin = "reused from the cache" if r.from_cache else "computed"
    print(f"run {r.run_id} {origin}: {r.path}")
    print(r.kpis[["value", "unit"]].to_string())
    comp = r.path / "compare" / "kpis.csv" if r.path else None
    if comp is not None and comp.is_file():
        import pandas as pd

        print(f"\ncompared with its parent ({r.manifest.get('parent')}):")
        print(pd.read_csv(comp, index_col="kpi")[["a", "b", "diff", "pct_change"]].to_string())
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from twin.scenario.compare import compare_runs
    from twin.scenario.runner import Run

    a, b = Run.open(args.run_a), Run.open(args.run_b)
    c = compare_runs(a, b)
    if args.json:
        print(json.dumps(c.to_dict(), indent=2, ensure_ascii=False))
        return 0
    print(f"{b.run_id} − {a.run_id}")
    print(c.kpis[["unit", "a", "b", "diff", "pct_change"]].to_string())
    for name, summary in c.to_dict()["layers"].items():
        changed = ", ".join(f"{k}: {v['changed']} changed" for k, v in summary.items())
        print(f"layer {name}: {changed or 'no numeric difference'}")
    return 0


def _cmd_batch(args: argparse.Namespace) -> int:
    from twin.batch import batch

    table = batch(
        args.sweep,
        args.twin,
        out=args.out,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.no_progress,
    )
    info = table.attrs.get("batch", {})
    print(
        f"{info.get('samples', '?')} samples: {info.get('skipped', 0)} finished runs reused, "
        f"{info.get('submitted', '?')} run, {info.get('errors', 0)} errors, "
        f"{info.get('failed', 0)} failures; table: {info.get('table', '')}"
    )
    return 0 if not (info.get("errors") or info.get("failed")) else 1


def _cmd_schema(args: argparse.Namespace) -> int:
    from twin.scenario.schema import scenario_json_schema

    print(json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False))
    return 0


def _matched(counts: dict[str, int]) -> str:
    """'matched 25 by id, 0 by address, 0 by position, 2 new' from a merge report's counts."""
    how = ", ".join(
        f"{counts.get(f'matched_{k}', 0)} by {k}" for k in ("id", "address", "position")
    )
    return f"matched {how}, {counts.get('new', 0)} new"


def _cmd_observatory(args: argparse.Namespace) -> int:
    from twin.sims.commerce import twin_units as tu

    if args.action == "import":
        if not args.files and not args.units:
            msg = message(
                "no survey or units file given",
                where="twin observatory import",
                fix="name one or more survey CSV files after the twin directory, "
                "or local units files with --units FILE",
            )
            raise TwinError(msg)
        if args.units:  # local inventories first, then the surveys
            for s in tu.import_units(
                args.dir,
                args.units,
                options=tu.units_options(args.units_option),
                shops_layer=args.shops_layer,
                encoding=args.encoding,
                delimiter=args.delimiter,
                crs=args.crs,
                max_distance_m=args.max_distance_m,
            ):
                print(f"{s.path.name}: {s.rows} units, {_matched(s.matched)}; "
                      f"history now {s.history_records} records")  # fmt: skip
        if args.files:
            for s in tu.import_surveys(
                args.dir,
                args.files,
                shops_layer=args.shops_layer,
                encoding=args.encoding,
                delimiter=args.delimiter,
                crs=args.crs,
                survey_date=args.survey_date,
                max_distance_m=args.max_distance_m,
            ):
                print(f"{s.path.name}: {s.rows} rows, {_matched(s.matched)}; "
                      f"history now {s.history_records} records")  # fmt: skip
    elif args.action == "export":
        if not args.out:
            msg = message("no output directory", where="--out", fix="give --out DIR")
            raise TwinError(msg)
        for f in tu.export_units(args.dir, args.out, crs=args.export_crs):
            print(f)
    else:
        table = tu.units_report(
            args.dir, zones_layer=args.zones_layer, zone_column=args.zone_column, freq=args.freq
        )
        if args.out:
            from twin.sims.commerce.observatory import write_csv

            write_csv(table, Path(args.out))
            print(f"wrote {args.out}")
        print(table.to_string(index=False))
    return 0


def make_parser() -> argparse.ArgumentParser:
    """The ``twin`` argument parser."""
    p = argparse.ArgumentParser(prog="twin", description="Geospatial digital twin of a territory.")
    p.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="build a twin from a layer manifest")
    b.add_argument("manifest", help="layers/*.yaml manifest")
    b.add_argument("--out", required=True, help="output twin directory")
    b.add_argument(
        "--gpkg",
        action="store_true",
        help="also write twin.gpkg (+ GeoTIFF grids) beside the GeoParquet, for GIS (QGIS < "
        "3.30, most pip GDAL builds) without a Parquet driver",
    )
    b.set_defaults(func=_cmd_build)

    i = sub.add_parser("info", help="list a twin's layers with provenance")
    i.add_argument("dir", help="twin directory")
    i.add_argument("--json", action="store_true", help="machine-readable output")
    i.set_defaults(func=_cmd_info)

    ex = sub.add_parser(
        "export", help="export a twin or a run to GeoPackage (+ GeoTIFF grids), with provenance"
    )
    ex.add_argument("dir", help="twin directory, or run directory (outputs, comparison, KPIs)")
    ex.add_argument("--out", required=True, help="output .gpkg file")
    ex.set_defaults(func=_cmd_export)

    hx = sub.add_parser("html", help="write a self-contained offline HTML comparison of a run")
    hx.add_argument("dir", help="twin directory")
    hx.add_argument("--run", required=True, help="run id (directory name in the run store)")
    hx.add_argument("--runs", default=None, help="run store [runs/ next to the twin]")
    hx.add_argument("--out", required=True, help="output .html file")
    hx.add_argument("--lang", choices=["fr", "en"], default="fr", help="language")
    hx.set_defaults(func=_cmd_html)

    d = sub.add_parser("demo", help="build (and serve) the demo twin of central Helsinki")
    d.add_argument("--out", default="data/demo", help="output directory [data/demo]")
    d.add_argument("--no-serve", action="store_true", help="build only, do not serve")
    d.add_argument("--manifest", default=None, help=argparse.SUPPRESS)
    d.add_argument("--host", default="127.0.0.1", help="address to serve on [127.0.0.1]")
    d.add_argument("--port", type=int, default=8050, help="port [8050]")
    d.set_defaults(func=_cmd_demo)
    sv = sub.add_parser("serve", help="serve the 3D comparison viewer")
    sv.add_argument("dir", help="twin directory")
    sv.add_argument("--runs", default=None, help="run store [runs/ next to the twin]")
    sv.add_argument("--host", default="127.0.0.1", help="address [127.0.0.1]")
    sv.add_argument("--port", type=int, default=8050, help="port [8050]")
    sv.add_argument(
        "--token", default=None, help="access token (required off loopback; 'auto' draws one)"
    )
    sv.add_argument("--lang", choices=["fr", "en"], default="fr", help="interface language")
    sv.add_argument("--workers", type=int, default=2, help="what-if runs computed at once [2]")
    sv.set_defaults(func=_cmd_serve)

    rp = sub.add_parser("report", help="write the printable comparison report (HTML, A4) of a run")
    rp.add_argument("run_dir", help="run directory (runs/<scenario>-<key>)")
    rp.add_argument("--out", "-o", help="output .html [report-<run id>.<lang>.html]")
    rp.add_argument("--lang", choices=["fr", "en"], default="fr", help="language [fr]")
    rp.set_defaults(func=_cmd_report)

    r = sub.add_parser("run", help="run a scenario on a twin")
    r.add_argument("scenario", help="scenario YAML file")
    r.add_argument("--twin", required=True, help="twin directory")
    r.add_argument("--out", default=None, help="run store [runs/ next to the twin]")
    r.add_argument("--no-cache", action="store_true", help="recompute even if cached")
    r.set_defaults(func=_cmd_run)

    c = sub.add_parser("compare", help="compare two runs (B − A)")
    c.add_argument("run_a", help="run directory A (reference)")
    c.add_argument("run_b", help="run directory B")
    c.add_argument("--json", action="store_true", help="machine-readable output")
    c.set_defaults(func=_cmd_compare)

    bt = sub.add_parser("batch", help="run a parameter sweep on a Dask cluster")
    bt.add_argument("sweep", help="sweep YAML file")
    bt.add_argument("--twin", required=True, help="twin directory")
    bt.add_argument("--out", default=None, help="run store [runs/ next to the twin]")
    grp = bt.add_mutually_exclusive_group()
    grp.add_argument("--workers", type=int, default=2, help="LocalCluster workers [2]")
    grp.add_argument("--scheduler", default=None, help="address of a running Dask scheduler")
    bt.add_argument("--no-progress", action="store_true", help="no progress bar")
    bt.set_defaults(func=_cmd_batch)

    ob = sub.add_parser("observatory", help="retail units: import surveys, export, report")
    ob.add_argument("action", choices=["import", "export", "report"], help="what to do")
    ob.add_argument("dir", help="twin directory")
    ob.add_argument("files", nargs="*", help="survey CSV files (import)")
    ob.add_argument("--shops-layer", default="shops", help="shops the units start from")
    ob.add_argument("--encoding", default=None, help="survey encoding [UTF-8, else cp1252]")
    ob.add_argument("--delimiter", default=None, help="survey delimiter [guessed]")
    ob.add_argument("--crs", default=None, help="CRS of survey x/y [EPSG:2154]")
    ob.add_argument("--survey-date", default=None, help="date of rows without one")
    ob.add_argument(
        "--units",
        action="append",
        default=[],
        metavar="FILE",
        help="local retail-units file to merge (GeoPackage, GeoJSON, Shapefile, CSV); repeatable",
    )
    ob.add_argument(
        "--units-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="read option of the --units files, e.g. id=code_local, as_of=2024-06-30, "
        "address=numero,voie (see docs/loaders.md); repeatable",
    )
    ob.add_argument("--max-distance-m", type=float, default=15.0, help="position match [15 m]")
    ob.add_argument("--out", default=None, help="output directory (export) or CSV (report)")
    ob.add_argument(
        "--export-crs", choices=["EPSG:4326", "EPSG:2154"], default="EPSG:4326", help="export CRS"
    )
    ob.add_argument("--zones-layer", default=None, help="zones layer for the report")
    ob.add_argument("--zone-column", default=None, help="zone name column")
    ob.add_argument("--freq", default=None, help="resample the series (e.g. QE, YE)")
    ob.set_defaults(func=_cmd_observatory)

    sc = sub.add_parser("schema", help="print a JSON Schema")
    sc.add_argument("what", choices=["scenario"], help="which schema")
    sc.set_defaults(func=_cmd_schema)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``twin`` console script."""
    parser = make_parser()
    args = parser.parse_args(argv)
    keep_freed_memory()  # repeated solves reuse freed memory (twin.runtime)
    try:
        return int(args.func(args))
    except TwinError as exc:
        print(f"twin: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("twin: interrupted; nothing was half-written.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _closed_pipe()
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"twin: unexpected {type(exc).__name__}: {exc}. This is a bug in twin; "
            "please report it with the command you ran (rerun with --debug for details).",
            file=sys.stderr,
        )
        return 3


def _closed_pipe() -> int:
    """The reader of our output went away (``twin info DIR | head -1``): stop quietly, as
    Unix tools do, without a traceback when Python flushes stdout at exit."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
