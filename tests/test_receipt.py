"""The reproducibility receipt at the end of each executable chapter tells the truth.

For every chapter that calls ``kg.receipt()``, the SHA-256 digests shown in the built HTML
page must be the digests of the files in ``data/`` now, the receipt must name the commit, the
software versions and the execution time, and every table the chapter loads must appear in it.
"""

from __future__ import annotations

import hashlib
import re

import pytest
from conftest import CHAPTERS, ROOT, toc_chapters

RECEIPT_CHAPTERS = [c for c in toc_chapters()
                    if "kg.receipt()" in (CHAPTERS / f"{c}.md").read_text(encoding="utf-8")]
ROW = re.compile(r"<tr[^>]*>\s*<td><p><code[^>]*><span class=\"pre\">([^<]+)</span></code></p></td>"
                 r"\s*<td><p><code[^>]*><span class=\"pre\">([0-9a-f]{64})</span></code></p></td>")


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def receipt_html(page: str) -> str:
    """The HTML of the receipt dropdown on a chapter page."""
    match = re.search(r'<details class="[^"]*kg-receipt[^"]*">(.*?)</details>', page, flags=re.S)
    assert match, "no reproducibility receipt (details.kg-receipt) on the page"
    return match.group(1)


def test_executable_chapters_have_receipts():
    loaders = [c for c in toc_chapters()
               if "load_table(" in (CHAPTERS / f"{c}.md").read_text(encoding="utf-8")]
    assert len(RECEIPT_CHAPTERS) >= 6
    assert set(loaders) <= set(RECEIPT_CHAPTERS), "chapters that read tables without a receipt"


def receipt_errors(box: str) -> list[str]:
    """What is wrong with the files listed in a receipt: outside data/, missing, wrong hash."""
    errors = []
    for path, digest in ROW.findall(box):
        file = ROOT / path
        if not path.startswith("data/"):
            errors.append(f"a file outside data/: {path}")
        elif not file.is_file():
            errors.append(f"{path}, which does not exist")
        elif digest != _sha256(file):
            errors.append(f"a hash for {path} that is not the file's")
    return errors


@pytest.mark.parametrize("chapter", RECEIPT_CHAPTERS)
def test_receipt_hashes_match_data_files(book, chapter):
    box = receipt_html(book.page(chapter))
    assert "Reproducibility receipt" in box
    shown = dict(ROW.findall(box))
    assert shown, f"{chapter}: the receipt lists no files"
    assert not receipt_errors(box), f"{chapter}: the receipt lists {receipt_errors(box)}"
    text = " ".join(re.sub(r"<[^>]+>", " ", box).split())
    assert re.search(r"Executed \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC in [\d.]+ s at commit "
                     r"([0-9a-f]{40}|not run from a git checkout)", text), text[:300]
    assert re.search(r"Software: Python \d+\.\d+\.\d+, jupyter-book [\w.]+", text), text[:300]
    # every table the chapter names in load_table(...) is in the receipt
    source = (CHAPTERS / f"{chapter}.md").read_text(encoding="utf-8")
    from kgbook.data import resource
    for name in set(re.findall(r"load_table\(\s*[\"'](\w+)[\"']", source)):
        assert f"data/{resource(name)['path']}" in shown, f"{chapter}: {name} not in receipt"


def test_receipt_check_catches_a_wrong_hash(book):
    """The check above reports a receipt that shows another file's digest for a table."""
    chapter = RECEIPT_CHAPTERS[0]
    box = receipt_html(book.page(chapter))
    rows = ROW.findall(box)
    path, digest = rows[0]
    other = next(p for p in sorted((ROOT / "data").glob("*.csv"))
                 if p.relative_to(ROOT).as_posix() != path)
    tampered = box.replace(digest, _sha256(other))
    assert receipt_errors(tampered) == [f"a hash for {path} that is not the file's"]
