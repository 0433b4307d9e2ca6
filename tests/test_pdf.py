"""The PDF edition: one LaTeX build per session, checked through its text (pdftotext).

The PDF is built with ``jupyter-book build --builder pdflatex`` into a copy of the session
build's folder (reusing its execution cache, so no notebook runs twice), then the HTML is
built again there to check that the site ships the PDF and every page links it.
Outside CI the tests skip, loudly, only when XeLaTeX, latexmk or pdftotext is missing; with
``CI`` set a missing tool fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
from conftest import CHAPTERS, ROOT, declared_figures, toc_chapters

MIN_PAGES = 100
TOOLS = ("xelatex", "latexmk", "pdftotext", "pdfinfo")


def _norm(text: str) -> str:
    """Letters and digits only, lower case: robust to line breaks, hyphenation and spacing."""
    text = text.replace("\ufb01", "fi").replace("\ufb02", "fl").replace("’", "'")
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _jb(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("jupyter-book")
    return subprocess.run([str(exe), "build", str(ROOT), *args, "-W", "-n", "--keep-going"],
                          capture_output=True, text=True, cwd=cwd)


def _fail_on(proc: subprocess.CompletedProcess, what: str) -> None:
    if proc.returncode != 0:
        log = proc.stdout + proc.stderr
        problems = [ln for ln in log.splitlines() if re.search(r"WARNING|ERROR|Error|^!", ln)]
        pytest.fail(f"{what} failed:\n" + "\n".join(problems[-40:] or log.splitlines()[-40:]))


class Pdf:
    def __init__(self, root: Path, seconds: float):
        self.root = root
        self.seconds = seconds
        self.path = root / "_build" / "latex" / "book.pdf"
        self.log = (root / "_build" / "latex" / "book.log").read_text(errors="replace")
        # reading order (not -layout), so that text drawn inside figures does not interleave
        self.text = subprocess.run(["pdftotext", str(self.path), "-"],
                                   capture_output=True, text=True, check=True).stdout
        info = subprocess.run(["pdfinfo", str(self.path)], capture_output=True, text=True,
                              check=True).stdout
        self.pages = int(re.search(r"^Pages:\s+(\d+)", info, flags=re.M).group(1))


@pytest.fixture(scope="session")
def pdf(book, tmp_path_factory) -> Pdf:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        message = f"PDF edition not tested: {', '.join(missing)} not installed (see .ci/run)"
        if os.environ.get("CI"):
            pytest.fail(message)
        print(f"\n*** SKIPPING PDF TESTS: {message} ***", file=sys.stderr)
        pytest.skip(message)
    out = tmp_path_factory.mktemp("pdf")
    cache = book.root / "_build" / ".jupyter_cache"
    if cache.is_dir():
        shutil.copytree(cache, out / "_build" / ".jupyter_cache")
    start = time.perf_counter()
    _fail_on(_jb("--path-output", str(out), "--builder", "pdflatex", cwd=ROOT), "PDF build")
    seconds = time.perf_counter() - start
    _fail_on(_jb("--path-output", str(out), cwd=ROOT), "HTML build after the PDF")
    return Pdf(out, seconds)


def test_pdf_page_count(pdf, record_property):
    record_property("kgbook_summary", f"PDF edition: {pdf.pages} pages, built in "
                                      f"{pdf.seconds:.0f} s")
    assert pdf.pages >= MIN_PAGES, f"PDF has {pdf.pages} pages, expected at least {MIN_PAGES}"


def test_no_unresolved_references(pdf):
    assert "??" not in pdf.text, "unresolved references ('??') in the PDF"
    assert "There were undefined references" not in pdf.log
    assert "Citation" not in re.findall(r"LaTeX Warning: (\w+)", pdf.log)


def test_no_figure_reprs(pdf):
    assert "<Figure size" not in pdf.text and "Figure size" not in pdf.text


@pytest.mark.parametrize("chapter", [c for c in toc_chapters() if declared_figures(c)])
def test_every_figure_caption_is_in_the_pdf(pdf, chapter):
    import jupytext

    # the text that follows each figure label ("Fig. 3.2: ...") in the PDF
    labelled = [_norm(part[:600]) for part in re.split(r"Fig\.\s?\d+\.\d+:", pdf.text)[1:]]
    notebook = jupytext.read(CHAPTERS / f"{chapter}.md", fmt="md:myst")
    captions = [cell.metadata["mystnb"]["figure"]["caption"] for cell in notebook.cells
                if "caption" in cell.metadata.get("mystnb", {}).get("figure", {})]
    assert len(captions) == len(declared_figures(chapter))
    # the caption's first sentence (a long caption may run around a float on its page)
    firsts = [_norm(re.split(r"(?<=[a-z)])\.\s", re.sub(r"\{[\w:]+\}`[^`]*`", "", c))[0])[:120]
              for c in captions]
    missing = [c for c, first in zip(captions, firsts)
               if not any(block.startswith(first) for block in labelled)]
    assert not missing, f"{chapter}: figure captions not found under a figure label: {missing}"


def _glue_text(value, spec: str) -> str:
    if isinstance(value, str):
        return value
    return format(value, spec) if spec else str(value)


@pytest.mark.parametrize("chapter", [c for c in toc_chapters()
                                     if (CHAPTERS / f"{c}.md").exists()
                                     and "{glue:text}" in (CHAPTERS / f"{c}.md").read_text()])
def test_glued_numbers_are_in_the_pdf(book, pdf, chapter):
    glued = book.glued(chapter)
    source = (CHAPTERS / f"{chapter}.md").read_text(encoding="utf-8")
    uses = re.findall(r"\{glue:text\}`([\w-]+)(?::([^`]*))?`", source)
    assert uses
    text = _norm(pdf.text)
    missing = [(key, _glue_text(glued[key], spec)) for key, spec in uses
               if _norm(_glue_text(glued[key], spec)) not in text]
    assert not missing, f"{chapter}: glued values missing from the PDF: {missing[:10]}"


def test_bibliography_is_in_the_pdf(pdf):
    from pybtex.database import parse_file

    bib = parse_file(str(ROOT / "references.bib"))
    cited = set()
    for chapter in toc_chapters():
        source = (CHAPTERS / f"{chapter}.md").read_text(encoding="utf-8")
        for keys in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", source):
            cited.update(k.strip() for k in keys.split(","))
    assert cited, "no citations found in the chapters"
    first_entry = re.search(r"^\[1\]", pdf.text, flags=re.M)  # the numbered bibliography
    assert first_entry, "no bibliography in the PDF"
    back = _norm(pdf.text[first_entry.start():])
    missing = [k for k in sorted(cited)
               if _norm(bib.entries[k].fields["title"].replace("{", "").replace("}", ""))[:50]
               not in back]
    assert not missing, f"cited works missing from the PDF bibliography: {missing}"


def test_html_links_the_pdf(pdf):
    html = pdf.root / "_build" / "html"
    shipped = html / "book.pdf"
    assert shipped.read_bytes() == pdf.path.read_bytes(), "the site's book.pdf is not the PDF"
    for page in [html / "chapters" / f"{c}.html" for c in toc_chapters()]:
        text = page.read_text(encoding="utf-8")
        hrefs = re.findall(r'<a class="kg-pdf-link" href="([^"]+)"', text)
        assert hrefs, f"{page.name}: no link to the PDF edition"
        for href in hrefs:
            target = urlparse(urljoin(page.as_uri(), href)).path
            assert Path(target) == shipped, f"{page.name}: PDF link {href} goes to {target}"
        assert "download-book-pdf-button" in text, f"{page.name}: PDF not in the download menu"


def test_pdf_title_page_shows_the_version(pdf):
    import tomllib

    with (ROOT / "pyproject.toml").open("rb") as fh:
        version = tomllib.load(fh)["project"]["version"]
    assert f"Release {version}" in pdf.text[:1000], "the PDF title page lacks the book version"
