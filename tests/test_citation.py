"""CITATION.cff has CFF 1.2.0's required keys, cites the paper first, and names the licence
that LICENSE and pyproject name."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def test_citation_file_cites_the_software_and_prefers_the_paper():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert cff["cff-version"] == "1.2.0"
    assert {"message", "title", "authors"} <= set(cff) and cff["type"] == "software"
    assert all("name" in a or "family-names" in a for a in cff["authors"])
    assert str(cff["version"]) == project["version"]
    assert cff["license"] == project["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")
    # The paper, as pyproject's description names it: 'title' (authors, ICLR year)
    title, authors, year = re.search(
        r"'(.+)' \((.+), ICLR (\d{4})\)", project["description"]
    ).groups()
    paper = cff["preferred-citation"]
    assert paper["type"] == "conference-paper" and paper["title"] == title
    assert [a["family-names"] for a in paper["authors"]] == authors.split(", ")
    assert all(a["given-names"] for a in paper["authors"]) and paper["year"] == int(year)
    assert "ICLR" in paper["conference"]["name"]
