"""Check a served viewer under concurrent use: many clients, the full mix of what people do.

Each client asks in turn for the page, a scenario switch (the viewer's own Dash callback,
built from ``/_dash-dependencies`` as the browser does), the notice, the printable report,
the offline comparison, a what-if launch from the editor and its progress poll, for a fixed
time. Used by the load test and
``benchmarks/bench_viewer_load.py``; an authority can point it at its own server::

    python -m twin.viewer.loadcheck http://127.0.0.1:8050 RUN_ID [RUN_ID …]
"""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class LoadStats:
    """Outcomes and latencies of a load run.

    Attributes
    ----------
    outcomes : Counter
        HTTP status codes (as text) or exception names, counted.
    latencies_s : list of float
        Time of each answered request [s].
    duration_s : float
        Wall time of the run [s].
    failures : list of str
        The first failed requests (what was asked, the status and the start of the answer),
        to tell what failed.
    """

    outcomes: Counter[str] = field(default_factory=Counter)
    latencies_s: list[float] = field(default_factory=list)
    duration_s: float = 0.0
    failures: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        """Requests per second and the 50th, 95th and 99th percentile latencies [s]."""
        lat = np.asarray(self.latencies_s) if self.latencies_s else np.array([np.nan])
        return {
            "requests": float(sum(self.outcomes.values())),
            "req_per_s": sum(self.outcomes.values()) / max(self.duration_s, 1e-9),
            "p50_s": float(np.percentile(lat, 50)),
            "p95_s": float(np.percentile(lat, 95)),
            "p99_s": float(np.percentile(lat, 99)),
        }


def dependencies(url: str) -> list[dict[str, Any]]:
    """The page's callbacks, as the browser reads them from ``/_dash-dependencies``."""
    with urllib.request.urlopen(f"{url}/_dash-dependencies", timeout=60) as r:
        return list(json.loads(r.read()))


def callback_request(
    url: str, deps: list[dict[str, Any]], trigger: dict[str, str], values: dict[str, Any]
) -> urllib.request.Request:
    """The POST the browser sends when ``trigger`` (an input ``{"id", "property"}``) changes.

    ``values`` gives the inputs' and states' values by component id (``None`` if absent).
    """
    cb = next(d for d in deps if trigger in d["inputs"])
    inputs = [{**i, "value": values.get(i["id"])} for i in cb["inputs"]]
    state = [{**i, "value": values.get(i["id"])} for i in cb["state"]]
    outputs = [
        {"id": o.split(".")[0], "property": o.split(".")[1]}
        for o in cb["output"].strip(".").split("...")
    ]
    body = {
        "output": cb["output"],
        "outputs": outputs,
        "inputs": inputs,
        "changedPropIds": [f"{trigger['id']}.{trigger['property']}"],
        "state": state,
    }
    return urllib.request.Request(
        f"{url}/_dash-update-component",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )


def switch_request(
    url: str, deps: list[dict[str, Any]], run_id: str, mode: str
) -> urllib.request.Request:
    """The scenario-picker callback for ``run_id`` shown in ``mode``, as the page sends it."""
    values = {"run": run_id, "mode": mode, "layers": ["buildings", "roads", "results"]}
    return callback_request(url, deps, {"id": "run", "property": "value"}, values | {"lang": "en"})


def first_street(url: str, deps: list[dict[str, Any]], search: str) -> list[str]:
    """The first street the editor's search offers for ``search`` (as a person types it)."""
    trigger = {"id": "wi-links", "property": "search_value"}
    req = callback_request(url, deps, trigger, {"wi-links": search})
    with urllib.request.urlopen(req, timeout=60) as r:
        options = json.loads(r.read())["response"]["wi-links"]["options"]
    return [str(options[0]["value"])] if options else []


def whatif_requests(
    url: str, deps: list[dict[str, Any]], parent: str, search: str
) -> list[urllib.request.Request]:
    """A what-if launch from the editor (closing the first street found for ``search`` on
    run ``parent``) and the progress poll the page then sends."""
    form = {
        "wi-parent": parent,
        "wi-name": "load-check",
        "wi-links": first_street(url, deps, search),
        "wi-launch": 1,
        "lang": "en",
    }
    launch = callback_request(url, deps, {"id": "wi-launch", "property": "n_clicks"}, form)
    poll = callback_request(
        url, deps, {"id": "jobs-poll", "property": "n_intervals"}, {"jobs-poll": 1, "lang": "en"}
    )
    return [launch, poll]


def mix(url: str, runs: list[str], search: str = "a") -> list[Any]:
    """The requests of the mix, in the order a client asks for them: per run, the page, a
    scenario switch, its notice, report and offline comparison; then a what-if launch on
    the first run (the street searched with ``search``) and a progress poll."""
    deps = dependencies(url)
    out: list[Any] = []
    for k, rid in enumerate(runs):
        lang = "fr" if k % 2 else "en"
        out += [f"{url}/", switch_request(url, deps, rid, ("single", "side", "diff")[k % 3])]
        out += [f"{url}/notice/{rid}/{lang}", f"{url}/report/{rid}/{lang}"]
        out += [f"{url}/export/{rid}/{lang}"]
    return out + whatif_requests(url, deps, runs[0], search)


def _failed(stats: LoadStats, lock: threading.Lock, req: Any, exc: urllib.error.HTTPError) -> None:
    """Keep the first few failed requests: what was asked and what the server answered."""
    what = req if isinstance(req, str) else f"{req.full_url} {(req.data or b'')[:300]!r}"
    body = exc.read()[:300].decode("utf-8", "replace")
    with lock:
        if len(stats.failures) < 5:
            stats.failures.append(f"{exc.code} {what} -> {body}")


def drive(url: str, runs: list[str], clients: int = 20, duration_s: float = 20.0) -> LoadStats:
    """Ask for the mix from ``clients`` threads for ``duration_s`` seconds."""
    requests = mix(url, runs)
    stats = LoadStats()
    lock = threading.Lock()
    t0 = time.monotonic()
    end = t0 + duration_s

    def client(k: int) -> None:
        i, stop = k, end
        while time.monotonic() < stop:
            r0 = time.monotonic()
            try:
                with urllib.request.urlopen(requests[i % len(requests)], timeout=120) as resp:
                    resp.read()
                    outcome = str(resp.status)
            except urllib.error.HTTPError as exc:
                outcome = str(exc.code)
                _failed(stats, lock, requests[i % len(requests)], exc)
            except OSError as exc:  # refused or reset: the server is gone, stop asking
                outcome, stop = type(exc).__name__, 0.0
            with lock:
                stats.outcomes[outcome] += 1
                stats.latencies_s.append(time.monotonic() - r0)
            i += 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats.duration_s = time.monotonic() - t0
    return stats


if __name__ == "__main__":  # pragma: no cover
    s = drive(sys.argv[1].rstrip("/"), sys.argv[2:])
    print(dict(s.outcomes), {k: round(v, 3) for k, v in s.summary().items()})
