"""The algorithm notice of a run, in French and English, as Markdown and HTML.

It answers the French public-algorithm transparency duty (Code des relations entre le public et
l'administration, articles L.311-3-1 and L.312-1-3, and R.311-3-1-2): purpose, how far the
output contributes to a decision, data and sources with licences, parameters and their
weights, operations performed, known limits, and version.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from twin.sims.base import NoticeText, Simulation
from twin.sims.registry import get_simulation

Block = tuple[str, Any]

T: dict[str, dict[str, Any]] = {
    "title": {"fr": "Notice algorithmique", "en": "Algorithm notice"},
    "purpose": {"fr": "1. Objectif", "en": "1. Purpose"},
    "decision": {"fr": "2. Place dans la décision", "en": "2. Role in the decision"},
    "decision_text": {
        "fr": "Ces résultats sont une **aide à la décision**. Aucune décision n'est prise "
        "automatiquement : les personnes qui décident les examinent, les discutent et en "
        "restent responsables. Toute personne peut demander les règles de ce traitement et "
        "ses principales caractéristiques (CRPA, art. L.311-3-1 et R.311-3-1-2).",
        "en": "These results are **decision support**. No decision is taken automatically: "
        "the people who decide examine and discuss them and remain accountable. Anyone may ask "
        "for the rules of this processing and its main characteristics (French CRPA, "
        "art. L.311-3-1 and R.311-3-1-2).",
    },
    "data": {"fr": "3. Données et sources", "en": "3. Data and sources"},
    "data_head": {
        "fr": [
            "Couche",
            "Type",
            "Éléments",
            "Source",
            "Producteur",
            "Licence",
            "Date",
            "Données personnelles",
        ],
        "en": [
            "Layer",
            "Kind",
            "Features",
            "Source",
            "Producer",
            "Licence",
            "Date",
            "Personal data",
        ],
    },
    "params": {"fr": "4. Paramètres et pondérations", "en": "4. Parameters and weights"},
    "params_head": {
        "fr": ["Simulation", "Paramètre", "Valeur", "Défaut", "Signification"],
        "en": ["Simulation", "Parameter", "Value", "Default", "Meaning"],
    },
    "seed": {"fr": "Graine aléatoire", "en": "Random seed"},
    "ops": {"fr": "5. Opérations effectuées", "en": "5. Operations performed"},
    "interventions": {
        "fr": "Interventions appliquées (dans l'ordre)",
        "en": "Interventions applied (in order)",
    },
    "none": {"fr": "aucune (situation de référence)", "en": "none (baseline)"},
    "sims": {
        "fr": "Simulations (dans l'ordre d'exécution)",
        "en": "Simulations (in the order run)",
    },
    "compare": {
        "fr": "Comparaison automatique avec le scénario parent « {p} » : "
        "indicateurs et cartes de différences (scénario − parent).",
        "en": "Automatic comparison with the parent scenario '{p}': indicators and "
        "difference maps (scenario − parent).",
    },
    "kpis": {"fr": "Indicateurs produits", "en": "Indicators produced"},
    "limits": {"fr": "6. Limites connues", "en": "6. Known limits"},
    "assumed": {
        "fr": "Valeurs supposées ou dérivées par twin",
        "en": "Values assumed or derived by twin",
    },
    "estimated": {
        "fr": "Valeurs estimées ou supposées par les simulations de ce calcul",
        "en": "Values estimated or assumed by the simulations of this run",
    },
    "version": {"fr": "7. Version", "en": "7. Version"},
    "yes": {"fr": "oui", "en": "yes"},
    "unknown": {"fr": "inconnue", "en": "unknown"},
    "no_licence": {
        "fr": "La licence de la couche « {layer} » n'est pas connue : sa réutilisation doit "
        "être vérifiée auprès de son producteur.",
        "en": "The licence of layer '{layer}' is unknown: check with its producer before "
        "reusing it.",
    },
    "no_date": {
        "fr": "La date de la couche « {layer} » n'est pas connue : les résultats peuvent "
        "reposer sur des données anciennes.",
        "en": "The date of layer '{layer}' is unknown: the results may rest on old data.",
    },
    "no": {"fr": "non", "en": "no"},
}


def notice_blocks(r: Any, lang: str) -> list[Block]:
    """The notice of run ``r`` as blocks (heading, paragraph, list, table)."""
    m = r.manifest
    sc = r.scenario
    sims = [get_simulation(n) for n in m["simulations_order"]]
    texts = {s.name: _notice_text(s, m["parameters"].get(s.name, {}), lang) for s in sims}
    b: list[Block] = [("h1", f"{T['title'][lang]} — {sc.title or sc.name}")]
    b.append(("h2", T["purpose"][lang]))
    if sc.description:
        b.append(("p", sc.description))
    b.append(("ul", [f"**{s.title[lang]}** — {texts[s.name].purpose}" for s in sims]))
    b += [("h2", T["decision"][lang]), ("p", T["decision_text"][lang])]
    b.append(("h2", T["data"][lang]))
    rows = []
    for name, d in m["data"].items():
        pv = d["provenance"]
        rows.append(
            [
                name,
                d["kind"],
                str(d["count"]),
                pv["source"],
                pv["producer"],
                _known(pv["licence"], lang),
                _known(pv["retrieved"], lang),
                T["yes"][lang] if pv["personal_data"] else T["no"][lang],
            ]
        )
    b.append(("table", (T["data_head"][lang], rows)))
    gaps = _provenance_gaps(m["data"], lang)
    if gaps:
        b.append(("ul", gaps))
    b.append(("h2", T["params"][lang]))
    prow = []
    for s in sims:
        fields = s.params_model.model_fields
        for k, v in m["parameters"][s.name].items():
            f = fields.get(k)
            # the simulation's title and the parameter's meaning in the notice's language;
            # the parameter's name as scenario files write it
            meaning = s.params_model.meaning(k, lang)
            prow.append([s.title[lang], f"`{k}`", str(v), str(f.default) if f else "", meaning])
    b.append(("table", (T["params_head"][lang], prow)))
    b.append(
        (
            "p",
            f"{T['seed'][lang]} : {m['seed']}"
            if lang == "fr"
            else f"{T['seed'][lang]}: {m['seed']}",
        )
    )
    b.append(("h2", T["ops"][lang]))
    b.append(("h3", T["interventions"][lang]))
    # what each intervention did, in the notice's language (runs written before the French
    # text was recorded have the English one only)
    done = m.get(f"interventions_applied_{lang}", m["interventions_applied"])
    b.append(("ul", done or [T["none"][lang]]))
    b.append(("h3", T["sims"][lang]))
    b.append(("ul", [f"**{s.title[lang]}** (`{s.name}`) — {texts[s.name].method}" for s in sims]))
    if m.get("parent") and m.get("parent_run"):  # a parent run only to compare with has none
        b.append(("p", T["compare"][lang].format(p=m["parent"])))
    b.append(("h3", T["kpis"][lang]))
    b.append(("ul", [_kpi_line(k, row, lang) for k, row in r.kpis.iterrows()]))
    b.append(("h2", T["limits"][lang]))
    b.append(("ul", [f"**{s.title[lang]}** — {texts[s.name].limits}" for s in sims]))
    assumed = [
        f"`{name}.{fld}`: {rule}"
        for name, d in m["data"].items()
        for fld, rule in d["provenance"].get("derived", {}).items()
    ]
    if assumed:
        b.append(("h3", T["assumed"][lang]))
        b.append(("ul", assumed))
    # fitted coefficients, fit statistics and assumed values of the outputs (e.g. the
    # vacancy-risk model), so that the notice states the model actually used
    estimated = [
        f"`{name}.{fld}`: {rule}"
        for name, lay in getattr(r, "outputs", {}).items()
        for fld, rule in lay.provenance.derived.items()
    ]
    if estimated:
        b.append(("h3", T["estimated"][lang]))
        b.append(("ul", estimated))
    b.append(("h2", T["version"][lang]))
    b.append(
        (
            "ul",
            [
                f"twin {m['code_version']}",
                f"run `{m['run_id']}`",
                f"key `{m['key']}`",
                m["finished"],
            ],
        )
    )
    return b


def _known(value: str, lang: str) -> str:
    """A provenance value, or "unknown" in ``lang`` when the source did not give it."""
    return T["unknown"][lang] if value in ("", "unknown", None) else str(value)


def _provenance_gaps(data: dict[str, Any], lang: str) -> list[str]:
    """One sentence per layer whose licence or retrieval date is unknown."""
    out = []
    for name, d in data.items():
        pv = d["provenance"]
        if pv.get("licence") in ("", "unknown", None):
            out.append(T["no_licence"][lang].format(layer=name))
        if pv.get("retrieved") in ("", "unknown", None):
            out.append(T["no_date"][lang].format(layer=name))
    return out


def _notice_text(sim: Simulation, params: dict[str, Any], lang: str) -> NoticeText:
    """The simulation's notice formatted with the parameters of the run."""
    return sim.notice_text(sim.params_model.model_validate(params), lang)


