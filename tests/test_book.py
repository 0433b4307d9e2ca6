"""End to end: the strict clean build passes and the HTML shows what the chapters declare."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from conftest import FIGURES, ROOT, declared_figures, toc_chapters

_TOC = (ROOT / "_toc.yml").read_text()
# the chapters proper: the "Chapters" part of the table of contents (not intro or reference)
NARRATIVE_CHAPTERS = re.findall(r"file:\s*chapters/([\w-]+)",
                                _TOC.split("caption: Chapters", 1)[1].split("caption:", 1)[0])


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[dict] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "img":
            self.images.append(attrs)


def _parse(html: str) -> _Images:
    p = _Images()
    p.feed(html)
    return p


def test_strict_build_succeeds(book):
    assert (book.html / "index.html").exists()
    for chapter in toc_chapters():
        assert (book.html / "chapters" / f"{chapter}.html").exists(), chapter


@pytest.mark.parametrize("chapter", NARRATIVE_CHAPTERS)
def test_chapter_pattern(book, chapter):
    html = book.page(chapter)
    text = re.sub(r"<[^>]+>", " ", html)
    assert "Key findings" in text
    assert "Data notes and limitations" in text
    figures = declared_figures(chapter)
    tables = html.count("<table")
    assert figures, f"{chapter} declares no figure"
    assert len(figures) + tables >= 3, f"{chapter}: {len(figures)} figures, {tables} tables"
    assert text.count("Observations.") >= len(figures)
    assert not re.search(r"\bTODO\b|lorem ipsum|\?\?", text, flags=re.I)


@pytest.mark.parametrize("chapter", NARRATIVE_CHAPTERS)
def test_every_figure_is_in_the_page_with_alt_text_and_files(book, chapter):
    html = book.page(chapter)
    parsed = _parse(html)
    for fig_id in declared_figures(chapter):
        assert fig_id in parsed.ids, f"{fig_id} has no anchor in {chapter}.html"
        block = html[html.index(f'id="{fig_id}"'):]
        block = block[: block.index("</figure>")]
        img = _parse(block).images
        assert len(img) == 1, f"{fig_id}: expected one image, found {len(img)}"
        alt = img[0].get("alt", "")
        assert len(alt.split()) >= 8, f"{fig_id}: alt text too short: {alt!r}"
        assert "fig-" not in alt and not alt.endswith(".png")
        assert re.search(r"figcaption|caption-text", block), f"{fig_id} has no caption"
        for ext in ("en.png", "en.svg", "en.pdf", "ru.png", "ru.svg", "ru.pdf"):
            path = FIGURES / fig_id / f"{fig_id}.{ext}"
            assert path.exists() and path.stat().st_size > 1000, path
        assert f'href="#{fig_id}"' in html, f"{fig_id} is never cross-referenced"


def test_figures_folder_has_no_orphans():
    """figures/ holds one folder per declared figure, and nothing else."""
    declared = {f for c in toc_chapters() for f in declared_figures(c)}
    on_disk = {p.name for p in FIGURES.iterdir()}
    assert all((FIGURES / p).is_dir() for p in on_disk), "files loose in figures/"
    assert on_disk == declared, f"orphans: {on_disk - declared}; missing: {declared - on_disk}"
    strays = [p.relative_to(FIGURES).as_posix() for p in FIGURES.rglob("*")
              if p.is_file() and not p.name.startswith(p.parent.name + ".")]
    assert not strays, f"files not named after their figure id: {strays}"


def test_figure_export_is_byte_identical(book, figures_before_build):
    """Rebuilding the book rewrites every figure file with the same bytes."""
    after = {p.relative_to(FIGURES).as_posix(): p.read_bytes()
             for p in sorted(FIGURES.rglob("*")) if p.is_file()}
    assert after.keys() == figures_before_build.keys()
    changed = [n for n in after if after[n] != figures_before_build[n]]
    assert not changed, f"figure files changed on rebuild: {changed}"


def test_citations_resolve_to_one_bibliography(book):
    """Every chapter cites; the one bibliography lists exactly the keys cited, once each."""
    cited = set()
    for chapter in toc_chapters():
        source = (ROOT / "chapters" / f"{chapter}.md").read_text(encoding="utf-8")
        keys = {k.strip() for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", source)
                for k in group.split(",")}
        if chapter in NARRATIVE_CHAPTERS:
            assert keys, f"{chapter} cites nothing"
            assert "references.html#id" in book.page(chapter), f"{chapter}: no citation link"
        cited |= keys
    refs = (book.html / "chapters" / "references.html").read_text(encoding="utf-8")
    # docutils' role="doc-biblioentry" is rewritten to "listitem" by kgbook.sphinx_a11y
    entries = set(re.findall(r'class="citation" id="([^"]+)"[^>]*role="listitem"', refs))
    assert len(entries) >= len(cited) > 0
    linked = {target for page in book.html.rglob("*.html")
              for target in re.findall(r'references\.html#([\w-]+)"', page.read_text())}
    assert linked <= entries, f"citation links to missing entries: {linked - entries}"
    assert entries <= linked, f"bibliography entries nobody cites: {entries - linked}"
    others = [p.name for p in (book.html / "chapters").glob("*.html")
              if p.name != "references.html" and 'class="citation"' in p.read_text()]
    assert not others, f"bibliographies outside the references page: {others}"


def test_data_page_lists_every_table(book):
    import json

    html = book.page("data")
    for res in json.loads((ROOT / "data" / "datapackage.json").read_text())["resources"]:
        assert res["path"] in html, res["path"]
        assert f'id="data-{res["name"].replace("_", "-")}"' in html, res["name"]
