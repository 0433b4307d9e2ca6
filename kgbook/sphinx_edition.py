"""Sphinx extension for the book's edition details: version, dates and downloads.

On every HTML page it

- sets the footer's "Last updated" date to the git commit date of the last commit that
  changed the page's source file (so the date is the same for every build of one commit);
  untracked files take the date of ``HEAD``; outside a git checkout ``SOURCE_DATE_EPOCH``
  is used if set, else the date is left out;
- shows the book version (``version`` in ``pyproject.toml``, the single source of truth)
  in the footer, and sets Sphinx's ``version``/``release`` to it and ``today`` to the date of
  the ``HEAD`` commit (the PDF title page shows both);
- writes a ``.ipynb`` made from the page's MyST source with jupytext into ``_sources/`` and
  lets the theme's download menu link it (no outputs: the reader runs it);
- links the PDF edition when one has been built (``_build/latex/book.pdf`` next to the HTML
  output): the PDF is copied into the site as ``book.pdf``, linked from the download menu
  and the footer. When the PDF appears or disappears, every page is rewritten; when a
  page's date changes, that page is.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import subprocess
from functools import lru_cache
from html import escape
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

from .citation import book_version

LOGGER = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[1]
PDF_NAME = "book.pdf"


@lru_cache(maxsize=256)
def _git_date(root: str, path: str | None) -> str | None:
    """ISO date (YYYY-MM-DD) of the last commit touching ``path`` (or HEAD), None if unknown."""
    args = ["git", "-C", root, "log", "-1", "--format=%cs"]
    if path is not None:
        args += ["--", path]
    try:
        out = subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return out or None


def last_updated(source: Path | None, root: Path = ROOT) -> str | None:
    """The date shown as "Last updated" for a page whose source is ``source``."""
    date = None
    if source is not None:
        date = _git_date(str(root), str(source))
    date = date or _git_date(str(root), None)
    if date is None and os.environ.get("SOURCE_DATE_EPOCH"):
        stamp = int(os.environ["SOURCE_DATE_EPOCH"])
        date = _dt.datetime.fromtimestamp(stamp, _dt.UTC).strftime("%Y-%m-%d")
    if date is None:
        return None
    return _dt.date.fromisoformat(date).strftime("%-d %B %Y")


def _pdf_source(app: Sphinx) -> Path:
    """Where ``jupyter-book build --builder pdflatex`` leaves the PDF for this output folder."""
    return Path(app.outdir).parent / "latex" / PDF_NAME


def _is_myst_notebook(path: Path) -> bool:
    if path.suffix != ".md" or not path.exists():
        return False
    head = path.read_text(encoding="utf-8")[:2000]
    return head.startswith("---") and "jupytext:" in head and "kernelspec:" in head


def write_notebook(source: Path, target: Path) -> None:
    """Convert a MyST Markdown notebook to ``.ipynb`` (jupytext); rewrite only on change."""
    from .notebooks import to_ipynb

    text = to_ipynb(source)
    if target.exists() and target.read_text(encoding="utf-8") == text:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


# --- Sphinx hooks -----------------------------------------------------------------------

def _config_inited(app: Sphinx, config) -> None:
    version = book_version()
    config.version = version
    config.release = version
    # the PDF title page's date: the commit's date, not the build's (same PDF for one commit)
    if not config.today:
        config.today = last_updated(None) or ""


def _env_get_updated(app: Sphinx, env) -> list[str]:
    """Pages to rewrite (not re-read) because their footer would change.

    Every page when the PDF edition appears or disappears (the link changes); a page whose
    "Last updated" date changed (a commit touched its source after it was built)."""
    if app.builder.format != "html":
        return []
    present = _pdf_source(app).exists()
    before = getattr(env, "kgbook_pdf_present", None)
    env.kgbook_pdf_present = present
    if before is not None and before != present:
        return sorted(env.found_docs)
    dates = {doc: last_updated(Path(env.doc2path(doc))) for doc in env.found_docs}
    old = getattr(env, "kgbook_page_dates", {})
    env.kgbook_page_dates = dates
    return sorted(doc for doc, date in dates.items() if old.get(doc) != date)


def _page_context(app: Sphinx, pagename: str, templatename: str, context: dict,
                  doctree) -> None:
    if app.builder.format != "html":
        return
    source = None
    if pagename in app.env.found_docs:
        source = Path(app.env.doc2path(pagename))
        if _is_myst_notebook(source):
            write_notebook(source, Path(app.outdir) / "_sources" / f"{pagename}.ipynb")
            # sphinx-book-theme's download menu links _sources/<ipynb_source>
            context["ipynb_source"] = f"{pagename}.ipynb"
    date = last_updated(source)
    if date:
        context["last_updated"] = date
    version = app.config.version
    pieces = [f'Book version <span class="kg-version">{escape(version)}</span>.']
    if _pdf_source(app).exists():
        href = context["pathto"](PDF_NAME, 1)
        pieces.append(f'<a class="kg-pdf-link" href="{escape(href)}">PDF edition</a>.')
    cite = context["pathto"]("chapters/how-to-cite") if "chapters/how-to-cite" in \
        app.env.found_docs else None
    if cite:
        pieces.append(f'<a href="{escape(cite)}">How to cite</a>.')
    extra = context.get("theme_extra_footer") or ""
    context["theme_extra_footer"] = f'<p class="kg-edition">{" ".join(pieces)}</p>{extra}'


def _download_menu(app: Sphinx, pagename: str, templatename: str, context: dict,
                   doctree) -> None:
    """Add the whole-book PDF to the theme's download menu (runs after the theme fills it)."""
    if app.builder.format != "html" or not _pdf_source(app).exists():
        return
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            group["buttons"].append({
                "type": "link",
                "url": context["pathto"](PDF_NAME, 1),
                "text": "Book (PDF)",
                "tooltip": "Download the whole book as PDF",
                "icon": "fas fa-book",
                "label": "download-book-pdf-button",
            })


def _build_finished(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    pdf = _pdf_source(app)
    target = Path(app.outdir) / PDF_NAME
    if pdf.exists():
        shutil.copy2(pdf, target)
    elif target.exists():
        target.unlink()


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _config_inited)
    app.connect("env-get-updated", _env_get_updated)
    app.connect("html-page-context", _page_context, priority=400)
    app.connect("html-page-context", _download_menu, priority=600)
    app.connect("build-finished", _build_finished)
    return {"version": book_version(), "parallel_read_safe": True,
            "parallel_write_safe": True}
