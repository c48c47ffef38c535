"""The report's front page (infusion.paper.front_page, written by the scorecard artifact):
its sections in order (status, claims, verdicts, numbers), the status from the study's
scale and tables, the numbers table holding only the rows the run produced under short
labels, and the page rendered as Snakemake's report renders it."""

from __future__ import annotations

import re

import docutils.core
import pandas as pd
from test_tables import CONFIG, write_study
from test_verdicts import PAPER_SETTINGS, SUMMARY, write_tables

from infusion.paper import claims as C
from infusion.paper.front_page import LABEL_WIDTH
from infusion.paper.scorecard import SCORECARD_COLUMNS, VERDICT_COLUMNS, scorecard


def front_page(folder, with_3_2=False, verdicts=True, claims=True, changes=None):
    """The scorecard and its page on test_verdicts' hand-built tables, for its study with
    ``changes`` (dotted config keys)."""
    paths = write_tables(folder, with_3_2)
    values = SUMMARY | PAPER_SETTINGS | {"verdicts.enabled": verdicts} | (changes or {})
    overlay = write_study(folder, values)
    if claims:
        C.claims(CONFIG, paths["a1"], paths["f34"], folder / "claims.csv", configfile=[overlay])
    card = scorecard(
        CONFIG, paths["a1"], paths["t31"], paths["f34"], folder / "card.csv",
        folder / "card.rst", configfile=[overlay],
        table_3_2=paths.get("t32"), claims=folder / "claims.csv" if claims else None,
    )  # fmt: skip
    return card, (folder / "card.rst").read_text()


