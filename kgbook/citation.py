"""How to cite the book: references made from CITATION.cff, pyproject.toml and the data package.

The book version has one source of truth, ``version`` in ``pyproject.toml``; CITATION.cff
repeats it (a test checks they agree). Chapter titles and figure captions are read from the
chapters themselves, and the data terms from ``data/datapackage.json``.
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import yaml

from .data import ROOT, package

CHAPTERS = ROOT / "chapters"


class CitationError(ValueError):
    """CITATION.cff or the table of contents does not say what the page needs."""


def book_version(root: Path = ROOT) -> str:
    """The book version: ``project.version`` in pyproject.toml (installed metadata as fallback)."""
    pyproject = root / "pyproject.toml"
    if pyproject.exists():
        with pyproject.open("rb") as fh:
            return tomllib.load(fh)["project"]["version"]
    return metadata.version("kgbook")


def citation_file(root: Path = ROOT) -> dict:
    """CITATION.cff as a dict (dates kept as text)."""
    path = root / "CITATION.cff"
    with path.open(encoding="utf-8") as fh:
        cff = yaml.safe_load(fh)
    for key in ("title", "authors", "version", "preferred-citation"):
        if key not in cff:
            raise CitationError(f"{path}: missing key '{key}'")
    return cff


def _apa_authors(authors: list[dict]) -> str:
    names = _names(authors)
    return names if names.endswith(".") else names + "."


def _names(authors: list[dict]) -> str:
    names = []
    for person in authors:
        if "name" in person:  # an entity
            names.append(person["name"])
        else:
            initials = " ".join(f"{p[0]}." for p in person.get("given-names", "").split())
            names.append(f"{person['family-names']}, {initials}".strip(", "))
    if len(names) > 1:
        return ", ".join(names[:-1]) + ", & " + names[-1]
    return names[0]


def _bib_names(authors: list[dict]) -> str:
    out = []
    for person in authors:
        if "name" in person:
            out.append("{" + person["name"] + "}")
        else:
            out.append(f"{person['family-names']}, {person.get('given-names', '')}".strip(", "))
    return " and ".join(out)


def _bib_title(title: str) -> str:
    """Braced so that BibTeX styles keep the capitals of proper nouns as written."""
    return "{" + title + "}"


@lru_cache(maxsize=1)
def _book() -> dict:
    cff = citation_file()
    pref = cff["preferred-citation"]
    version = book_version()
    if str(cff["version"]) != version:
        raise CitationError(f"CITATION.cff: version {cff['version']} differs from "
                            f"pyproject.toml version {version}")
    return {"title": pref.get("title", cff["title"]), "authors": pref["authors"],
            "year": str(pref["year"]), "version": version}


def toc_chapters() -> list[str]:
    """Chapter names listed in _toc.yml under the 'Chapters' part, in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    for part in toc.get("parts", []):
        if part.get("caption") == "Chapters":
            return [Path(c["file"]).name for c in part["chapters"]]
    raise CitationError("_toc.yml: no part with caption 'Chapters'")


def chapter_title(name: str) -> str:
    """The first level-one heading of a chapter's Markdown cells."""
    import jupytext

    notebook = jupytext.read(CHAPTERS / f"{name}.md", fmt="md:myst")
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^# (.+)$", cell.source, flags=re.M)
            if match:
                return match.group(1).strip()
    raise CitationError(f"chapters/{name}.md: no level-one heading")


# --- References --------------------------------------------------------------------------

def apa_book() -> str:
    b = _book()
    return f"{_apa_authors(b['authors'])} ({b['year']}). *{b['title']}* (Version {b['version']})."


def bibtex_book(key: str = "kgbook") -> str:
    b = _book()
    return "\n".join([
        f"@book{{{key},",
        f"  author  = {{{_bib_names(b['authors'])}}},",
        f"  title   = {{{_bib_title(b['title'])}}},",
        f"  year    = {{{b['year']}}},",
        f"  version = {{{b['version']}}},",
        f"  note    = {{Version {b['version']}. Open data book}},",
        "}",
    ])


def apa_chapter(name: str) -> str:
    b = _book()
    return (f"{_apa_authors(b['authors'])} ({b['year']}). {chapter_title(name)}. In *{b['title']}* "
            f"(Version {b['version']}).")


def bibtex_chapter(name: str) -> str:
    b = _book()
    return "\n".join([
        f"@inbook{{kgbook-{name},",
        f"  author    = {{{_bib_names(b['authors'])}}},",
        f"  title     = {{{_bib_title(chapter_title(name))}}},",
        f"  booktitle = {{{_bib_title(b['title'])}}},",
        f"  year      = {{{b['year']}}},",
        f"  version   = {{{b['version']}}},",
        f"  note      = {{Version {b['version']}, chapter file chapters/{name}.md}},",
        "}",
    ])


# --- Page sections (Markdown) ------------------------------------------------------------

def _fence(text: str, lang: str = "bibtex") -> str:
    return f"```{lang}\n{text}\n```"


def book_section() -> str:
    return "\n\n".join([apa_book(), "BibTeX:", _fence(bibtex_book())])


def chapter_section() -> str:
    rows = [f"- {apa_chapter(name)}" for name in toc_chapters()]
    first = toc_chapters()[0]
    return "\n\n".join(["\n".join(rows),
                        f"BibTeX, for example for `chapters/{first}.md`:",
                        _fence(bibtex_chapter(first))])


def example_figure() -> str:
    """The first figure of the first chapter, in table-of-contents order, that has one."""
    from .bundles import declared_figures

    declared = declared_figures()
    for name in toc_chapters():
        for figure_id, figure in declared.items():
            if figure["chapter"] == name:
                return figure_id
    raise CitationError("no chapter declares a figure")


def figure_metadata_path(figure_id: str) -> Path:
    """The metadata file of a figure's bundle in the book's ``figures/`` folder."""
    from .bundles import bundle_files
    from .data import ROOT as BOOK_ROOT

    return BOOK_ROOT / "figures" / figure_id / bundle_files(figure_id)["json"]


def figure_section() -> str:
    """The citation of one figure, exactly as its bundle's metadata (and the download block
    under the figure) give it: one citation per figure, made in :mod:`kgbook.bundles`."""
    import json

    figure_id = example_figure()
    path = figure_metadata_path(figure_id)
    if not path.is_file():
        raise CitationError(f"{path}: no metadata for {figure_id}; run 'make figures'")
    cite = json.loads(path.read_text(encoding="utf-8"))["citation"]
    return "\n\n".join([
        f"For example, the figure `{figure_id}` ({{numref}}`{figure_id}`):",
        cite["text"], "BibTeX:", _fence(cite["bibtex"].rstrip())])


def version_text() -> str:
    return book_version()


def data_terms_table() -> str:
    """One row per distinct licence statement in the data package, with its tables."""
    import pandas as pd

    from .book import markdown_table

    groups: dict[tuple[str, str, str], list[str]] = {}
    for res in package()["resources"]:
        if not res.get("licenses"):
            raise CitationError(f"data/datapackage.json: table '{res['name']}' has no licenses")
        for lic in res["licenses"]:
            key = (lic["name"], lic.get("title", lic["name"]), lic.get("path", ""))
            groups.setdefault(key, []).append(f"`{res['path']}`")
    rows = [{"terms": f"[{title}]({path})" if path.startswith("http") else title,
             "id": name, "tables": ", ".join(tables)}
            for (name, title, path), tables in groups.items()]
    return markdown_table(pd.DataFrame(rows), columns={
        "terms": "Terms", "id": "Licence identifier", "tables": "Tables"})
