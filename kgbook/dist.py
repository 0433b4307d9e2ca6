"""Publish the book: a deployable site, versioned archives and their checksums.

This module has two roles.

1. A Sphinx extension (listed under ``sphinx: extra_extensions`` in ``_config.yml``). It fixes
   the one absolute address the site needs (for ``sitemap.xml``, the canonical links, the
   Open Graph cards and the 404 page), adds ``404.html``, writes ``sitemap.xml`` (every
   page of the book, whether or not this build rewrote it, so an incremental build publishes
   a complete sitemap), ``robots.txt`` and an ``index.html`` that carries the first page's
   card. The address is
   ``html.baseurl`` in ``_config.yml`` unless the environment variable ``KGBOOK_BASE_URL``
   is set; the Pages workflow sets it to the address GitHub Pages reports. With neither, the
   address is the local one that ``make serve`` uses, ``http://127.0.0.1:8000/``.

2. ``python -m kgbook.dist`` (what ``make dist`` runs). From a finished build it writes::

       dist/site/                          the deployable site (no logs, reports, maps)
       dist/<name>-<version>.zip           the site as one archive
       dist/<name>-<version>.pdf           the PDF, when one was built (make pdf)
       dist/<name>-<version>-notebooks.zip the chapters as notebooks, with data/ and kgbook/
       dist/*.sha256                       one checksum file per archive (sha256sum -c)

   and then checks the result: no forbidden files, the required files present, every
   internal link resolving to a file in the site, every checksum matching.

The archives are byte-reproducible: entries sorted, fixed timestamps and permissions.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import os
import posixpath
import re
import shutil
import sys
import zipfile
from dataclasses import dataclass, field
from html import escape as html_escape
from html.parser import HTMLParser
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

ROOT = Path(__file__).resolve().parents[1]
BASE_URL_ENV = "KGBOOK_BASE_URL"
LOCAL_BASE_URL = "http://127.0.0.1:8000/"
SITE_EXTRA = ROOT / "site" / "extra"

# What the site must hold, and what it must never hold.
REQUIRED_FILES = ("index.html", "404.html", "sitemap.xml", "robots.txt", "favicon.ico",
                  "favicon.svg", ".nojekyll")
FORBIDDEN_NAMES = {".buildinfo", "output.txt", "output.json", ".DS_Store"}
FORBIDDEN_SUFFIXES = (".map", ".pickle", ".doctree", ".log", ".pyc")
FORBIDDEN_DIRS = {".doctrees", "reports", "jupyter_execute", ".jupyter_cache", "__pycache__",
                  ".ipynb_checkpoints"}
# Copied by the theme but referenced by no page: translations used at build time only, and
# Jinja templates of the theme's asset tags.
UNUSED = ("_static/locales/*", "_static/*webpack-macros.html")

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_SOURCE_MAP = re.compile(rb"\n?(//# sourceMappingURL=\S+|/\*# sourceMappingURL=[^*]+\*/)\s*$")


# --------------------------------------------------------------------------------------------
# The site address, and the Sphinx extension
# --------------------------------------------------------------------------------------------

def base_url(configured: str | None = None) -> str:
    """The site's absolute address, ending in ``/``: KGBOOK_BASE_URL, else ``configured``."""
    url = os.environ.get(BASE_URL_ENV, "").strip() or (configured or "").strip() or LOCAL_BASE_URL
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        source = BASE_URL_ENV if os.environ.get(BASE_URL_ENV, "").strip() else "html.baseurl"
        raise ValueError(f"{source} must be an absolute http(s) address such as "
                         f"https://example.org/book/, not {url!r}")
    return url if url.endswith("/") else url + "/"


def _config_inited(app, config) -> None:
    url = base_url(config.html_baseurl)
    config.html_baseurl = url
    config.ogp_site_url = url
    if not config.ogp_site_name:
        config.ogp_site_name = config.html_title or config.project


def _collect_404(app):
    """Add 404.html, a page of the book's own design.

    GitHub Pages serves it for any missing address, at any depth, so ``make dist`` turns its
    links into absolute paths under the site address (``absolute_links``). In the build it
    keeps relative links, like every other page at the root.
    """
    if app.builder.embedded or "404" in app.env.titles:
        return []
    body = ("<h1>Page not found</h1>\n"
            "<p>There is no page at this address. It may have moved when the book was "
            "reorganised.</p>\n"
            f'<p>Start again from the <a href="{app.config.root_doc}.html">introduction</a>, '
            "or use the search box.</p>\n")
    return [("404", {"title": "Page not found", "body": body}, "page.html")]


