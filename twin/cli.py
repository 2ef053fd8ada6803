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

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_MANIFEST = REPO_ROOT / "layers" / "demo.yaml"


def _cmd_build(args: argparse.Namespace) -> int:
    from twin.build import build

    twin = build(args.manifest, args.out)
    print(f"built {twin!r} in {args.out}")
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
    _print_info(info, args.json)
    return 0


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
    if not args.no_serve:
        print(
            "The viewer is not part of this version yet; the twin is ready in "
            f"{args.out} (open its layers/*.parquet in QGIS)."
        )
    return 0


def make_parser() -> argparse.ArgumentParser:
    """The ``twin`` argument parser."""
    p = argparse.ArgumentParser(prog="twin", description="Geospatial digital twin of a territory.")
    p.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="build a twin from a layer manifest")
    b.add_argument("manifest", help="layers/*.yaml manifest")
    b.add_argument("--out", required=True, help="output twin directory")
    b.set_defaults(func=_cmd_build)

    i = sub.add_parser("info", help="list a twin's layers with provenance")
    i.add_argument("dir", help="twin directory")
    i.add_argument("--json", action="store_true", help="machine-readable output")
    i.set_defaults(func=_cmd_info)

    d = sub.add_parser("demo", help="build (and serve) the demo twin of central Helsinki")
    d.add_argument("--out", default="data/demo", help="output directory [data/demo]")
    d.add_argument("--no-serve", action="store_true", help="build only, do not serve")
    d.add_argument("--manifest", default=None, help=argparse.SUPPRESS)
    d.set_defaults(func=_cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``twin`` console script."""
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except TwinError as exc:
        print(f"twin: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("twin: interrupted; nothing was half-written.", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"twin: unexpected {type(exc).__name__}: {exc}. This is a bug in twin; "
            "please report it with the command you ran (rerun with --debug for details).",
            file=sys.stderr,
        )
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
