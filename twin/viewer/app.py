"""The Dash application: a 3D map (deck.gl, local bundle), a scenario picker, side-by-side and
difference views, KPI cards and a chart, and the algorithm notice one click away.

Everything is served by the app itself (Dash's own JavaScript, plotly.js and the deck.gl bundle
in ``app/assets``, and the tiles of the twin's optional local basemap); no CDN, no remote
basemap. Runs are only read through :mod:`twin.scenario`; the
browser names runs by id, never by file-system path.

The parts: :mod:`~twin.viewer.catalogue` (the run store), :mod:`~twin.viewer.layers` (what
the map draws), :mod:`~twin.viewer.legend`, :mod:`~twin.viewer.context` (what the callbacks
share, what the page shows for a run), :mod:`~twin.viewer.layout` (the page),
:mod:`~twin.viewer.callbacks`, :mod:`~twin.viewer.routes`, :mod:`~twin.viewer.editor` and
:mod:`~twin.viewer.basemap`.
"""

from __future__ import annotations

from pathlib import Path

import dash

from twin.viewer import callbacks, editor, routes
from twin.viewer.basemap import renderer_payload, serve_tiles
from twin.viewer.context import Viewer
from twin.viewer.layout import ASSETS, HEAD_ASSETS, index, page


def create_app(
    twin_dir: str | Path,
    runs_dir: str | Path | None = None,
    *,
    lang: str = "fr",
    workers: int = 2,
) -> dash.Dash:
    """Build the viewer for a twin directory and its run store.

    Parameters
    ----------
    twin_dir, runs_dir : path
        The twin, and the run store (default: ``runs`` next to the twin).
    lang : str
        ``fr`` or ``en``.
    workers : int
        Runs of the what-if editor computed at the same time (others wait in a queue).

    Returns
    -------
    dash.Dash
        The app; its Flask server's config holds the catalogue (``TWIN_CATALOGUE``) and the
        editor's job table (``TWIN_JOBS``).
    """
    tdir = Path(twin_dir)
    rdir = Path(runs_dir) if runs_dir is not None else tdir.resolve().parent / "runs"
    ctx = Viewer.open(tdir, rdir, lang=lang, workers=workers)
    app = dash.Dash(
        __name__,
        assets_folder=str(ASSETS),
        title="twin",
        serve_locally=True,
        update_title="",
        assets_ignore=HEAD_ASSETS,  # loaded first, from the page's head (see `index`)
    )
    app.server.config["TWIN_CATALOGUE"] = ctx.cat
    app.server.config["TWIN_JOBS"] = ctx.jobs
    # the first view is in the page itself: the map is drawn with no callback round trip
    init = ctx.first_view()
    app.layout = page(ctx, init, editor.panel(ctx.cat))
    callbacks.register(app, ctx)
    routes.register(app, ctx.cat)
    routes.register_view(app, ctx)
    serve_tiles(app.server, ctx.basemap)
    first = {"base": ctx.base(None, None), "scenario": init["scenario"]}
    basemap = renderer_payload(ctx.basemap, app.get_asset_url("vendor/mvt-worker.js"))
    if basemap is not None:  # drawn under every map (declared once, for the whole page)
        first["basemap"] = basemap
    app.index_string = index(app, first, ctx.lang)
    return app