_LINK_ATTR = re.compile(r'(\s(?:href|src|action|data-content_root)=")([^"]*)(")')


def absolute_links(page: str, prefix: str) -> str:
    """Rewrite the relative links of a page at the site root as absolute paths under ``prefix``.

    Links to fragments, absolute paths and other sites are left alone.
    """
    def fix(m: re.Match) -> str:
        value = m.group(2)
        if not value or value.startswith(("#", "/")) or re.match(r"[a-z][a-z0-9+.-]*:", value):
            return m.group(0)
        value = value[2:] if value.startswith("./") else value
        return m.group(1) + prefix + value + m.group(3)

    return _LINK_ATTR.sub(fix, page)


def robots_txt(url: str) -> str:
    return f"User-agent: *\nAllow: /\n\nSitemap: {url}sitemap.xml\n"


_SHARE_META = re.compile(r'<meta (?:property="og:[^"]+"|name="(?:description|twitter:[^"]+)")'
                         r'[^>]*>')


def landing_page(url: str, root_doc: str, title: str, root_html: str) -> str:
    """The site's index.html: a redirect to the first page that still carries the card.

    Shared links to the bare site address then show the same preview as the first page.
    """
    meta = []
    for tag in _SHARE_META.findall(root_html):
        if 'property="og:url"' in tag:
            tag = f'<meta property="og:url" content="{html_escape(url)}" />'
        meta.append(tag)
    target = f"{root_doc}.html"
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8" />',
        f"<title>{html_escape(title)}</title>",
        f'<meta http-equiv="Refresh" content="0; url={target}" />',
        f'<link rel="canonical" href="{html_escape(url + target)}" />',
        '<link rel="icon" href="favicon.svg" type="image/svg+xml" />',
        *meta, "</head>", "<body>",
        f'<p>The book starts at <a href="{target}">{html_escape(title)}</a>.</p>',
        "</body>", "</html>", ""])


def _build_finished(app, exc) -> None:
    if exc is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    url = app.config.html_baseurl
    (out / "robots.txt").write_text(robots_txt(url), encoding="utf-8")
    (out / ".nojekyll").write_text("", encoding="utf-8")
    _write_sitemap(app)
    root_doc = app.config.root_doc
    root_html = out / f"{root_doc}.html"
    if root_doc != "index" and root_html.is_file():
        page = landing_page(url, root_doc, app.config.html_title or app.config.project,
                            root_html.read_text(encoding="utf-8"))
        (out / "index.html").write_text(page, encoding="utf-8")


