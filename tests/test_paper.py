"""The paper's numbers in infusion.paper against verbatim excerpts of the thesis text."""

import re
from pathlib import Path

from infusion import paper

EXCERPT = Path(__file__).parent / "data" / "thesis-tables.txt"
NUMBER = r"-?\d*\.\d+|-?\d+"


def sections() -> dict[str, str]:
    """The excerpt's ``[name]`` sections, by name."""
    parts = re.split(r"^\[(.+)\]$", EXCERPT.read_text(encoding="utf-8"), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_table_3_1_is_the_thesis_table():
    pairs = re.findall(rf"({NUMBER}) ± ({NUMBER})", sections()["table 3.1"])
    expected = [tuple(map(float, pair)) for pair in pairs]
    assert len(expected) == 2 * len(paper.TABLE_3_1)
    for i, (model, _estimator, *values) in enumerate(paper.TABLE_3_1):
        assert tuple(values) == (*expected[2 * i], *expected[2 * i + 1]), model


def test_table_3_2_is_the_thesis_table():
    text = sections()["table 3.2"]
    models = text.splitlines()[1].split("\t")[1:]
    pairs = re.findall(rf"\$({NUMBER})\s*\\pm\s*({NUMBER})\$", text)
    assert [(m, float(a), float(b)) for m, (a, b) in zip(models, pairs, strict=True)] == (
        paper.TABLE_3_2
    )


def test_table_a1_is_the_thesis_table_read_as_the_design_brief_says():
    """The text's sub-table (c) runs on into (D) at its second 0.0 row, and its second
    "0.05" row is 0.06 (the design brief's reading of the garbled table)."""
    panels, current = {}, None
    for line in sections()["table A.1"].strip().splitlines():
        if re.fullmatch(r"\([A-Da-d]\)", line):
            current = panels.setdefault(line[1].lower(), [])
        else:
            rate, value = map(float, line.split("\t"))
            if rate == 0.0 and current:  # a 0.0 row inside a panel starts the next one
                current = panels.setdefault(chr(ord(max(panels)) + 1), [])
            current.append((rate, value))
    c = panels["c"]
    assert [rate for rate, _ in c].count(0.05) == 2
    c[6] = (0.06, c[6][1])
    assert {panel: dict(rows) for panel, rows in panels.items() if rows} == paper.TABLE_A1
