"""The reference matter: the data appendix lists every table and every figure (with the cell
that makes it and its files), no file in figures/ is unaccounted for, and the introduction
lists every chapter."""

from __future__ import annotations

import html
import json
import re
import shutil

import pytest
from conftest import CHAPTERS, ROOT, declared_figures, toc_chapters

import kgbook.data
from kgbook import catalog
from kgbook.bundles import bundle_files


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_appendix_lists_every_figure_with_its_cell(book):
    page = book.page("data")
    section = page[page.index('id="figure-list"'):]
    listed = re.findall(r"<code[^>]*><span class=\"pre\">(fig-[a-z0-9-]+)</span></code>", section)
    declared = [fid for ch in toc_chapters() for fid in declared_figures(ch)]
    assert listed == declared, "the figure list must name every figure once, in book order"
    for fid in declared:  # each entry links to the figure in its chapter
        assert re.search(rf'href="[\w-]+\.html#{fid}"', section), fid
    text = _text(section)
    for fig in catalog.figure_cells():
        made_by = f"chapters/{fig['chapter']}.md , code cell {fig['cell']} of {fig['cells']}"
        assert made_by in text, made_by


def test_figure_cells_point_at_the_cell_that_saves_the_figure():
    import jupytext

    for fig in catalog.figure_cells():
        nb = jupytext.read(CHAPTERS / f"{fig['chapter']}.md")
        cell = [c for c in nb.cells if c.cell_type == "code"][fig["cell"] - 1]
        assert cell.metadata["mystnb"]["figure"]["name"] == fig["id"]
        assert f'"{fig["id"]}"' in cell.source, f"{fig['id']}: the cell does not save it"


def test_every_file_in_figures_belongs_to_a_listed_figure_whose_bundle_is_whole():
    groups = catalog.figure_files()
    assert groups[""] == [], f"files in figures/ with no figure in the book: {groups['']}"
    for fid, files in groups.items():
        if fid:
            expected = sorted(f"{fid}/{name}" for name in bundle_files(fid).values())
            assert files == expected, f"{fid}: files in figures/ are not its bundle"


def test_an_unlisted_figure_file_is_refused(tmp_path, monkeypatch):
    (tmp_path / "chapters").symlink_to(CHAPTERS)
    shutil.copy(ROOT / "_toc.yml", tmp_path / "_toc.yml")
    (tmp_path / "figures").mkdir()
    first = catalog.figure_cells()[0]["id"]
    (tmp_path / "figures" / f"{first}.png").write_bytes(b"png")
    (tmp_path / "figures" / f"{first}-old.png").write_bytes(b"stale")  # not a listed id
    monkeypatch.setattr(kgbook.data, "ROOT", tmp_path)
    with pytest.raises(ValueError, match=f"{first}-old.png"):
        catalog.figure_list()


@pytest.mark.parametrize("name,owner", [
    ("fig-context-gdp-trend.png", "fig-context-gdp-trend"),
    ("fig-context-gdp-trend/fig-context-gdp-trend.ru.slide.png", "fig-context-gdp-trend"),
    ("fig-context-gdp-per-capita.svg", "fig-context-gdp-per-capita"),
    ("fig-context-gdp-trendy.png", None),
    ("notes.txt", None),
])
def test_figure_owner(name, owner):
    ids = ["fig-context-gdp-trend", "fig-context-gdp-per-capita", "fig-context-gdp"]
    assert catalog.figure_owner(name, ids) == owner


def test_appendix_states_availability_and_requirements(book):
    text = _text(book.page("data"))
    resources = json.loads((ROOT / "data" / "datapackage.json").read_text())["resources"]
    assert f"All {len(resources)} tables used in the book are public" in text
    pins = [ln for ln in (ROOT / "requirements.txt").read_text().splitlines() if "==" in ln]
    assert f"{len(pins)} Python packages pinned" in text
    for heading in ("Data availability and provenance", "Computational requirements",
                    "Instructions to replicators"):
        assert heading in text


def test_introduction_lists_every_chapter(book):
    page = book.page("intro")
    section = page[page.index('id="intro-chapters"'):]
    for chapter in toc_chapters():
        if chapter != "intro":
            assert f'href="{chapter}.html"' in section, f"the introduction omits {chapter}"