def sitemap_xml(url: str, pages: list[str]) -> str:
    """A sitemap (sitemaps.org 0.9) of ``pages`` (paths relative to the site) under ``url``."""
    entries = "".join(f"<url><loc>{html_escape(url + page)}</loc></url>" for page in pages)
    return ("<?xml version='1.0' encoding='utf-8'?>\n"
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>\n')


def _write_sitemap(app) -> None:
    """Every page of the book, from the environment: pages this build did not rewrite count.

    (sphinx-sitemap lists only the pages written in the current run, so an incremental build
    had to rewrite every page to keep its sitemap complete.)"""
    pages = sorted(app.builder.get_target_uri(doc) for doc in app.env.found_docs)
    text = sitemap_xml(app.config.html_baseurl, pages)
    path = Path(app.outdir) / "sitemap.xml"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def setup(app):
    app.connect("html-collect-pages", _collect_404)
    app.connect("config-inited", _config_inited, priority=900)
    # Before sphinx-external-toc, which writes a bare redirect only when index.html is missing.
    app.connect("build-finished", _build_finished, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


# --------------------------------------------------------------------------------------------
# Deterministic archives and checksums
# --------------------------------------------------------------------------------------------

def write_zip(entries: dict[str, bytes | Path], dest: Path) -> Path:
    """Write a zip whose bytes depend only on the entries: sorted, fixed dates and modes."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w") as zf:
        for name in sorted(entries):
            data = entries[name]
            if isinstance(data, Path):
                data = data.read_bytes()
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            zf.writestr(info, data, compresslevel=9)
    return dest


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_checksum(path: Path) -> Path:
    """Write ``<file>.sha256`` in the format ``sha256sum -c`` reads."""
    out = path.with_name(path.name + ".sha256")
    out.write_text(f"{sha256_file(path)}  {path.name}\n", encoding="ascii")
    return out


def verify_checksums(dist: Path) -> list[str]:
    """Problems with the ``*.sha256`` files in ``dist`` (empty when every one matches)."""
    problems = []
    sums = sorted(dist.glob("*.sha256"))
    if not sums:
        problems.append(f"{dist}: no .sha256 files")
    for s in sums:
        for n, line in enumerate(s.read_text(encoding="ascii").splitlines(), 1):
            m = re.fullmatch(r"([0-9a-f]{64})  (\S+)", line)
            if not m:
                problems.append(f"{s.name}:{n}: not a sha256sum line: {line!r}")
                continue
            target = dist / m.group(2)
            if not target.is_file():
                problems.append(f"{s.name}:{n}: {m.group(2)} is missing")
            elif sha256_file(target) != m.group(1):
                problems.append(f"{s.name}:{n}: checksum of {m.group(2)} does not match")
    return problems


# --------------------------------------------------------------------------------------------
# The deployable site
# --------------------------------------------------------------------------------------------

def forbidden(rel: str) -> str | None:
    """Why a site path (posix, relative) must not be published, or None."""
    parts = rel.split("/")
    if parts[-1] in FORBIDDEN_NAMES:
        return "build output"
    if parts[-1].endswith(FORBIDDEN_SUFFIXES):
        return "source map, log or build cache"
    if FORBIDDEN_DIRS.intersection(parts[:-1]):
        return "execution report or build cache"
    return None


def copy_site(html: Path, dest: Path, url: str) -> list[str]:
    """Copy the built HTML to ``dest`` without forbidden or unused files; return what was left.

    ``404.html`` gets absolute links under the site address ``url`` (see ``_collect_404``).
    """
    if not (html / "index.html").is_file():
        raise FileNotFoundError(f"{html}: no index.html; build the book first (make book)")
    left_out = []
    for src in sorted(p for p in html.rglob("*") if p.is_file()):
        rel = src.relative_to(html).as_posix()
        if forbidden(rel) or any(fnmatch.fnmatchcase(rel, pattern) for pattern in UNUSED):
            left_out.append(rel)
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        data = src.read_bytes()
        if src.suffix in (".js", ".css"):
            # The maps are not published, so drop the comments that point browsers at them.
            data = _SOURCE_MAP.sub(b"\n", data)
        if rel == "404.html":
            data = absolute_links(data.decode("utf-8"), urlsplit(url).path).encode("utf-8")
        target.write_bytes(data)
    return left_out


class _Links(HTMLParser):
    """Collect every address a page refers to (href, src, srcset, meta refresh, og:url...)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("href", "src", "poster", "data", "action"):
            if a.get(key):
                self.links.append(a[key])
        if a.get("srcset"):
            self.links += [c.strip().split()[0] for c in a["srcset"].split(",") if c.strip()]
        if tag == "meta":
            if (a.get("http-equiv") or "").lower() == "refresh" and a.get("content"):
                m = re.search(r"url=(.+)$", a["content"], flags=re.I)
                if m:
                    self.links.append(m.group(1).strip().strip("'\""))
            if a.get("property") in ("og:url", "og:image") and a.get("content"):
                self.links.append(a["content"])


_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")


def _targets(path: Path, rel: str) -> list[str]:
    if path.suffix == ".html":
        parser = _Links()
        parser.feed(path.read_text(encoding="utf-8"))
        return parser.links
    if path.suffix == ".css":
        return _CSS_URL.findall(path.read_text(encoding="utf-8", errors="replace"))
    if path.name == "sitemap.xml":
        return re.findall(r"<loc>([^<]+)</loc>", path.read_text(encoding="utf-8"))
    if path.name == "robots.txt":
        return re.findall(r"^Sitemap:\s*(\S+)", path.read_text(encoding="utf-8"), flags=re.M)
    return []


def broken_links(site: Path, url: str) -> list[str]:
    """Internal references in ``site`` that do not resolve to a file in it.

    Relative links resolve against the page; absolute paths and full addresses count as
    internal when they fall under the site address ``url`` (the same rule a browser applies
    when the site is served there).
    """
    base = urlsplit(url)
    problems = []
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        rel = path.relative_to(site).as_posix()
        for link in _targets(path, rel):
            link = link.strip()
            if not link or link.startswith(("#", "data:", "mailto:", "javascript:", "tel:")):
                continue
            target = urlsplit(urljoin(url + rel, link))
            if (target.scheme, target.netloc) != (base.scheme, base.netloc):
                if target.scheme in ("http", "https", "") and not target.netloc:
                    problems.append(f"{rel}: {link} (no host)")
                continue  # another site
            if not target.path.startswith(base.path):
                problems.append(f"{rel}: {link} (outside the site address {url})")
                continue
            inside = unquote(target.path[len(base.path):])
            resolved = posixpath.normpath(inside) if inside else "."
            if resolved.startswith(".."):
                problems.append(f"{rel}: {link} (leaves the site)")
                continue
            file = site / resolved
            if file.is_dir() or inside.endswith("/") or not inside:
                file = file / "index.html"
            if not file.is_file():
                problems.append(f"{rel}: {link} (no file {file.relative_to(site).as_posix()})")
    return problems


def check_site(site: Path, url: str) -> list[str]:
    """Everything wrong with a deployable site folder (empty list when it is fine)."""
    problems = [f"missing {name}" for name in REQUIRED_FILES if not (site / name).is_file()]
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        rel = path.relative_to(site).as_posix()
        why = forbidden(rel)
        if why:
            problems.append(f"{rel}: must not be published ({why})")
    problems += broken_links(site, url)
    return problems


# --------------------------------------------------------------------------------------------
# The notebooks bundle
# --------------------------------------------------------------------------------------------

NOTEBOOKS_README = """\
# {title}: the chapters as notebooks (version {version})

Each chapter of the book is here as a Jupyter notebook (`chapters/*.ipynb`), made from its
MyST Markdown source (`chapters/*.md`, also here) with jupytext and saved without outputs.
The notebooks read the tables in `data/` through the book's own Python package in `kgbook/`,
so everything needed to rerun them is in this folder.

## Rerun the chapters

With Python 3.11:

```console
python3.11 -m venv .venv
.venv/bin/pip install -r requirements.txt   # the exact versions the book was built with
.venv/bin/jupyter lab
```

In JupyterLab open a notebook in `chapters/` and choose *Run > Run All Cells*. Every number
is recomputed from `data/`, and every figure is written again to `figures/` (PNG, SVG, PDF).
The reproducibility receipt at the end of each chapter lists the files it read with their
SHA-256 and the package versions.

Inline values in the text (written `{{glue}}` in the notebooks) are filled in only in the
built book; in JupyterLab they appear as their names.

## What is where

- `chapters/`: {count} chapters as `.ipynb` notebooks, and the MyST Markdown source of every
  page (`.md`, which JupyterLab also opens as a notebook through jupytext).
- `data/`: the tables as CSV, and `datapackage.json` (schema, sources, releases, licences).
- `kgbook/`: loading with validation, the figure style and charts, glue helpers.
- `figures/`: each figure's metadata file (title, sources, citation); running a chapter writes
  its figures there in every format.
- `requirements.txt`, `pyproject.toml`: exact package versions; the `kgbook` package.
- `_config.yml`, `_toc.yml`, `references.bib`, `CITATION.cff`: the book's settings, table of
  contents, bibliography and citation metadata, which `kgbook` reads.
- `LICENSE`, `LICENSES/`: the terms of reuse.

Licences: code MIT; text and figures CC BY 4.0; data under each publisher's terms, as listed
per table in `data/datapackage.json`.
"""


def toc_files(root: Path = ROOT) -> list[str]:
    """Documents listed in _toc.yml (paths without suffix), in order."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key in ("root", "file"):
                if isinstance(node.get(key), str):
                    found.append(node[key])
            for value in node.values():
                if isinstance(value, list | dict):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return found


def notebook_entries(root: Path = ROOT, prefix: str = "") -> dict[str, bytes | Path]:
    """The files of the notebooks bundle: executable chapters as .ipynb, data/, kgbook/."""
    import jupytext

    from .notebooks import to_ipynb

    entries: dict[str, bytes | Path] = {}
    chapters = []
    for doc in toc_files(root):
        src = root / f"{doc}.md"
        if not src.is_file():
            continue
        entries[f"{prefix}{doc}.md"] = src  # kgbook reads the figure declarations from these
        nb = jupytext.read(src)
        if not any(cell.cell_type == "code" for cell in nb.cells):
            continue
        entries[f"{prefix}{doc}.ipynb"] = to_ipynb(src).encode("utf-8")  # fixed cell ids
        chapters.append(doc)
    if not chapters:
        raise RuntimeError(f"{root / '_toc.yml'}: no chapter with code cells to bundle")
    for folder in ("data", "kgbook", "LICENSES"):
        for path in sorted((root / folder).rglob("*")):
            rel = path.relative_to(root).as_posix()
            if path.is_file() and not forbidden(rel) and "egg-info" not in rel:
                entries[prefix + rel] = path
    for name in ("pyproject.toml", "requirements.txt", "_config.yml", "_toc.yml", "references.bib"):
        entries[prefix + name] = root / name
    for name in ("CITATION.cff", "LICENSE"):  # read by the how-to-cite page; the terms of reuse
        if (root / name).is_file():
            entries[prefix + name] = root / name
    # each figure's metadata (titles, sources, citation), which the how-to-cite page quotes;
    # running the chapters writes the rest of the bundles
    for path in sorted((root / "figures").glob("fig-*/fig-*.json")):
        entries[prefix + path.relative_to(root).as_posix()] = path
    title = _book_title(root)
    version = metadata.version("kgbook")
    entries[prefix + "README.md"] = NOTEBOOKS_README.format(
        title=title, version=version, count=len(chapters)).encode("utf-8")
    return entries


def _book_title(root: Path) -> str:
    import yaml

    return yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))["title"]



# --------------------------------------------------------------------------------------------
# The favicon and the social preview image (committed in site/extra; regenerate with --art)
# --------------------------------------------------------------------------------------------

ICON_BG, ICON_BAR, ICON_ACCENT = "#1f4e5f", "#ffffff", "#f2c14e"
# Three rising bars on a rounded square, in a 32-unit grid (the same shapes as favicon.svg).
ICON_BARS = ((6, 17, 11, 26, ICON_ACCENT), (13.5, 11, 18.5, 26, ICON_BAR),
             (21, 6, 26, 26, ICON_ACCENT))


def _icon(size: int):
    from PIL import Image, ImageDraw

    scale = size * 8 / 32
    big = Image.new("RGBA", (size * 8, size * 8), (0, 0, 0, 0))
    draw = ImageDraw.Draw(big)
    draw.rounded_rectangle((0, 0, size * 8 - 1, size * 8 - 1), radius=round(6 * scale),
                           fill=ICON_BG)
    for x0, y0, x1, y1, colour in ICON_BARS:
        draw.rectangle((round(x0 * scale), round(y0 * scale), round(x1 * scale) - 1,
                        round(y1 * scale) - 1), fill=colour)
    return big.resize((size, size), Image.Resampling.LANCZOS)


def make_art(folder: Path = SITE_EXTRA) -> list[Path]:
    """Write favicon.ico (16, 32, 48 px), favicon-32.png and social-card.png (1200 x 630)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch, Rectangle

    folder.mkdir(parents=True, exist_ok=True)
    _icon(48).save(folder / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)])
    _icon(32).save(folder / "favicon-32.png", optimize=True)

    fig = plt.figure(figsize=(12, 6.3), dpi=100)
    fig.patch.set_facecolor(ICON_BG)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 1200)
    ax.set_ylim(0, 630)
    ax.axis("off")
    ax.add_patch(FancyBboxPatch((80, 395), 150, 150, boxstyle="round,pad=0,rounding_size=28",
                                facecolor="#173c49", edgecolor="none"))
    for x0, y0, x1, y1, colour in ICON_BARS:  # the favicon's bars, drawn large
        ax.add_patch(Rectangle((80 + x0 * 150 / 32, 545 - y1 * 150 / 32),
                               (x1 - x0) * 150 / 32, (y1 - y0) * 150 / 32, facecolor=colour))
    ax.text(80, 330, "Work beyond the formal economy", color="white", fontsize=38,
            fontweight="bold", va="baseline")
    ax.text(80, 260, "Informality and migration in Kyrgyzstan", color=ICON_ACCENT,
            fontsize=34, va="baseline")
    ax.text(80, 120, "An open data book: informal work, labour migration and remittances,\n"
            "social protection, disability inclusion, the social and solidarity economy",
            color="#d9e6ea", fontsize=21, va="baseline", linespacing=1.5)
    card = folder / "social-card.png"
    fig.savefig(card, dpi=100, facecolor=ICON_BG, metadata={"Software": None})
    plt.close(fig)
    return [folder / "favicon.ico", folder / "favicon-32.png", card]


