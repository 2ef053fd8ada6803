"""The viewer's plain HTTP routes: the offline export, the printable report and the
algorithm notice of a run (runs named by id, found in the catalogue; never a path)."""

from __future__ import annotations

from typing import Any

import dash
from flask import Response, abort, send_file

from twin.viewer.catalogue import Catalogue, parent_of
from twin.viewer.offline import comparison_html
from twin.viewer.report import report_page

#: The languages of the routes.
LANGS = ("fr", "en")


def register(app: dash.Dash, cat: Catalogue) -> None:
    """``/export/<run_id>/<lg>``, ``/report/<run_id>/<lg>`` and ``/notice/<run_id>/<lg>``."""

    @app.server.route("/export/<run_id>/<lg>")
    def offline(run_id: str, lg: str) -> Any:
        """The offline comparison (one HTML file), as a download."""
        if run_id not in cat.runs or lg not in LANGS:
            abort(404)
        return Response(
            comparison_html(cat, run_id, lg),
            mimetype="text/html",
            headers={"Content-Disposition": f'attachment; filename="twin-{run_id}.html"'},
        )

    @app.server.route("/report/<run_id>/<lg>")
    def report(run_id: str, lg: str) -> Any:
        """The printable report, from the twin and the runs already in memory."""
        cat.refresh()
        if run_id not in cat.runs or lg not in LANGS:
            abort(404)
        r = cat.run(run_id)
        parent = parent_of(cat, r)
        diff = cat.comparison(r, parent) if parent is not None else None
        return Response(report_page(r, parent, cat.twin, lg, diff), mimetype="text/html")

    @app.server.route("/notice/<run_id>/<lg>")
    def notice(run_id: str, lg: str) -> Any:
        """The run's algorithm notice."""
        if run_id not in cat.runs or lg not in LANGS:
            abort(404)
        return send_file(cat.runs[run_id] / f"notice.{lg}.html", mimetype="text/html")
