"""A printable report of a comparison: one self-contained HTML page laid out for A4.

It holds the KPI table (parent, scenario, change, coloured by each KPI's better direction),
server-rendered map snapshots (parent, scenario and difference of every result layer drawn
by the viewer, over the twin's buildings) and the run's algorithm notice, in French or
English. Images are embedded as PNG data URIs, so the file prints and archives on its own.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import re
from pathlib import Path
from typing import Any

import numpy as np

from twin.errors import StoreError, message
from twin.model.twin import Twin
from twin.scenario.runner import Run
from twin.viewer.i18n import tr, unit_label
from twin.viewer.kpis import kpi_table
from twin.viewer.layers import result_slots, shared_ranges
from twin.viewer.numbers import number

CSS = """
@page { size: A4; margin: 14mm 12mm; }
body { font-family: system-ui, "Segoe UI", Roboto, sans-serif; color: #1d2731; margin: 0 auto;
  max-width: 186mm; font-size: 10.5pt; line-height: 1.4; }
h1 { font-size: 17pt; margin: 0 0 2mm; } h2 { font-size: 13pt; margin: 6mm 0 2mm;
  border-bottom: 1px solid #ccd; } h3 { font-size: 11pt; margin: 4mm 0 1mm; }
.meta { color: #51606c; font-size: 9pt; }
table { border-collapse: collapse; width: 100%; font-size: 9.5pt; }
td, th { border: 1px solid #ccd; padding: 1mm 2mm; text-align: left; }
td.num { text-align: right; white-space: nowrap; }
tr.good td.chg, tr.good td.verdict { color: #1a7f37; font-weight: 600; }
tr.bad td.chg, tr.bad td.verdict { color: #c62828; font-weight: 600; }
tr.diag th { background: #eef1f4; font-weight: 500; color: #51606c; }
figure { margin: 2mm 0 4mm; break-inside: avoid; page-break-inside: avoid; }
figure img { width: 100%; } figcaption { font-size: 9pt; color: #51606c; }
.notice h1 { font-size: 13pt; } .notice h2 { font-size: 11pt; border: none; }
.notice { font-size: 9.5pt; } .notice table { font-size: 8.5pt; }
.section-notice { break-before: page; page-break-before: always; }
button.print { float: right; }
@media print { button.print { display: none; } }
"""


def _t(key: str, lang: str) -> str:
    """The report's word ``key`` in ``lang`` (:data:`twin.viewer.i18n.TEXTS`, ``report.*``),
    escaped for HTML."""
    return html.escape(tr(lang, f"report.{key}"))


def _png(fig: Any) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _draw(ax: Any, slot: str, data: Any, values: np.ndarray, vrange: tuple, cmap: str) -> Any:
    """Draw one result layer on ``ax`` (working CRS); return the mappable for a colour bar."""
    lo, hi = vrange
    if slot == "grid":
        x, y = data["x"].to_numpy(), data["y"].to_numpy()
        dx = abs(float(x[1] - x[0])) if len(x) > 1 else 1.0
        dy = abs(float(y[1] - y[0])) if len(y) > 1 else 1.0
        v = np.asarray(values, float)
        v = np.where(np.abs(v) > 1e-9, v, np.nan) if cmap == "RdBu_r" else v
        return ax.imshow(
            v,
            extent=(x.min() - dx / 2, x.max() + dx / 2, y.min() - dy / 2, y.max() + dy / 2),
            origin="upper" if y[0] > y[-1] else "lower",
            cmap=cmap,
            vmin=lo,
            vmax=hi,
            interpolation="nearest",
            alpha=0.85,
        )
    from matplotlib.collections import LineCollection

    if slot == "paths":
        import shapely

        segs = [np.asarray(g.coords) for g in data.geometry if g is not None and not g.is_empty]
        lc = LineCollection(segs, array=np.asarray(values, float), cmap=cmap, linewidths=1.6)
        lc.set_clim(lo, hi)
        ax.add_collection(lc)
        ax.update_datalim(shapely.get_coordinates(data.geometry.to_numpy()))
        ax.autoscale_view()
        return lc
    if slot == "areas":
        return _areas(ax, data, values, vrange, cmap)
    pts = data.geometry.representative_point()
    return ax.scatter(pts.x, pts.y, c=values, s=7, cmap=cmap, vmin=lo, vmax=hi, linewidths=0)


def _areas(ax: Any, data: Any, values: np.ndarray, vrange: tuple, cmap: str) -> Any:
    """Polygons (outer rings of every part) coloured by ``values``."""
    import shapely
    from matplotlib.collections import PolyCollection

    rings, vals = [], []
    for g, v in zip(data.geometry, np.asarray(values, float), strict=True):
        for part in shapely.get_parts(g) if g is not None else []:
            rings.append(shapely.get_coordinates(part.exterior))
            vals.append(v)
    pc = PolyCollection(rings, array=np.asarray(vals), cmap=cmap, alpha=0.75, linewidths=0)
    pc.set_clim(*vrange)
    ax.add_collection(pc)
    ax.update_datalim(shapely.get_coordinates(data.geometry.to_numpy()))
    ax.autoscale_view()
    return pc


def map_figures(
    r: Run, parent: Run | None, buildings: Any = None, lang: str = "fr", diff: Any = None
) -> list[tuple[str, str]]:
    """One PNG (data URI) per result slot: parent | scenario | difference, with its caption
    in ``lang``: the variable's declared label and unit, then the panels drawn.

    ``diff`` is ``r − parent`` when already computed (else it is computed here).
    """
    out = []
    mine = result_slots(r)
    theirs = result_slots(parent) if parent is not None else {}
    if parent is not None and diff is None:
        diff = r.compare(parent)
    diffs = result_slots(r, diff) if parent is not None else {}
    ranges = shared_ranges(*([parent] if parent is not None else []), r)
    for slot, (data, col, values, hint) in mine.items():
        panels = []
        if slot in theirs:
            panels.append(("parent",) + theirs[slot])
        panels.append(("scenario", data, col, values, hint))
        if slot in diffs:
            panels.append(("diff",) + diffs[slot])
        fig = _panels(slot, panels, ranges.get(slot, (None, None)), buildings, lang)
        words = " | ".join(tr(lang, f"report.{kind}") for kind, *_ in panels)
        out.append((_png(fig), f"{_caption(hint, lang)} — {words}"))
    return out


def _panels(
    slot: str, panels: list[tuple[Any, ...]], vrange: tuple, buildings: Any, lang: str
) -> Any:
    """One figure of a result slot: its panels (parent, scenario, difference) side by side
    over the buildings, each titled in ``lang`` and with its colour bar labelled by the unit
    (the difference on a diverging ramp centred on zero, its title starting with Δ)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    fig = Figure(figsize=(3.2 * len(panels) + 0.4, 3.4))
    axes = fig.subplots(1, len(panels), sharex=True, sharey=True, squeeze=False)[0]
    for ax, (kind, d, _c, v, hint) in zip(axes, panels, strict=True):
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        if buildings is not None and len(buildings):
            buildings.plot(ax=ax, color="#c9d0d6", linewidth=0)
        if kind == "diff":
            ok = np.asarray(v, float)[np.isfinite(v)]
            m = float(np.abs(ok).max()) if len(ok) and np.abs(ok).max() > 0 else 1.0
            art = _draw(ax, slot, d, v, (-m, m), "RdBu_r")
        else:
            art = _draw(ax, slot, d, v, vrange, "viridis")
        unit = str(hint["unit"])
        bar = fig.colorbar(art, ax=ax, shrink=0.7, pad=0.02)
        # tick numbers as the language writes them (1 000 and 0,5 in French)
        bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _pos: number(x, lang)))
        bar.set_label(unit_label(lang, unit) if unit not in ("", "1") else "", fontsize=7)
        ax.set_xlabel("")
        ax.set_ylabel("")
        delta = "Δ " if kind == "diff" else ""
        ax.set_title(f"{tr(lang, f'report.{kind}')}\n{delta}{_label(hint, lang)}", fontsize=8)
    return fig


def _label(hint: dict[str, Any], lang: str) -> str:
    """A variable's declared label (its display hint's) in ``lang``, else in English."""
    return str(hint["label"].get(lang) or hint["label"].get("en", ""))


def _caption(hint: dict[str, Any], lang: str) -> str:
    """A variable's declared label and unit, from its display hint, in ``lang``."""
    unit = str(hint["unit"])
    label = _label(hint, lang)
    return f"{label} [{unit_label(lang, unit)}]" if unit and unit != "1" else label


def _notice_body(run_dir: Path, lang: str) -> str:
    p = run_dir / f"notice.{lang}.html"
    if not p.is_file():
        return ""
    text = p.read_text(encoding="utf-8")
    m = re.search(r"<body[^>]*>(.*)</body>", text, flags=re.S | re.I)
    return m.group(1) if m else ""


def _open_inputs(run_dir: Path) -> tuple[Run, Run | None, Twin | None]:
    """The run in ``run_dir``, its parent (next to it) and its twin, read from disk."""
    r = Run.open(run_dir)
    pdir = run_dir.parent / str(r.manifest.get("parent_run") or "")
    parent = Run.open(pdir) if pdir != run_dir.parent and (pdir / "run.json").is_file() else None
    tpath = r.manifest.get("inputs", {}).get("twin_path")
    if not (tpath and Path(tpath).is_dir()):
        return r, parent, None
    from twin.store.twinstore import open_twin

    return r, parent, open_twin(tpath)


def report_html(run_dir: str | Path, lang: str = "fr") -> str:
    """The printable report of the run in ``run_dir`` against its parent, as HTML.

    The run, its parent (looked up next to it) and the twin it was run on are read from disk;
    a server holding them already uses :func:`report_page`.

    Parameters
    ----------
    run_dir : path
        A run directory written by :func:`twin.run`.
    lang : str
        ``fr`` or ``en``.

    Returns
    -------
    str
        The HTML page.
    """
    r, parent, twin = _open_inputs(Path(run_dir))
    return report_page(r, parent, twin, lang)


def report_page(
    r: Run, parent: Run | None, twin: Twin | None, lang: str = "fr", diff: Any = None
) -> str:
    """The printable report of run ``r`` against ``parent``, from objects already in memory.

    Nothing is read from disk but the run's notice (``notice.<lang>.html`` in ``r.path``).

    Parameters
    ----------
    r : Run
        The scenario run.
    parent : Run or None
        Its parent run; without one, the report says there is no comparison.
    twin : Twin or None
        The twin (its name, and its buildings under the maps).
    lang : str
        ``fr`` or ``en``.
    diff : Comparison, optional
        ``r − parent`` when already computed (see :meth:`Run.compare`).

    Returns
    -------
    str
        The HTML page.
    """
    buildings = twin["buildings"] if twin is not None and "buildings" in twin else None
    maps = map_figures(r, parent, buildings, lang, diff)
    figs = "".join(
        f"<figure><img alt='{html.escape(cap)}' src='{uri}'>"
        f"<figcaption>{html.escape(cap)}</figcaption></figure>"
        for uri, cap in maps
    )
    title = r.scenario.title or r.scenario.name
    notice = _notice_body(r.path, lang) if r.path is not None else ""
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<title>{_t("title", lang)} — {html.escape(title)}</title><style>{CSS}</style></head>
<body>
<button class="print" onclick="window.print()">{_t("print", lang)}</button>
<h1>{_t("title", lang)} — {html.escape(title)}</h1>
<p class="meta">{_meta(r, parent, twin.name if twin is not None else "", lang)}</p>
<p>{html.escape(r.scenario.description or "")}</p>
<p class="meta">{_t("support", lang)}</p>
<h2>{_t("kpis", lang)}</h2>
{kpi_table(r, parent, lang) if len(r.kpis) else ""}
{"" if parent is not None else f"<p>{_t('noparent', lang)}</p>"}
<h2>{_t("maps", lang)}</h2>
{figs}
<section class="section-notice"><h2>{_t("notice", lang)}</h2>
<div class="notice">{notice}</div></section>
</body></html>
"""


def _meta(r: Run, parent: Run | None, twin_name: str, lang: str) -> str:
    """The line under the title: twin, run ids, code version, date."""
    today = dt.date.today().isoformat()
    pid = r.manifest.get("parent_run")
    return (
        f"{html.escape(twin_name)} · {_t('scenario', lang)} <code>{html.escape(r.run_id)}</code>"
        + (f" · {_t('parent', lang)} <code>{html.escape(str(pid))}</code>" if parent else "")
        + f" · {html.escape(str(r.manifest.get('code_version', '')))}"
        + f" · {_t('made', lang)} {today}"
    )


def write_report(run_dir: str | Path, out_path: str | Path, lang: str = "fr") -> Path:
    """Write the printable report of a run (against its parent) to ``out_path``, atomically.

    Parameters
    ----------
    run_dir : path
        A run directory written by :func:`twin.run` (its parent is looked up next to it).
    out_path : path
        The HTML file to write.
    lang : str
        ``fr`` or ``en``.

    Returns
    -------
    Path
        ``out_path``.

    Raises
    ------
    StoreError
        On an unknown language; SchemaError when ``run_dir`` is not a run directory.
    """
    if lang not in ("fr", "en"):
        msg = message(f"unknown language {lang!r}", where="report", fix="use 'fr' or 'en'")
        raise StoreError(msg)
    from twin.store.atomic import atomic_write

    text = report_html(run_dir, lang)
    atomic_write(out_path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return Path(out_path)


__all__ = ["report_html", "report_page", "write_report"]
