"""The paper's numbers in infusion.published against the thesis text itself (the shared
``paper/infusion-thesis.txt`` beside the checkout, as CI lays it), parsed here."""

import re
from pathlib import Path

import pytest

from infusion import published as paper

THESIS = Path(__file__).resolve().parents[2] / "shared" / "paper" / "infusion-thesis.txt"
NUMBER = r"-?\d*\.\d+|-?\d+"
# Where each table's text starts and ends in the thesis (its caption, the next caption).
TABLES = {
    "table 3.1": ("TAB. 3.1.", "TAB. 3.2."),
    "table A.1": ("TAB. A.1.", "FIG. A.2."),
}


def thesis_text() -> str:
    if not THESIS.exists():
        pytest.skip(f"{THESIS} not found (the shared folder beside the checkout)")
    return THESIS.read_text(encoding="utf-8")


def sections() -> dict[str, str]:
    """Each table's text, from its caption to the next caption."""
    text = thesis_text()
    found = {}
    for name, (start, end) in TABLES.items():
        begin = text.index(start)
        found[name] = text[begin : text.index(end, begin + len(start))]
    return found


def test_table_3_1_is_the_thesis_table():
    pairs = re.findall(rf"({NUMBER}) ± ({NUMBER})", sections()["table 3.1"])
    expected = [tuple(map(float, pair)) for pair in pairs]
    assert len(expected) == 2 * len(paper.TABLE_3_1)
    for i, (model, _estimator, *values) in enumerate(paper.TABLE_3_1):
        assert tuple(values) == (*expected[2 * i], *expected[2 * i + 1]), model


def test_table_3_2_is_the_thesis_table():
    text = thesis_text()
    header, scores = text[text.index("Model\tReal data") :].splitlines()[:2]
    models = header.split("\t")[1:]
    pairs = re.findall(rf"\$({NUMBER})\s*\\pm\s*({NUMBER})\$", scores)
    assert [(m, float(a), float(b)) for m, (a, b) in zip(models, pairs, strict=True)] == (
        paper.TABLE_3_2
    )


def test_table_a1_is_the_thesis_table_read_as_the_design_brief_says():
    """The text's sub-table (C) runs on into (D) at its second 0.0 row (the (D) caption
    comes after its rows), and its second "0.05" row is 0.06 (the design brief's reading
    of the garbled table). Rows are "rate<TAB>bound" lines; sample glyphs are ignored."""
    panels, current = {}, None
    for line in sections()["table A.1"].splitlines():
        row = re.match(rf"({NUMBER})\t({NUMBER})\t?", line)
        if row is None:
            continue
        rate, value = map(float, row.groups())
        if rate == 0.0:  # every panel starts at rate 0
            current = panels.setdefault("abcd"[len(panels)], [])
        current.append((rate, value))
    c = panels["c"]
    assert [rate for rate, _ in c].count(0.05) == 2
    c[6] = (0.06, c[6][1])
    assert {panel: dict(rows) for panel, rows in panels.items()} == paper.TABLE_A1


def test_section_3_5_settings_are_the_thesis_s_and_the_settings_defaults():
    """Each setting of the published MNIST model, read from the thesis's sentences here, is
    ``published``'s and the default of the settings field that uses it."""
    from infusion.settings import EvalSettings, ModelSettings, ParzenSettings, SampleSettings

    text = " ".join(thesis_text().split())

    def number(pattern: str) -> float:
        (found,) = set(re.findall(pattern, text))
        return float(found.replace(" ", ""))

    read = {
        "STEPS": number(r"trained the network on (\d+) steps of denoising"),
        "OMEGA": number(r"infusion rate of 1%\(\$\\omega = ([\d.]+), \\alpha\^\{\(0\)\} = 0"),
        "ALPHA0": number(r"\\omega = 0\.01, \\alpha\^\{\(0\)\} = ([\d.]+)\$"),
        "HIDDEN": number(r"MLP composed of two fully connected layers with (\d+) units"),
        "BETA": number(r"scaled by a scalar β \(In our case we chose \$\\beta = ([\d.]+)\$"),
        "VARIANCE_EPS": number(r"\\epsilon = (1e - 4)\$ to avoid"),
        "PARZEN_SAMPLES": number(r"we use (\d+ \d+) generated samples"),
        "PARZEN_SIGMA": number(r"generated samples and \$\\sigma = ([\d.]+)\$"),
        "IS_CHAINS": number(r"we used (\d+ \d+) intermediates samples"),
    }
    defaults = {
        "STEPS": ModelSettings().steps, "OMEGA": ModelSettings().omega,
        "ALPHA0": ModelSettings().alpha0, "HIDDEN": ModelSettings().hidden,
        "BETA": ModelSettings().beta, "VARIANCE_EPS": ModelSettings().variance_eps,
        "PARZEN_SAMPLES": SampleSettings().samples, "PARZEN_SIGMA": ParzenSettings().sigma,
        "IS_CHAINS": EvalSettings().chains,
    }  # fmt: skip
    for name, value in read.items():
        assert getattr(paper, name) == pytest.approx(value), name
        assert defaults[name] == pytest.approx(value), name
    assert "two fully connected layers" in text and paper.LAYERS == ModelSettings().layers == 2
