"""Sphinx extension: a "Download / cite this figure" block under every figure, and the gallery.

* Under each figure whose id starts with ``fig-`` (and which has a bundle in ``figures/``),
  a compact, collapsed block links to the PNG, SVG, PDF and slide PNG in English and Russian,
  the CSV and the metadata JSON, and shows the suggested citation. A figure without a bundle
  is a build warning (an error under ``-W``).
* The directive ``{figure-gallery}`` (page ``chapters/gallery.md``) lists every figure from
  the metadata files: a small lazy-loaded thumbnail, title, chapter, downloads and citation.
* After an HTML build the bundles are copied to ``<html>/figures/<id>/``, so every link works
  offline and on the published site.
"""

from __future__ import annotations

import filecmp
import hashlib
import html
import json
import posixpath
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from .bundles import bundle_files, chapters_in_toc, figures_dir, png_size

logger = logging.getLogger(__name__)
GALLERY_DOC = "chapters/gallery"
STATIC = Path(__file__).resolve().parent / "static"
LANG_NAMES = {"en": ("English", None), "ru": ("Russian", "Русский")}
FILE_LABELS = [("png", "PNG", "300 dpi"), ("svg", "SVG", "vector"), ("pdf", "PDF", "vector"),
               ("slide", "Slide", "PNG, 1920×1080")]


class gallery_node(nodes.General, nodes.Element):
    """Placeholder replaced by the gallery once every chapter has written its bundles."""


class FigureGallery(SphinxDirective):
    has_content = False

    def run(self):
        return [gallery_node()]


def _meta(figure_id: str) -> dict | None:
    path = figures_dir() / figure_id / f"{figure_id}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _all_meta() -> list[dict]:
    folder = figures_dir()
    out = []
    for d in sorted(p for p in folder.iterdir() if p.is_dir()) if folder.exists() else []:
        m = _meta(d.name)
        if m:
            out.append(m)
    return out


def _href(builder, docname: str, figure_id: str, name: str) -> str:
    page = builder.get_target_uri(docname)
    return posixpath.relpath(f"figures/{figure_id}/{name}", posixpath.dirname(page) or ".")


def _links(builder, docname: str, meta: dict) -> str:
    fid, esc = meta["id"], html.escape
    rows = []
    for lang, (english, native) in LANG_NAMES.items():
        items = []
        for key, label, detail in FILE_LABELS:
            href = _href(builder, docname, fid, meta["files"][lang][key])
            items.append(f'<a href="{esc(href)}" download hreflang="{lang}">{label}'
                         f'<span class="visually-hidden"> of the figure in {english}</span></a>'
                         f' <span class="kg-fig-detail">({detail})</span>')
        name = english if native is None else f'{english} (<span lang="{lang}">{native}</span>)'
        rows.append(f"<li><span class=\"kg-fig-lang\">{name}:</span> " + " · ".join(items)
                    + "</li>")
    data = [(meta["files"]["data"], "Data", "CSV"), (meta["files"]["metadata"], "Metadata",
                                                      "JSON, with BibTeX")]
    items = [f'<a href="{esc(_href(builder, docname, fid, f))}" download>{label}</a> '
             f'<span class="kg-fig-detail">({detail})</span>' for f, label, detail in data]
    rows.append('<li><span class="kg-fig-lang">Data and citation:</span> '
                + " · ".join(items) + "</li>")
    return '<ul class="kg-fig-files">' + "".join(rows) + "</ul>"


def _citation(meta: dict, base: str = "") -> str:
    """The suggested citation; with the build's site address when the bundle has none."""
    text = meta["citation"]["text"]
    if base and not meta["html"]["url"]:
        path = meta["html"]["path"]
        text = text.replace(f" {path}.", f" {base.rstrip('/')}/{path}.")
    return ('<p class="kg-fig-cite"><span class="kg-fig-lang">Cite as:</span> '
            + html.escape(text) + "</p>")


def download_block(builder, docname: str, meta: dict) -> str:
    title = html.escape(meta["title"]["en"])
    return ('<details class="kg-fig-dl">'
            f'<summary>Download / cite this figure<span class="visually-hidden">: {title}'
            '</span></summary>' + _links(builder, docname, meta)
            + _citation(meta, builder.config.html_baseurl)
            + "</details>")


def gallery_html(builder, docname: str, env) -> str:
    esc = html.escape
    metas = _all_meta()
    by_chapter: dict[str, list[dict]] = {}
    for m in metas:
        by_chapter.setdefault(m["chapter"], []).append(m)
    toc_order = chapters_in_toc()
    parts = []
    for chapter in sorted(by_chapter, key=lambda c: (toc_order.index(c)
                                                      if c in toc_order else 99, c)):
        doc = f"chapters/{chapter}"
        title = env.titles[doc].astext() if doc in env.titles else chapter
        page = posixpath.relpath(builder.get_target_uri(doc),
                                 posixpath.dirname(builder.get_target_uri(docname)) or ".")
        cards = []
        for m in by_chapter[chapter]:
            fid = m["id"]
            thumb = _href(builder, docname, fid, m["files"]["thumbnail"])
            with (figures_dir() / fid / m["files"]["thumbnail"]).open("rb") as fh:
                w, h = png_size(fh.read(24))
            cards.append(
                f'<li class="kg-gallery-item" id="gallery-{esc(fid)}">'
                f'<a class="kg-gallery-thumb" href="{esc(page)}#{esc(fid)}" tabindex="-1" '
                f'aria-hidden="true"><img src="{esc(thumb)}" alt="" width="{w}" '
                f'height="{h}" loading="lazy" decoding="async"></a>'
                f'<div class="kg-gallery-text"><p class="kg-gallery-title">'
                f'<a href="{esc(page)}#{esc(fid)}">{esc(m["title"]["en"])}</a><br>'
                f'<span lang="ru">{esc(m["title"]["ru"])}</span></p>'
                f'<p class="kg-fig-detail"><code>{esc(fid)}</code> · {esc(title)}</p>'
                + _links(builder, docname, m) + _citation(m, builder.config.html_baseurl)
                + "</div></li>")
        parts.append(f'<h2 id="gallery-{esc(chapter)}">{esc(title)}</h2>'
                     f'<ul class="kg-gallery">{"".join(cards)}</ul>')
    return "".join(parts)