def sections(page: str) -> dict[str, str]:
    """Each section's title -> its text, in the page's order."""
    parts = re.split(r"^(\S[^\n]*)\n-+\n", page, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def table_rows(text: str) -> list[list[str]]:
    """The rows of the first list-table of ``text``, header first, as their cells."""
    rows = []
    for line in text.splitlines():
        if line.startswith("   * - "):
            rows.append([line.removeprefix("   * - ")])
        elif line.startswith("     - "):
            rows[-1].append(line.removeprefix("     - "))
    return rows


def test_the_page_opens_on_the_status_then_the_claims_the_verdicts_and_the_numbers(tmp_path):
    _, page = front_page(tmp_path)
    assert list(sections(page)) == ["Status", "Claims", "Verdicts", "Numbers"]
    status = sections(page)["Status"]
    settings = {row[0]: row[1:] for row in table_rows(status)}
    # SUMMARY's, and the authors' code's (the paper is silent)
    assert settings["Epochs"] == ["1,500", "up to 1,500 (the authors' code)"]
    assert settings["Hidden units"] == ["1,200", "1,200"]
    assert settings["Batch size"] == ["512", "512 (the authors' code)"]
    assert settings["Grid points"][0] == "5" and settings["IS chains"] == ["20,000", "20,000"]
    assert settings["Parzen samples"] == ["10,000", "10,000"]
    assert settings["Training seeds"][0] == "3"  # the most seeds of the tables' rows
    assert settings["Natural images"][0] == "not run"
    assert "The *hand* study" in status
    # by hand from the tables: (a) 0.3 and the paper's 30 other points (OTHER_POINTS) not run
    # of Table A.1's 35 paper numbers; the isotropic estimate on test and train of Table
    # 3.1's 6; no Table 3.2; Fig 3.4 ran
    assert "no run here: Table A.1 31 of 35, Table 3.1 2 of 6, Table 3.2 2 of 2." in status
    changes = {"data.cifar10.enabled": True, "data.celeba.enabled": True,
               "report.notes": ["first note", "second note"]}  # fmt: skip
    _, page = front_page(tmp_path, with_3_2=True, changes=changes)
    status = sections(page)["Status"]
    assert {row[0]: row[1] for row in table_rows(status)}["Natural images"] == "cifar10, celeba"
    assert "no run here: Table A.1 31 of 35, Table 3.1 2 of 6." in status
    assert status.rstrip().endswith("- first note\n- second note")


def test_the_claims_table_has_one_line_per_claim_with_its_verdict(tmp_path):
    _, page = front_page(tmp_path)
    claims = pd.read_csv(tmp_path / "claims.csv", keep_default_na=False)
    header, *rows = table_rows(sections(page)["Claims"])
    assert header == ["Claim", "Verdict", "Ours"]
    assert [row[0].split("**")[1] for row in rows] == list(claims.id)
    # the verdict, and for a claim decided, the noise it was decided against
    assert [row[1].split(" (against: ")[0] for row in rows] == list(claims.verdict)
    for row, noise in zip(rows, claims.noise, strict=True):
        assert (f" (against: {noise})" in row[1]) == bool(noise)
    counts = claims.verdict.map(lambda v: v.split(" (")[0]).value_counts()
    tally = ", ".join(f"{counts.get(v, 0)} {v}" for v in ("holds", "fails", "undecided", "not run"))
    assert tally in sections(page)["Claims"]
    _, page = front_page(tmp_path, claims=False)
    assert list(sections(page)) == ["Status", "Verdicts", "Numbers"]


def test_the_numbers_are_the_rows_the_run_produced_under_short_labels(tmp_path):
    card, page = front_page(tmp_path)
    header, *rows = table_rows(sections(page)["Numbers"])
    assert header == ["Quantity", "Paper", "Ours", "Difference", "Verdict"]
    ran = card[card.ours.notna()]
    assert len(rows) == len(ran) < len(card)  # the rows not run stay in the CSV only
    assert [row[2] for row in rows] == [f"{value:.2f}" for value in ran.ours]
    labels = [row[0] for row in rows]
    assert len(set(labels)) == len(labels)
    assert max(map(len, labels)) <= LABEL_WIDTH
    assert labels[:2] == ["A.1 (a) T=1 α0=0", "A.1 (a) T=1 α0=0.2"]
    assert labels[-5:] == ["3.1 IS test", "3.1 bound test", "3.1 IS train", "3.1 bound train",
                           "3.4 Parzen"]  # fmt: skip
    assert "not run at this scale" not in "\n".join(map(str, rows))
    # the CSV keeps its columns and every row, run or not
    written = pd.read_csv(tmp_path / "card.csv")
    assert list(written.columns) == SCORECARD_COLUMNS + VERDICT_COLUMNS
    assert list(written.quantity) == list(card.quantity)
    assert written.ours.isna().sum() == len(card) - len(ran) > 0
    # Table 3.2's rows, when scored
    card, page = front_page(tmp_path, with_3_2=True)
    labels = [row[0] for row in table_rows(sections(page)["Numbers"])[1:]]
    assert labels[-2:] == ["3.2 real data", "3.2 ours"]


def test_without_verdicts_the_numbers_have_no_verdict_and_the_page_no_verdicts(tmp_path):
    card, page = front_page(tmp_path, verdicts=False)
    assert list(sections(page)) == ["Status", "Claims", "Numbers"]
    header, *rows = table_rows(sections(page)["Numbers"])
    assert header == ["Quantity", "Paper", "Ours", "Difference"]
    assert len(rows) == len(card) and list(card.columns) == SCORECARD_COLUMNS


def test_the_page_renders_as_the_report_renders_it_and_links_the_verdicts_figure(tmp_path):
    """Snakemake's report appends a link target per result, named by its file name."""
    _, page = front_page(tmp_path)
    assert "`verdicts.png`_" in sections(page)["Verdicts"]
    assert "results/figures/beyond/verdicts.png" in sections(page)["Verdicts"]  # rule verdicts'
    target = "\n\n.. _verdicts.png: javascript:app.showResultInfo('verdicts.png')\n"
    html = docutils.core.publish_parts(
        page + target, writer="html", settings_overrides={"halt_level": 2}
    )["html_body"]
    assert "javascript:app.showResultInfo(&#x27;verdicts.png&#x27;)" in html or (
        "javascript:app.showResultInfo('verdicts.png')" in html
    )
    assert html.count("<table") == 3  # status, claims, numbers: no setting differs
    assert "<strong>infusion-beats-rate-0</strong>" in html


def test_the_settings_that_differ_are_one_table_shown_once(tmp_path):
    """Each setting that differs from those of the paper's numbers, once: this run's value,
    the paper text's and the authors' code's (— where one is silent), and whether it sets
    the scale; none of the page's other sections repeats them."""
    changes = {"dataset": "mnist5k", "training.epochs": 30, "model.layers": 2}
    _, page = front_page(tmp_path, changes=changes)
    verdicts = sections(page)["Verdicts"]
    header, *rows = table_rows(verdicts.split("differ from those that made")[1])
    assert header == ["Setting", "This run", "The paper", "The authors' code", "Sets the scale"]
    assert rows == [
        ["dataset", "mnist5k", "mnist", "—", "yes"],
        ["training.epochs", "30", "—", "1,500", "yes"],
        ["model.layers", "2", "2", "1", "no"],
    ]
    assert page.count("training.epochs = 30") == 0  # no list of settings per table
    assert page.count("- The authors' code") == 1