# --------------------------------------------------------------------------------------------
# make dist
# --------------------------------------------------------------------------------------------

@dataclass
class Dist:
    out: Path
    site: Path
    url: str
    archives: list[Path] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)


def dist_name() -> str:
    """``<name>-<version>`` from the installed package metadata (pyproject.toml)."""
    return f"{metadata.metadata('kgbook')['Name']}-{metadata.version('kgbook')}"


def build_dist(build_root: Path, out: Path, *, pdf: Path | None = None,
               root: Path = ROOT) -> Dist:
    """Make the deployable site and the archives from the build in ``build_root/_build``.

    ``pdf`` defaults to ``build_root/_build/latex/book.pdf`` when that file exists.
    """
    html = build_root / "_build" / "html"
    if not (html / "index.html").is_file():
        raise FileNotFoundError(f"{html}: no built book; run make book first")
    url = _built_url(html)
    if out.exists():
        if out.resolve() in (root.resolve(), build_root.resolve(), html.resolve()):
            raise ValueError(f"refusing to replace {out}: it is the book or its build")
        shutil.rmtree(out)
    site = out / "site"
    result = Dist(out=out, site=site, url=url)
    result.left_out = copy_site(html, site, url)
    name = dist_name()

    site_entries = {f"{name}/{p.relative_to(site).as_posix()}": p
                    for p in sorted(site.rglob("*")) if p.is_file()}
    result.archives.append(write_zip(site_entries, out / f"{name}.zip"))
    if pdf is None:
        candidate = build_root / "_build" / "latex" / "book.pdf"
        pdf = candidate if candidate.is_file() else None
    if pdf is not None:
        target = out / f"{name}.pdf"
        shutil.copyfile(pdf, target)
        result.archives.append(target)
    result.archives.append(write_zip(notebook_entries(root, prefix=f"{name}-notebooks/"),
                                     out / f"{name}-notebooks.zip"))
    for archive in result.archives:
        write_checksum(archive)
    return result