def _kpi_line(name: Any, row: Any, lang: str) -> str:
    """A KPI of the run: name, unit, label and description in ``lang`` (from the declaration
    recorded in the run's KPI table)."""
    label = row.get(f"label_{lang}") if hasattr(row, "get") else None
    desc = row.get("description_fr") if lang == "fr" else row.get("description")
    label = label if isinstance(label, str) and label else str(name)
    desc = desc if isinstance(desc, str) and desc else str(row.get("description", ""))
    return (
        f"`{name}` [{row['unit']}] — **{label}** : {desc}"
        if lang == "fr"
        else (f"`{name}` [{row['unit']}] — **{label}**: {desc}")
    )


def _md_inline(text: str) -> str:
    return text.replace("|", "\\|")


def to_markdown(blocks: list[Block]) -> str:
    """Render blocks as Markdown."""
    out = []
    for kind, v in blocks:
        if kind in ("h1", "h2", "h3"):
            out.append("#" * int(kind[1]) + " " + v)
        elif kind == "p":
            out.append(v)
        elif kind == "ul":
            out.append("\n".join(f"- {x}" for x in v))
        elif kind == "table":
            head, rows = v
            lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            lines += ["| " + " | ".join(_md_inline(c) for c in r) + " |" for r in rows]
            out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def _html_inline(text: str) -> str:
    import re

    t = html.escape(text)
    t = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", t)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", t)


