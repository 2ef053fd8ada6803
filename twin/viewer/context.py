"""What the viewer's callbacks share (:class:`Viewer`), and what the page shows for a run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from twin.scenario.extent import intervention_bounds
from twin.scenario.runner import Run
from twin.store.twinstore import open_twin
from twin.viewer import timeaxis as tx
from twin.viewer.basemap import BasemapState, open_basemap
from twin.viewer.catalogue import Catalogue, run_title
from twin.viewer.i18n import tooltip_labels, tr
from twin.viewer.jobs import JobTable
from twin.viewer.kpis import kpi_cards
from twin.viewer.layers import base_payload, metric_options, result_choices, time_labels
from twin.viewer.legend import legend_items


class MetricPick(NamedTuple):
    """A colour-by dropdown: its options and the value it starts with (``None`` when the
    default column is not offered, so that the dropdown never clears its value)."""

    options: list[dict[str, str]]
    value: str | None


def captions(cat: Catalogue, r: Run, parent: Run | None, mode: str, lg: str) -> list[str]:
    """What each map shows, in ``lg``: the scenario alone, the reference and the scenario
    side by side, or the difference (scenario − reference)."""
    colon = tr(lg, "tip.colon")
    this = run_title(cat, r.run_id, lg)
    if parent is not None and mode in ("side", "swipe", "diff"):
        ref = run_title(cat, parent.run_id, lg)
        if mode == "diff":
            return [f"{tr(lg, 'caption.diff')}{colon}{this} − {ref}"]
        return [
            f"{tr(lg, 'caption.parent')}{colon}{ref}",
            f"{tr(lg, 'caption.scenario')}{colon}{this}",
        ]
    return [f"{tr(lg, 'caption.scenario')}{colon}{this}"]


#: The choices of the page a view is computed from, besides the run (the arguments of
#: :meth:`Viewer.view`). Each map payload carries them (``query``), so that the browser can ask
#: the ``/view`` route for another run with the same choices (see ``app/assets``).
QUERY = ("mode", "layers", "lg", "step", "bmetric", "rmetric", "result", "against")


def _pick(options: list[dict[str, str]], default: str) -> MetricPick:
    return MetricPick(options, default if {"value": default, "label": default} in options else None)


@dataclass
class Viewer:
    """The state shared by the layout and the callbacks of one viewer app.

    Parameters
    ----------
    cat : Catalogue
        The twin and its runs.
    jobs : JobTable
        The what-if editor's runs.
    lang : str
        The language the page opens in.
    first : str, optional
        The run shown first (the first comparison, else the first run).
    layer_keys : list of str
        The layer toggles: one per layer the twin has, ``results``, and ``basemap`` when
        the twin has a basemap that can be drawn.
    bmetric, rmetric : MetricPick
        The colour-by dropdowns of the buildings and of the roads.
    basemap : BasemapState
        The twin's basemap as found when the viewer started.
    """

    cat: Catalogue
    jobs: JobTable
    lang: str
    first: str | None
    layer_keys: list[str]
    bmetric: MetricPick
    rmetric: MetricPick
    basemap: BasemapState = field(default_factory=BasemapState)
    _bases: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict, repr=False)
    # one entry per run of the store (run ids come from the store, not from the browser)
    _focus: dict[str, list[float] | None] = field(default_factory=dict, repr=False)

    def focus(self, r: Run) -> list[float] | None:
        """``[west, south, east, north]`` [degrees] of what the run's own interventions
        target, for the *fit to the intervention* camera (None: nothing to frame)."""
        if r.run_id not in self._focus:
            b = intervention_bounds(self.cat.twin, r.scenario)
            self._focus[r.run_id] = list(b) if b is not None else None
        return self._focus[r.run_id]

    @classmethod
    def open(cls, twin_dir: Path, runs_dir: Path, *, lang: str, workers: int) -> Viewer:
        """The twin in ``twin_dir`` and the runs in ``runs_dir``, ready to be shown."""
        cat = Catalogue(twin_dir, runs_dir, open_twin(twin_dir))
        cat.refresh()
        first = next((r for r in cat.runs if not r.startswith("baseline")), None)
        t = cat.twin
        ctx = cls(
            cat=cat,
            jobs=JobTable(twin_dir, runs_dir, workers=workers),
            lang=lang,
            first=first or next(iter(cat.runs), None),
            layer_keys=[],
            bmetric=_pick(metric_options(t, "buildings"), "height_m"),
            rmetric=_pick(metric_options(t, "roads"), "speed_kph"),
            basemap=open_basemap(t),
        )
        # a toggle only for the layers the twin has (a power network has no buildings), and
        # the basemap's when it can be drawn
        base = ctx.base(None, None)
        have = [k for k in ("buildings", "roads", "lamps", "sensors") if base.get(k)]
        basemap = ["basemap"] if ctx.basemap.archive is not None else []
        ctx.layer_keys = [*have, "results", *basemap]
        return ctx

    def base(self, bmetric: str | None, rmetric: str | None) -> dict[str, Any]:
        """The static layers coloured by the given metrics (computed once per pair)."""
        # only metrics the page offers: a browser sending other values gets the defaults,
        # so the cache holds at most one payload per offered pair
        b = bmetric if bmetric in self._offered("buildings") else None
        r = rmetric if rmetric in self._offered("roads") else None
        key = (str(b or "height_m"), str(r or "speed_kph"))
        if key not in self._bases:
            self._bases[key] = base_payload(self.cat.twin, *key)
        return self._bases[key]

    def _offered(self, which: str) -> set[str]:
        """The metrics the page offers to colour ``which`` by."""
        return {o["value"] for o in metric_options(self.cat.twin, which)}

    def first_view(self) -> dict[str, Any]:
        """What the page shows when it opens (it travels in the page: see :func:`view`)."""
        return self.view(
            self.first,
            "single",
            self.layer_keys,
            self.lang,
            0,
            self.bmetric.value,
            self.rmetric.value,
            None,
        )

    def _no_run(
        self, visible: dict[str, bool], lg: str, base: dict[str, Any], query: dict[str, Any]
    ) -> dict[str, Any]:
        """The view without a run: the twin's layers and their legend only."""
        return {
            "scenario": {
                "visible": visible,
                "key": "none",
                "labels": tooltip_labels(lg),
                "query": query,
            },
            "kpis": [],
            "legend": legend_items(base, {}, lg),
            "notice": (None, ""),
            "right": {"display": "none"},
            "export": (None, ""),
            "report": (None, ""),
            "time": (0, {}, 0, {"display": "none"}),
            "results": [],
        }

    def view(
        self,
        run_id: str | None,
        mode: str,
        layers: list[str] | None,
        lg: str,
        step: int | None,
        bmetric: str | None,
        rmetric: str | None,
        result: str | None = None,
        against: str | None = None,
    ) -> dict[str, Any]:
        """Everything the page shows for a run.

        Parameters
        ----------
        run_id : str, optional
            The run picked (none, or one not in the store: the twin alone).
        mode : {"single", "side", "swipe", "diff"}
            The view (``single`` when the run has no parent).
        layers : list of str
            The layers toggled on.
        lg : str
            The interface language.
        step : int, optional
            The time slider's position.
        bmetric, rmetric : str, optional
            The columns colouring the buildings and the roads.
        result : str, optional
            The result picked to draw first (``<layer>/<variable>``).
        against : str, optional
            The run to compare with, when a person picked one (else the run's parent).

        Returns
        -------
        dict
            ``scenario`` (the payload drawn by the map, with its tooltips' words in ``lg``),
            ``kpis`` (cards), ``legend``, ``notice``, ``export`` and ``report`` (link and
            text), ``right`` (the right map's style), ``time`` (slider maximum, marks,
            value and style) and ``results`` (the results that can be picked). The KPI
            chart follows the map's first frame.
        """
        visible = {k: k in (layers or []) for k in self.layer_keys}
        base = self.base(bmetric, rmetric)
        chosen = (mode, layers, lg, step, bmetric, rmetric, result, against)
        query = dict(zip(QUERY, chosen, strict=True))
        if not run_id or run_id not in self.cat.runs:
            return self._no_run(visible, lg, base, query)
        r = self.cat.run(run_id)
        parent = self.cat.reference(r, against)
        labels = time_labels(r, parent)
        k = min(max(int(step or 0), 0), len(labels) - 1) if labels else 0
        when = labels[k] if labels else None
        mode = mode if mode in ("side", "swipe", "diff") and parent is not None else "single"
        data: dict[str, Any] = {
            "visible": visible,
            # the reference changes the maps only when they compare
            "key": f"{run_id}:{mode}:{when or ''}"
            + (f":vs:{parent.run_id}" if parent is not None and mode != "single" else "")
            + (f":{result}" if result else ""),
            "labels": tooltip_labels(lg),  # the tooltips' words, in the interface language
            **self.cat.layers(run_id, mode, when, result, against),
            "captions": captions(self.cat, r, parent, mode, lg),
            "swipe": mode == "swipe",  # the two maps on one, split by a slider
            "focus": self.focus(r),
            "query": query,  # the page's choices, for the ``/view`` route
        }
        return {
            "scenario": data,
            "kpis": kpi_cards(r, parent, lg),
            "legend": legend_items(base, data, lg, difference=mode == "diff"),
            "notice": (f"/notice/{run_id}/{lg}", tr(lg, "notice")),
            "right": {} if "right" in data else {"display": "none"},
            "export": (f"/export/{run_id}/{lg}", tr(lg, "export.html")),
            "report": (f"/report/{run_id}/{lg}", tr(lg, "export.report")),
            "time": (
                max(len(labels) - 1, 0),
                tx.marks(labels),
                k,
                {} if labels else {"display": "none"},
            ),
            "results": result_choices(r, lg),
        }