def _built_url(html: Path) -> str:
    """The site address the build was made for (read back from its robots.txt)."""
    robots = html / "robots.txt"
    if not robots.is_file():
        raise FileNotFoundError(f"{robots}: missing; is kgbook.dist in sphinx extra_extensions?")
    m = re.search(r"^Sitemap:\s*(\S+)sitemap\.xml\s*$", robots.read_text(encoding="utf-8"),
                  flags=re.M)
    if not m:
        raise ValueError(f"{robots}: no 'Sitemap:' line")
    return m.group(1)


def check_dist(result: Dist) -> list[str]:
    problems = check_site(result.site, result.url)
    problems += verify_checksums(result.out)
    for archive in result.archives:
        if archive.suffix == ".zip":
            with zipfile.ZipFile(archive) as zf:
                bad = zf.testzip()
                if bad:
                    problems.append(f"{archive.name}: entry {bad} is corrupt")
                problems += [f"{archive.name}: {n} must not be published"
                             for n in zf.namelist() if forbidden(n)]
    return problems


def _size(path: Path) -> str:
    n = path.stat().st_size if path.is_file() else sum(
        p.stat().st_size for p in path.rglob("*") if p.is_file())
    return f"{n / 1e6:.1f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kgbook.dist", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", type=Path, default=ROOT,
                        help="folder holding _build/ (default: the book folder)")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="default: dist/")
    parser.add_argument("--pdf", type=Path, default=None,
                        help="PDF to publish (default: _build/latex/book.pdf if built)")
    parser.add_argument("--art", action="store_true",
                        help="only redraw the favicon and social card in site/extra")
    args = parser.parse_args(argv)
    if args.art:
        for path in make_art():
            print(path.relative_to(ROOT))
        return 0
    try:
        result = build_dist(args.build, args.out, pdf=args.pdf)
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"make dist: {exc}", file=sys.stderr)
        return 1
    problems = check_dist(result)
    files = sum(1 for p in result.site.rglob("*") if p.is_file())
    print(f"Site for {result.url}: {result.site} ({files} files, {_size(result.site)}; "
          f"{len(result.left_out)} build files left out)")
    for archive in result.archives:
        print(f"  {archive.relative_to(result.out.parent)}  {_size(archive)}  (+ .sha256)")
    if not any(a.suffix == ".pdf" for a in result.archives):
        print("  (no PDF: run 'make pdf' first to include it)")
    if problems:
        print(f"{len(problems)} problems:", *problems[:50], sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