def to_html(blocks: list[Block], lang: str) -> str:
    """Render blocks as a self-contained HTML page (no external resources)."""
    body = []
    for kind, v in blocks:
        if kind in ("h1", "h2", "h3"):
            body.append(f"<{kind}>{_html_inline(v)}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{_html_inline(v)}</p>")
        elif kind == "ul":
            body.append("<ul>" + "".join(f"<li>{_html_inline(x)}</li>" for x in v) + "</ul>")
        elif kind == "table":
            head, rows = v
            th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
            trs = "".join(
                "<tr>" + "".join(f"<td>{_html_inline(c)}</td>" for c in r) + "</tr>" for r in rows
            )
            body.append(f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>")
    title = html.escape(blocks[0][1])
    style = (
        "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
        "line-height:1.5;color:#1b1b1b}table{border-collapse:collapse;font-size:.9rem}"
        "td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}"
        "th{background:#f0f0f0}code{background:#f4f4f4;padding:0 .2rem}"
    )
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{style}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


def write_notices(r: Any, folder: Path) -> None:
    """Write ``notice.{fr,en}.{md,html}`` into ``folder``."""
    for lang in ("fr", "en"):
        blocks = notice_blocks(r, lang)
        (folder / f"notice.{lang}.md").write_text(to_markdown(blocks), encoding="utf-8")
        (folder / f"notice.{lang}.html").write_text(to_html(blocks, lang), encoding="utf-8")
