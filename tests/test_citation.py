"""Citation and licences: CITATION.cff is valid CFF 1.2 and agrees with the book; the licence
files are there; the "How to cite" page is generated from them; every page shows its version
and last-updated date and offers the chapter as .ipynb and .md."""

from __future__ import annotations

import copy
import datetime as dt
import html
import json
import re
import subprocess
import tomllib
from pathlib import Path

import jsonschema
import nbformat
import pytest
import yaml
from conftest import CHAPTERS, FIGURES, ROOT, declared_figures, toc_chapters

SCHEMA = Path(__file__).with_name("schemas") / "cff-1.2.0.schema.json"


def _cff() -> dict:
    with (ROOT / "CITATION.cff").open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    # YAML turns dates into date objects; CFF (and its JSON schema) wants strings
    return json.loads(json.dumps(data, default=lambda v: v.isoformat()
                                 if isinstance(v, dt.date) else str(v)))


def _validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["$id"] == "https://citation-file-format.github.io/1.2.0/schema.json"
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


def _version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)["project"]["version"]


def _config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def test_citation_cff_is_valid_cff_1_2():
    errors = sorted(_validator().iter_errors(_cff()), key=lambda e: list(e.path))
    assert not errors, "CITATION.cff is not valid CFF 1.2:\n" + "\n".join(
        f"  {'/'.join(map(str, e.path)) or '(top)'}: {e.message}" for e in errors)


@pytest.mark.parametrize("breakage", ["no authors", "bad licence", "bad cff-version",
                                      "unknown key"])
def test_validator_rejects_broken_citation_files(breakage):
    broken = copy.deepcopy(_cff())
    if breakage == "no authors":
        del broken["authors"]
    elif breakage == "bad licence":
        broken["license"] = "CC-BY-4"
    elif breakage == "bad cff-version":
        broken["cff-version"] = "1.2"
    else:
        broken["autors"] = broken["authors"]
    assert list(_validator().iter_errors(broken)), f"validator accepted: {breakage}"


def test_citation_agrees_with_the_book():
    cff, config = _cff(), _config()
    assert str(cff["version"]) == _version(), "CITATION.cff version != pyproject.toml version"
    pref = cff["preferred-citation"]
    assert str(pref["version"]) == _version()
    assert cff["title"] == pref["title"] == config["title"]
    assert [a.get("name") for a in cff["authors"]] == [config["author"]]
    assert str(pref["year"]) == str(config["copyright"])
    assert set(cff["license"]) == {"MIT", "CC-BY-4.0"}


def test_licence_files():
    mit = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert mit.startswith("MIT License") and "Permission is hereby granted" in mit
    cc = (ROOT / "LICENSES" / "CC-BY-4.0.txt").read_text(encoding="utf-8")
    assert cc.startswith("Creative Commons Attribution 4.0 International")
    for heading in ("Section 1 – Definitions", "Section 3 – License Conditions",
                    "Section 8 – Interpretation"):
        assert heading in cc, f"CC BY 4.0 legal code incomplete: no '{heading}'"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["license"] == {"text": "MIT"}


def _text(page: str) -> str:
    """Visible text, whitespace collapsed, entities decoded, curly apostrophes straightened."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).replace("’", "'").split())


def test_how_to_cite_page(book):
    from kgbook.citation import apa_book, chapter_title
    from kgbook.data import package

    page = book.page("how-to-cite")
    text = _text(page)
    assert _version() in text
    assert _text(apa_book().replace("*", "")) in text
    flat = html.unescape(re.sub(r"<[^>]+>", "", page))  # highlighted code, tags removed
    assert "@book{kgbook," in flat and "@inbook{" in flat
    # the example figure is cited exactly as its bundle (and its download block) cite it
    first = next(f for c in toc_chapters() for f in declared_figures(c))
    meta = json.loads((FIGURES / first / f"{first}.json").read_text(encoding="utf-8"))
    assert _text(meta["citation"]["text"]) in text
    assert meta["citation"]["bibtex"].split("\n")[0] in flat
    for chapter in toc_chapters():
        if (CHAPTERS / f"{chapter}.md").read_text().count("kg.receipt()"):
            assert chapter_title(chapter) in text
    # every table's licence, as the data package states it
    for res in package()["resources"]:
        assert res["path"] in text, f"how-to-cite: {res['path']} not listed"
        for lic in res["licenses"]:
            assert lic["name"] in text
            if lic.get("path", "").startswith("http"):
                assert f'href="{lic["path"]}"' in page


def _git_date(path: Path) -> str | None:
    out = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%cs", "--", str(path)],
                         capture_output=True, text=True).stdout.strip()
    if not out:
        out = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%cs"],
                             capture_output=True, text=True).stdout.strip()
    return out or None


@pytest.mark.parametrize("chapter", toc_chapters())
def test_page_shows_version_and_last_updated(book, chapter):
    page = book.page(chapter)
    assert f'<span class="kg-version">{_version()}</span>' in page
    match = re.search(r"Last updated on ([^.<]+)\.", page)
    assert match, f"{chapter}: no last-updated date"
    expected = _git_date(CHAPTERS / f"{chapter}.md")
    if expected:  # the commit date of the page's last change, not the build time
        assert match.group(1).strip() == dt.date.fromisoformat(expected).strftime("%-d %B %Y")


@pytest.mark.parametrize("chapter", toc_chapters())
def test_chapter_downloads(book, chapter):
    """Notebook chapters offer .ipynb (made from the MyST source) and .md downloads."""
    import jupytext

    source = CHAPTERS / f"{chapter}.md"
    page = book.page(chapter)
    assert f'href="../_sources/chapters/{chapter}.md"' in page
    assert (book.html / "_sources" / "chapters" / f"{chapter}.md").read_bytes() == \
        source.read_bytes()
    if "kernelspec:" not in source.read_text(encoding="utf-8")[:1000]:
        return
    assert f'href="../_sources/chapters/{chapter}.ipynb"' in page
    nb = nbformat.read(book.html / "_sources" / "chapters" / f"{chapter}.ipynb", as_version=4)
    nbformat.validate(nb)
    expected = jupytext.read(source, fmt="md:myst")
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code and code == [c.source for c in expected.cells if c.cell_type == "code"]
    assert all(not c.outputs for c in nb.cells if c.cell_type == "code")
    assert nb.metadata["kernelspec"]["language"] == "python"
