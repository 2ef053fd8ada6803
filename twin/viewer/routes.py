"""The viewer's plain HTTP routes: the offline export, the printable report and the
algorithm notice of a run (runs named by id, found in the catalogue; never a path)."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import dash
from flask import Response, abort, request, send_file
from plotly.io.json import to_json_plotly

from twin.viewer.catalogue import Catalogue, parent_of
from twin.viewer.context import QUERY, Viewer
from twin.viewer.offline import comparison_html
from twin.viewer.report import report_page

#: The languages of the routes.
LANGS = ("fr", "en")
#: Pages (reports, offline comparisons) kept in memory, the most recently asked.
PAGES = 24


class PageCache:
    """Built pages by (kind, run directory, language): a run never changes once written (a
    rerun is a new directory), so a page is built once, however many people ask at once."""

    def __init__(self, size: int = PAGES) -> None:
        self._pages: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        self._locks: dict[tuple[str, str, str], threading.Lock] = {}
        self._lock = threading.Lock()
        self.size = size

    def get(self, key: tuple[str, str, str], build: Callable[[], str]) -> str:
        """The page ``key``, built by ``build`` the first time (once, under its own lock)."""
        with self._lock:
            if key in self._pages:
                self._pages.move_to_end(key)
                return self._pages[key]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._lock:
                if key in self._pages:
                    return self._pages[key]
            page = build()
            with self._lock:
                self._pages[key] = page
                while len(self._pages) > self.size:
                    old, _ = self._pages.popitem(last=False)
                    self._locks.pop(old, None)
            return page


def register(app: dash.Dash, cat: Catalogue) -> None:
    """``/export/<run_id>/<lg>``, ``/report/<run_id>/<lg>`` and ``/notice/<run_id>/<lg>``."""
    pages = PageCache()

    @app.server.route("/export/<run_id>/<lg>")
    def offline(run_id: str, lg: str) -> Any:
        """The offline comparison (one HTML file), as a download."""
        if run_id not in cat.runs or lg not in LANGS:
            abort(404)
        key = ("export", str(cat.runs[run_id]), lg)
        return Response(
            pages.get(key, lambda: comparison_html(cat, run_id, lg)),
            mimetype="text/html",
            headers={"Content-Disposition": f'attachment; filename="twin-{run_id}.html"'},
        )

    @app.server.route("/report/<run_id>/<lg>")
    def report(run_id: str, lg: str) -> Any:
        """The printable report, from the twin and the runs already in memory."""
        cat.refresh()
        if run_id not in cat.runs or lg not in LANGS:
            abort(404)

        def build() -> str:
            r = cat.run(run_id)
            parent = parent_of(cat, r)
            diff = cat.comparison(r, parent) if parent is not None else None
            return report_page(r, parent, cat.twin, lg, diff)

        page = pages.get(("report", str(cat.runs[run_id]), lg), build)
        return Response(page, mimetype="text/html")

    @app.server.route("/notice/<run_id>/<lg>")
    def notice(run_id: str, lg: str) -> Any:
        """The run's algorithm notice."""
        if run_id not in cat.runs or lg not in LANGS:
            abort(404)
        return send_file(cat.runs[run_id] / f"notice.{lg}.html", mimetype="text/html")


def view_query(text: str) -> dict[str, Any]:
    """The page's choices sent by the browser to ``/view`` (a payload's ``query``), checked.

    Raises
    ------
    ValueError
        Not a JSON object with exactly the keys of :data:`~twin.viewer.context.QUERY`, or a
        value of the wrong type.
    """
    q = json.loads(text)
    if not isinstance(q, dict) or set(q) != set(QUERY):
        raise ValueError(f"expected an object with the keys {', '.join(QUERY)}")
    layers = q["layers"]
    if layers is not None and not (
        isinstance(layers, list) and all(isinstance(k, str) for k in layers)
    ):
        raise ValueError("layers: expected a list of layer names")
    if q["lg"] not in LANGS or not isinstance(q["mode"], str):
        raise ValueError("lg or mode: not a language or a view of the viewer")
    if q["step"] is not None and (not isinstance(q["step"], int) or isinstance(q["step"], bool)):
        raise ValueError("step: expected a whole number")
    if any(q[k] is not None and not isinstance(q[k], str) for k in QUERY[4:]):
        raise ValueError("bmetric, rmetric, result and against: expected names")
    return q


def register_view(app: dash.Dash, ctx: Viewer) -> None:
    """``/view/<run_id>?q=<choices>``: the map payload of a run for the page's choices (the
    ``query`` of the view on screen), the one the run picker's callback will send. The page
    asks for it as soon as an option of the picker is pressed, and draws the map while Dash
    makes its round trip (see ``app/assets/twin_viewer.js``)."""

    @app.server.route("/view/<run_id>")
    def view(run_id: str) -> Any:
        """The map payload, as the callback's JSON encoder writes it."""
        if run_id not in ctx.cat.runs:
            abort(404)
        try:
            q = view_query(request.args.get("q", ""))
        except ValueError:
            abort(400)
        payload = ctx.view(run_id, **q)["scenario"]
        return Response(to_json_plotly(payload), mimetype="application/json")
