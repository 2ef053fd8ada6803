"""Problems of the what-if editor's form, each tied to the field it is shown under.

A :class:`Problem` names the field of the form, a message of :mod:`twin.viewer.i18n` and the
values it needs; the page writes it under that field in the interface language, with no
schema path, internal id or pattern. Its English ``text`` (which may name them) is what
scripts and logs read. Problems travel to the page through a ``dcc.Store`` as plain dicts.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass
from typing import Any

from twin.viewer.i18n import tr
from twin.viewer.numbers import number

#: Fields of the editor's form a problem can be shown under (``changes``: the list of
#: changes to launch; ``form``: the general area under the launch button).
FIELDS = (
    "name",
    "links",
    "area",
    "kind",
    "amount",
    "dim_start",
    "dim_end",
    "dim_level",
    "changes",
    "form",
)
#: Fields sharing one row of the form: their messages say which one they are about.
NAMED = ("dim_start", "dim_end", "dim_level")


@dataclass(frozen=True)
class Problem:
    """One problem of the form.

    Attributes
    ----------
    field : str
        The field of the form it is shown under, one of :data:`FIELDS`.
    key : str
        Its message in :mod:`twin.viewer.i18n`, with ``{name}`` placeholders.
    values : dict
        The values of the placeholders. Numbers are written the language's way, as shares
        in percent when ``spec`` (a format of the declared parameter, e.g. ``.0%``) is one.
    text : str
        The problem in English for scripts and logs (it may name schema paths and ids).
    """

    field: str
    key: str
    values: dict[str, Any] = dataclasses.field(default_factory=dict)
    text: str = ""

    def message(self, lang: str) -> str:
        """The message in ``lang``, prefixed by the field's name where fields share a row."""
        spec = str(self.values.get("spec", "g"))
        shown = {
            k: value_text(v, spec, lang) if isinstance(v, float) else _plain(v, lang)
            for k, v in self.values.items()
        }
        out = tr(lang, self.key).format(**shown)
        if self.field in NAMED:
            out = (
                f"{tr(lang, f'wi.f.{self.field}')}{tr(lang, 'tip.colon')}{out[:1].lower()}{out[1:]}"
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """The problem as plain values (for the page's store)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Problem:
        """A problem from :meth:`to_dict`'s values; an unknown field goes to ``form``."""
        where = str(d.get("field", "form"))
        return cls(
            where if where in FIELDS else "form",
            str(d.get("key", "")),
            dict(d.get("values") or {}),
            str(d.get("text", "")),
        )


def _plain(v: Any, lang: str) -> str:
    """A value of a message: whole numbers grouped the language's way, the rest as text."""
    if isinstance(v, int) and not isinstance(v, bool):
        return number(v, lang)
    return str(v)


def value_text(v: float, spec: str, lang: str) -> str:
    """A parameter's value as a person reads it in ``lang``: a share in percent when its
    declared format ``spec`` is a percentage (``0.3`` → ``30 %`` in French, ``30%`` in
    English), else the number with the language's decimal mark (``0,85``); ``–`` when it is
    not a finite number."""
    if not math.isfinite(v):
        return "–"
    if spec.endswith("%"):
        text = number(v * 100.0, lang)
        return f"{text}\u00a0%" if lang == "fr" else f"{text}%"
    return number(v, lang)


def english(problems: list[Problem]) -> str:
    """The problems as one English message (the text of the form's error)."""
    lines = [f"  - {p.text}" for p in problems]
    return (
        f"what-if editor: {len(problems)} problem(s):\n"
        + "\n".join(lines)
        + "\nFix: correct the form and launch again."
    )


def by_field(problems: list[dict[str, Any]], lang: str) -> dict[str, list[str]]:
    """The messages of stored problems (:meth:`Problem.to_dict`) in ``lang``, by field of
    the form (every field of :data:`FIELDS`, empty when it has none); each message once."""
    out: dict[str, list[str]] = {f: [] for f in FIELDS}
    for d in problems:
        p = Problem.from_dict(d)
        text = p.message(lang)
        if text not in out[p.field]:
            out[p.field].append(text)
    return out
