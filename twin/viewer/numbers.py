"""Numbers for people, in the interface language, with the locale's marks (Babel's CLDR data).

A French reader reads "22,011 m²" as twenty-two square metres: numbers are grouped and
punctuated as the language writes them (``22 011`` with a narrow no-break space and ``3,5``
in French; ``22,011`` and ``3.5`` in English), never by hand. Values keep three significant
digits (all the digits of their integer part): a KPI is an estimate, not a measurement to the
gram.
"""

from __future__ import annotations

import math

from babel.numbers import format_decimal

#: The CLDR locale of each interface language.
LOCALES = {"fr": "fr_FR", "en": "en_GB"}
#: Significant digits shown by default.
DIGITS = 3


def _locale(lang: str) -> str:
    return LOCALES.get(lang, LOCALES["en"])


def number(value: float, lang: str, digits: int = DIGITS) -> str:
    """``value`` with ``digits`` significant digits (never fewer than its integer digits),
    grouped and with the decimal mark of ``lang``; ``–`` when it is not a finite number.

    >>> number(22011.4, "fr") == "22\u202f011"
    True
    >>> number(-0.008674, "fr"), number(3.14159, "en")
    ('-0,00867', '3.14')
    """
    v = float(value)
    if not math.isfinite(v):
        return "–"
    if v == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(v))))
    v = round(v, decimals)
    pattern = "#,##0" + ("." + "#" * decimals if decimals else "")
    return str(format_decimal(v, format=pattern, locale=_locale(lang)))


def signed(value: float, lang: str, digits: int = DIGITS) -> str:
    """:func:`number` with its sign, ``+`` included (a change)."""
    text = number(value, lang, digits)
    return text if text in ("–", "0") or text.startswith("-") else "+" + text


def percent(share: float, lang: str, sign: bool = False) -> str:
    """A share (0.123) as a percentage with one decimal, the ``%`` sign placed as the
    language places it (``12,3 %`` in French, ``12.3%`` in English); ``≈ 0 %`` below 0.05 %
    when signed (a change too small to show)."""
    v = float(share) * 100.0
    if not math.isfinite(v):
        return "–"
    if sign and abs(v) < 0.05:
        return "≈ 0 %" if lang == "fr" else "≈ 0%"
    text = str(format_decimal(round(v, 1), format="#,##0.0", locale=_locale(lang)))
    if sign and v > 0:
        text = "+" + text
    return f"{text}\u00a0%" if lang == "fr" else f"{text}%"
