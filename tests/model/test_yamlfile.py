"""Declaration files are parsed safely: hostile YAML is one clear SchemaError, fast."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from twin.errors import InputError, SchemaError
from twin.model.yamlfile import load_yaml

LAUGHS = "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
)


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        (LAUGHS, "expands to more than 200,000 values"),
        ("a: &a [x]\n" + "\n".join(f"k{i}: *a" for i in range(150)), "more than 100 aliases"),
        ("x: " + "[" * 1000 + "]" * 1000, "nested deeper than 40"),
        ("name: a\nseed: 1\nname: b\n", "the key 'name' appears twice"),
        ('name: "\\ud800"\n', "not valid Unicode"),
        ("name: " + "x" * 30_000 + "\n", "30,000 characters"),
        ("name: [unclosed\n", "not valid YAML"),
    ],
)
def test_hostile_yaml_is_refused(tmp_path: Path, text: str, expect: str) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(text, encoding="utf-8")
    t0 = time.perf_counter()
    with pytest.raises(SchemaError, match=expect):
        load_yaml(p, what="scenario file")
    assert time.perf_counter() - t0 < 5


def test_huge_and_missing_files(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("x: 1\n" * 1_100_000)
    with pytest.raises(InputError, match="too large"):
        load_yaml(big, what="manifest")
    with pytest.raises(InputError, match="not found"):
        load_yaml(tmp_path / ("n" * 5000 + ".yaml"), what="manifest")


def test_aliases_within_limits_still_work(tmp_path: Path) -> None:
    p = tmp_path / "ok.yaml"
    p.write_text("base: &b {layer: roads}\nx: {target: *b}\n")
    assert load_yaml(p, what="scenario file")["x"]["target"] == {"layer": "roads"}