def on_doctree_resolved(app, doctree, docname):
    is_html = app.builder.format == "html"
    for fig in list(doctree.findall(nodes.figure)):
        ids = [i for i in fig.get("ids", []) if i.startswith("fig-")]
        if not ids:
            continue
        meta = _meta(ids[0])
        if meta is None:
            logger.warning(f"figure {ids[0]} has no bundle in {figures_dir()}: run "
                           "'make figures'", location=fig)
            continue
        missing = [n for n in bundle_files(ids[0]).values()
                   if not (figures_dir() / ids[0] / n).exists()]
        if missing:
            logger.warning(f"figure {ids[0]}: bundle incomplete, missing {missing}",
                           location=fig)
        if is_html:
            block = nodes.raw("", download_block(app.builder, docname, meta), format="html")
            fig.parent.insert(fig.parent.index(fig) + 1, block)
    for node in list(doctree.findall(gallery_node)):
        if is_html:
            node.replace_self(nodes.raw("", gallery_html(app.builder, docname, app.env),
                                        format="html"))
        else:
            items = nodes.bullet_list()
            for m in _all_meta():
                para = nodes.paragraph(text=f"{m['title']['en']} ({m['id']}). "
                                            f"{m['citation']['text']}")
                items += nodes.list_item("", para)
            node.replace_self(items)


def _digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8") if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


def figure_signatures(env) -> dict[str, str]:
    """For every page whose HTML shows figure bundles, a digest of what it shows of them.

    A chapter page shows the download/cite block of its own figures (from their metadata);
    the gallery shows every figure's metadata and thumbnail, and the chapters' titles. The
    blocks are made when a page is written, from files the chapters write when they run, so
    Sphinx cannot see when they change."""
    folder = figures_dir()
    per_doc: dict[str, list[bytes]] = {}
    gallery: list[bytes | str] = []
    for d in sorted(p for p in folder.iterdir() if p.is_dir()) if folder.exists() else []:
        meta_path = d / f"{d.name}.json"
        if not meta_path.is_file():
            continue
        raw = meta_path.read_bytes()
        meta = json.loads(raw)
        per_doc.setdefault(f"chapters/{meta['chapter']}", []).append(raw)
        thumb = d / meta["files"]["thumbnail"]
        gallery += [raw, thumb.read_bytes() if thumb.is_file() else b"missing"]
    sigs = {doc: _digest(*parts) for doc, parts in per_doc.items() if doc in env.found_docs}
    if GALLERY_DOC in env.found_docs:
        toc = chapters_in_toc()
        titles = [f"{c}={env.titles[f'chapters/{c}'].astext()}" for c in toc
                  if f"chapters/{c}" in env.titles]
        sigs[GALLERY_DOC] = _digest(*gallery, *titles)
    return sigs


def on_env_get_updated(app, env) -> list[str]:
    """Rewrite (not re-read) the pages whose figure blocks or gallery would now differ."""
    if app.builder.format != "html":
        return []
    sigs = figure_signatures(env)
    before = getattr(env, "kgbook_figure_signatures", {})
    env.kgbook_figure_signatures = sigs
    return sorted(doc for doc, sig in sigs.items() if before.get(doc) != sig)


def on_builder_inited(app):
    if app.builder.format == "html":
        app.config.html_static_path.append(str(STATIC))
        app.add_css_file("kgbook-figures.css")


def on_build_finished(app, exception):
    """Mirror the bundles into the site: copy what is new or changed, remove the rest."""
    if exception is not None or app.builder.format != "html":
        return
    src, dest = figures_dir(), Path(app.outdir) / "figures"
    wanted = set()
    for meta in _all_meta():
        fid = meta["id"]
        for name in bundle_files(fid).values():
            source, target = src / fid / name, dest / fid / name
            if not source.exists():
                continue
            wanted.add(target)
            if target.is_file() and filecmp.cmp(source, target, shallow=True):
                continue  # same size and modification time: copied by an earlier build
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    if dest.exists():
        for path in sorted(dest.rglob("*"), reverse=True):
            if path.is_file() and path not in wanted:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()


def _skip(self, node):
    raise nodes.SkipNode


def setup(app):
    skip = (_skip, None)
    app.add_node(gallery_node, html=skip, latex=skip, text=skip, man=skip, texinfo=skip)
    app.add_directive("figure-gallery", FigureGallery)
    app.connect("builder-inited", on_builder_inited)
    app.connect("env-get-updated", on_env_get_updated)
    app.connect("doctree-resolved", on_doctree_resolved)
    app.connect("build-finished", on_build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
