"""The execution cache re-executes exactly the chapters whose inputs changed (kgbook.cache).

The build test works on a copy of the book in a temporary folder, seeded with the session
build's ``_build`` (no extra cold build): an unchanged rebuild executes no notebook and
leaves every file of the site as it was; after one data file is edited, exactly the chapters
whose receipt lists that file execute again, and their pages show the new file's SHA-256;
after a chapter's title is edited, the gallery (which the chapters' figures feed, outside
Sphinx's view) shows the new title and the sitemap still lists every page.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT

from kgbook import bench
from kgbook.cache import Checker, code_read, find_receipt

EDITED = "data/sse_events.csv"


def _receipts(build_root: Path) -> dict[str, dict]:
    out = {}
    for path in sorted((build_root / "_build" / "jupyter_execute" / "chapters").glob("*.ipynb")):
        receipt = find_receipt(nbformat.read(path, as_version=4))
        if receipt is not None:
            out[f"chapters/{path.stem}.md"] = receipt
    return out


@pytest.fixture(scope="module")
def book_copy(book, tmp_path_factory) -> Path:
    """The working tree and the session build, copied (the copy's kernels read its data)."""
    copy = tmp_path_factory.mktemp("cache") / "book"
    shutil.copytree(ROOT, copy, ignore=bench.COPY_IGNORE, symlinks=True)
    shutil.copytree(book.root / "_build", copy / "_build", symlinks=True)
    return copy


def _site(html: Path) -> dict[str, str]:
    return {p.relative_to(html).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(html.rglob("*")) if p.is_file()}


def test_every_executed_chapter_has_a_receipt(book):
    notebooks = sorted((book.executed / "chapters").glob("*.ipynb"))
    assert notebooks
    receipts = _receipts(book.root)
    missing = [p.stem for p in notebooks if f"chapters/{p.stem}.md" not in receipts]
    assert not missing, f"executed notebooks without kg.receipt() as last cell: {missing}"
    for chapter, receipt in receipts.items():
        assert receipt["files"], chapter
        assert "kgbook/data.py" in receipt["code"], chapter


def test_unchanged_rebuild_executes_nothing_and_data_edit_exactly_its_readers(book_copy):
    receipts = _receipts(book_copy)
    expected = sorted(ch for ch, r in receipts.items() if EDITED in r["files"])
    assert "chapters/sse.md" in expected
    assert len(expected) < len(receipts), "the edited table should not be read by every chapter"

    first = bench.build(book_copy)
    assert first["executed"] == 0, f"unchanged book re-executed {first['executed_notebooks']}"
    # The copy has no git history, so its pages lack the session build's dates: the first
    # build rewrote them. A second unchanged build must leave every file as it was.
    html = book_copy / "_build" / "html"
    site = _site(html)
    again = bench.build(book_copy)
    assert again["executed"] == 0
    now = _site(html)
    differ = sorted(k for k in site.keys() | now.keys() if site.get(k) != now.get(k))
    assert not differ, f"an unchanged rebuild changed {len(differ)} file(s): {differ[:8]}"

    path = book_copy / EDITED
    old = hashlib.sha256(path.read_bytes()).hexdigest()
    bench._edit_data(book_copy, 0)  # CRLF line ends: same values, new bytes
    new = hashlib.sha256(path.read_bytes()).hexdigest()
    assert new != old
    second = bench.build(book_copy)
    assert second["executed_notebooks"] == expected
    page = (book_copy / "_build" / "html" / "chapters" / "sse.html").read_text()
    assert new in page and old not in page, "the re-executed page still shows the old receipt"


def test_checker_reasons(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    table = data / "t.csv"
    table.write_text("a\n1\n")
    digest = hashlib.sha256(table.read_bytes()).hexdigest()
    code = code_read()
    assert "kgbook/data.py" in code and "kgbook/cache.py" not in code
    receipt = {"files": {"data/t.csv": digest}, "code": code, "versions": {}}
    checker = Checker(data_root=tmp_path)
    assert checker.reasons(receipt) == []
    assert checker.reasons(None) == ["the cached notebook has no receipt"]
    assert checker.reasons({"files": {"data/t.csv": digest}}) == ["the receipt lists no 'code'"]
    changed = dict(receipt, code=dict(code, **{"kgbook/data.py": "0" * 64}))
    assert checker.reasons(changed) == ["kgbook/data.py changed"]
    table.write_text("a\n2\n")
    assert Checker(data_root=tmp_path).reasons(receipt) == ["data/t.csv changed"]
    table.unlink()
    assert Checker(data_root=tmp_path).reasons(receipt) == ["data/t.csv is missing"]
    old_versions = dict(receipt, versions={"pandas": "0.0.1"})
    assert Checker(data_root=tmp_path).reasons(dict(old_versions, files={}))[0].startswith(
        "pandas 0.0.1 is now")


def test_title_edit_reaches_the_gallery_and_the_sitemap_stays_complete(book_copy):
    """The gallery page is written from the figure bundles and the chapters' titles; Sphinx
    does not know that, so kgbook.sphinx_figures has it rewritten when they change."""
    path = book_copy / "chapters" / "sse.md"
    text = path.read_text(encoding="utf-8")
    heading = next(line for line in text.split("\n") if line.startswith("# "))
    path.write_text(text.replace(heading, heading + " (edited by a test)", 1), encoding="utf-8")
    result = bench.build(book_copy)
    # (Pages that quote the chapters' text, such as How to cite, do run again.)
    assert "chapters/sse.md" not in result["executed_notebooks"], \
        "a heading edit should not re-execute the chapter"
    html = book_copy / "_build" / "html"
    gallery = (html / "chapters" / "gallery.html").read_text(encoding="utf-8")
    assert "(edited by a test)" in gallery, "the gallery still shows the old chapter title"
    sitemap = (html / "sitemap.xml").read_text(encoding="utf-8")
    pages = sorted(p.relative_to(book_copy).with_suffix(".html").as_posix()
                   for p in (book_copy / "chapters").glob("*.md"))
    listed = sorted(re.findall(r"<loc>[^<]*?(chapters/[^<]+)</loc>", sitemap))
    assert listed == pages
