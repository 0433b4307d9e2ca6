"""Sphinx extension: an offline, accessible HTML book.

Fixes what the theme stack (Jupyter Book 1, sphinx-book-theme, pydata-sphinx-theme, docutils)
gets wrong, each checked by ``tests/test_browser.py`` (axe-core WCAG 2.1 AA, no request to
another host, no console error):

* The sidebar logo link sits outside any landmark (axe ``region``): the theme's
  ``navbar-logo.html`` is wrapped in a ``<nav aria-label="Book home">``.
* docutils marks bibliography entries ``role="doc-biblioentry"``, a deprecated ARIA role that
  leaves the ``role="list"`` around them without list items (axe ``aria-deprecated-role`` and
  the critical ``aria-required-children``): entries become ``role="listitem"``.
* Empty header cells (the corner cell of a table with a named index) have no accessible name
  (axe ``empty-table-header``): they become ordinary data cells.
* sphinx-thebe injects its inline script twice on every page even when live code is off
  (``SyntaxError: Identifier 'THEBE_JS_URL' has already been declared``) and would fetch thebe
  from unpkg.com: with ``launch_buttons.thebe`` false, its scripts and style are dropped.
* Any script or style sheet that would load from another host (MathJax's CDN default, for
  one) is removed and reported as a warning, so a strict build (``-W``) fails instead of
  publishing a page that is broken offline. The book has no mathematics, so MathJax is not
  vendored; a page that needs it must first bundle it under ``_static``.
* Jupyter Book copies two Jinja macro files into ``_static`` as ``.html`` pages
  (``webpack-macros.html``, ``sbt-webpack-macros.html``): unrendered templates with broken
  links. They are deleted from the built site.
* The root ``index.html`` redirect has no language, title or link (axe ``html-has-lang``,
  ``document-title``): it is rewritten as a small valid page that still redirects; a fuller
  redirect page written by another extension gets its body put in a ``<main>`` landmark with
  a level-one heading.
* MyST writes ``&amp;`` for ``&`` in the address of a Markdown link (a broken link to
  ``...?lang=ES&amp;id=71``): the extra escape is undone.
* Figures keep a plain white background in dark mode (``kgbook-a11y.css``), so the dark text
  drawn on them keeps its contrast.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent / "_a11y"
CSS_FILE = "kgbook-a11y.css"
MACRO_PAGES = ("webpack-macros.html", "sbt-webpack-macros.html")

_EMPTY_TH = re.compile(r"<th(\s[^>]*)?>(\s|&nbsp;|&#160;)*</th>")
_THEBE_CONFIG = re.compile(r'<script type="text/x-thebe-config">.*?</script>\s*', re.S)
_EXTERNAL = re.compile(r"^(https?:)?//", re.I)


def _config_inited(app: Sphinx, config) -> None:
    config.templates_path = [*config.templates_path, str(HERE / "templates")]
    config.html_static_path = [*config.html_static_path, str(HERE / "static")]


def _asset_name(asset) -> str:
    return str(getattr(asset, "filename", asset) or "")


def _is_thebe(asset) -> bool:
    attrs = getattr(asset, "attributes", {}) or {}
    body = str(attrs.get("body", ""))
    return ("thebe" in _asset_name(asset).lower() or "THEBE_JS_URL" in body
            or "thebe" in str(attrs.get("type", "")))


def _thebe_on(app: Sphinx) -> bool:
    launch = app.config.html_theme_options.get("launch_buttons", {}) or {}
    return bool(launch.get("thebe")) or bool(getattr(app.config, "use_thebe", False))


def fix_body(body: str) -> str:
    """Accessibility fixes on a page body (HTML string)."""
    body = body.replace('role="doc-biblioentry"', 'role="listitem"')
    return _EMPTY_TH.sub(lambda m: f"<td{m.group(1) or ''}></td>", body)


def _fix_ampersands(app: Sphinx, doctree, docname: str) -> None:
    """MyST (myst-parser 3.0) escapes ``&`` in a Markdown link's address once too often: the
    page links to ``...?a=1&amp;b=2`` literally, a broken address. Undo the extra escape."""
    for node in doctree.findall(nodes.reference):
        uri = node.get("refuri")
        if uri and "&amp;" in uri:
            node["refuri"] = uri.replace("&amp;", "&")


def _page_context(app: Sphinx, pagename: str, templatename: str, context: dict,
                  doctree) -> None:
    if app.builder.format != "html":
        return
    for key in ("script_files", "css_files"):
        assets = context.get(key)
        if not assets:
            continue
        kept = []
        for asset in assets:
            if not _thebe_on(app) and _is_thebe(asset):
                continue
            name = _asset_name(asset)
            if _EXTERNAL.match(name):
                logger.warning("%s would load %s from another host; removed (bundle it "
                               "under _static instead: the book must work offline)",
                               pagename, name, type="kgbook", subtype="offline",
                               location=pagename)
                continue
            kept.append(asset)
        context[key] = kept
    if context.get("body"):
        body = fix_body(context["body"])
        if not _thebe_on(app):
            body = _THEBE_CONFIG.sub("", body)
        context["body"] = body


REDIRECT_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<meta http-equiv="Refresh" content="0; url={url}">
<meta name="viewport" content="width=device-width, initial-scale=1">
</head>
<body>
<main>
<h1>{title}</h1>
<p><a href="{url}">Open the book</a>.</p>
</main>
</body>
</html>
"""


def landmark_body(page: str, title: str) -> str:
    """A small page (a redirect written by another extension) with its body in a ``<main>``
    landmark that starts with a level-one heading (axe: region, landmark-one-main,
    page-has-heading-one)."""
    m = re.search(r"(<body[^>]*>)(.*?)(</body>)", page, flags=re.S)
    if not m:
        return page
    inner = m.group(2)
    if "<h1" not in inner:
        inner = f"\n<h1>{title}</h1>{inner}"
    return page[: m.start()] + f"{m.group(1)}\n<main>{inner}</main>\n{m.group(3)}" + \
        page[m.end():]


def _build_finished(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    for name in MACRO_PAGES:
        (out / "_static" / name).unlink(missing_ok=True)
    index = out / "index.html"
    if index.exists():
        text = index.read_text(encoding="utf-8")
        m = re.fullmatch(r'\s*<meta http-equiv="Refresh" content="0; url=([^"]+)"\s*/>\s*',
                         text)
        title = html.escape(str(app.config.html_title or app.config.project))
        if m:
            index.write_text(REDIRECT_PAGE.format(title=title, url=html.escape(m.group(1))),
                             encoding="utf-8")
        elif 'http-equiv="Refresh"' in text and "<main" not in text:
            index.write_text(landmark_body(text, title), encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _config_inited)
    app.connect("doctree-resolved", _fix_ampersands)
    app.add_css_file(CSS_FILE)
    # after sphinx-thebe, MathJax and the themes added their assets (500), before
    # kgbook.sphinx_assets bundles them (900)
    app.connect("html-page-context", _page_context, priority=850)
    # after sphinx-external-toc, Jupyter Book and kgbook.dist (400) wrote index.html
    app.connect("build-finished", _build_finished, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
