"""Light pages: ship only the assets a page uses, and give every page a meta description.

The stock theme made a reader fetch about 3.5 MB for one chapter. This Sphinx extension,
run at the end of every HTML build (``build-finished``), trims the output folder:

* Font Awesome: the theme loads a 1.5 MB script (``fontawesome.js``) and ships 1 MB of web
  fonts to draw about a dozen icons. The script and fonts are deleted and no longer
  referenced; the icons the pages use (found in the written HTML and the theme's scripts) are
  drawn from a small generated stylesheet, ``_static/kg-assets.css``, that holds exactly those
  icons as inline SVG masks (taken from the theme's own copy of Font Awesome, so they look the
  same). The theme stylesheet loses its ~1,900 unused ``.fa-*:before`` glyph rules.
* Source maps (``*.map``, 3.4 MB) and their ``sourceMappingURL`` comments are removed.
* Thebe (live code, switched off in ``_config.yml``): its script, stylesheet and inline
  configuration are removed when ``launch_buttons.thebe`` is false.
* The theme loads the full-text search index (``searchindex.js``) and search scripts on every
  page although the search runs on ``search.html``; they stay on that page only.
* The page's stylesheets are served as one file (``_static/kg-bundle-<hash>.css``, the
  same rules in the same order), so the first paint waits for one request, not a dozen.
* Scripts no longer block the first paint: ``documentation_options.js`` (a dozen settings) is
  put inline and the other external scripts get ``defer`` (search page excepted).
* Chart images written by the notebooks are stored as 256-colour palette PNGs (charts are
  flat colours and anti-aliased edges, so this is visually the same at about a third of the
  bytes), and every ``<img>`` gets its ``width``/``height`` (no layout shift) and
  ``loading="lazy"``/``decoding="async"`` except the first one on the page.

Every page also gets ``<meta name="description">``: the first paragraph of its text, shortened
to about 155 characters (unless another extension has set one).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from docutils import nodes

ICON_CSS = "kg-assets.css"
FA_SCRIPT = "scripts/fontawesome.js"
ICON_PREFIXES = {"fa-solid": "solid", "fas": "solid", "fa-regular": "regular", "far": "regular",
                 "fa-brands": "brands", "fab": "brands"}
# Font Awesome helper classes that are not icons.
FA_HELPERS = {"fa-lg", "fa-xs", "fa-sm", "fa-1x", "fa-2x", "fa-3x", "fa-fw", "fa-spin",
              "fa-pulse", "fa-border", "fa-inverse", "fa-stack", "fa-stack-1x", "fa-stack-2x",
              "fa-ul", "fa-li", "fa-pull-left", "fa-pull-right", "fa-flip", "fa-beat",
              "fa-fade", "fa-bounce", "fa-shake", "fa-classic", "fa-sharp", "fa-xl", "fa-2xs",
              "fa-rotate-90", "fa-rotate-180", "fa-rotate-270", "fa-flip-horizontal",
              "fa-flip-vertical", "fa-flip-both", "fa-width-auto"}
DESCRIPTION_LENGTH = 155

_ICON_DEF = re.compile(r'(?:"([\w-]+)"|([A-Za-z_$][\w$-]*)):\[(\d+),(\d+),\[([^\]]*)\],'
                       r'"[0-9a-f]+",("(?:[^"\\]|\\.)*"|\[[^\]]*\])\]')
_CLASS_ATTR = re.compile(r'class="([^"]*)"')
_SCRIPT_SRC = r'<script\b[^>]*\bsrc="[^"]*{name}[^"]*"[^>]*>\s*</script>\s*'
_PRELOAD = r'<link\b[^>]*\bhref="[^"]*{name}[^"]*"[^>]*/?>\s*'


# --------------------------------------------------------------------------- icons


def parse_icon_sets(js: str) -> dict[str, dict[str, tuple[int, int, str]]]:
    """The icon sets defined in Font Awesome's ``all.js`` bundle: set -> name -> (w, h, path).

    The bundle defines three objects of ``name:[width,height,[aliases],unicode,path]``; they
    are told apart by an icon only each of them has."""
    matches = list(_ICON_DEF.finditer(js))
    groups: list[list[re.Match]] = []
    for m in matches:
        if groups and m.start() - groups[-1][-1].end() <= 2:
            groups[-1].append(m)
        else:
            groups.append([m])
    sets: dict[str, dict[str, tuple[int, int, str]]] = {}
    for group in groups:
        icons: dict[str, tuple[int, int, str]] = {}
        for m in group:
            name = m.group(1) or m.group(2)
            path = m.group(6)
            if path.startswith("["):  # duotone: two paths
                path = " ".join(re.findall(r'"((?:[^"\\]|\\.)*)"', path))
            else:
                path = path[1:-1]
            entry = (int(m.group(3)), int(m.group(4)), path)
            icons[name] = entry
            for alias in re.findall(r'"([\w-]+)"', m.group(5)):
                icons.setdefault(alias, entry)
        if "github" in icons:
            kind = "brands"
        elif "magnifying-glass" in icons:
            kind = "solid"
        elif "trash-can" in icons:
            kind = "regular"
        else:
            continue
        if len(icons) > len(sets.get(kind, {})):
            sets[kind] = icons
    return sets


def used_icons(texts) -> set[tuple[str, str]]:
    """(style, icon name) pairs used in the class attributes of the given HTML/JS texts."""
    used = set()
    for text in texts:
        for attr in _CLASS_ATTR.findall(text) + re.findall(r"[\"'](fa-[^\"']*)[\"']", text):
            classes = attr.split()
            styles = {ICON_PREFIXES[c] for c in classes if c in ICON_PREFIXES}
            names = [c[3:] for c in classes if c.startswith("fa-") and c not in ICON_PREFIXES
                     and c not in FA_HELPERS]
            for name in names:
                for style in styles or {"solid"}:
                    used.add((style, name))
    return used


def icon_css(sets, used) -> str:
    """A stylesheet drawing each used icon as an SVG mask in the current text colour."""
    from urllib.parse import quote

    rules = [
        "/* Generated by kgbook.sphinx_assets: the Font Awesome icons this book uses "
        "(Font Awesome Free, icons CC BY 4.0, https://fontawesome.com/license/free). */",
        '[class*="fa-"]::before{font-family:inherit}',
        # images carry width/height attributes (no layout shift) but scale with the column
        "img[width][height]{height:auto}",
    ]
    selectors = {"solid": (".fa-solid", ".fas"), "regular": (".fa-regular", ".far"),
                 "brands": (".fa-brands", ".fab")}
    for style, name in sorted(used):
        icon = sets.get(style, {}).get(name)
        if icon is None:
            continue
        width, height, path = icon
        svg = (f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}'>"
               f"<path d='{path}'/></svg>")
        url = "url(\"data:image/svg+xml," + quote(svg, safe=" /=:',.-") + "\")"
        sel = ",".join(f"{s}.fa-{name}::before" for s in selectors[style])
        rules.append(
            f"{sel}{{content:\"\";display:inline-block;width:{width / height:.4g}em;"
            "height:1em;vertical-align:-.125em;background-color:currentColor;"
            f"-webkit-mask:{url} center/contain no-repeat;mask:{url} center/contain no-repeat}}")
    rules += admonition_css(sets)
    return "\n".join(rules) + "\n"


# The theme draws admonition icons as Font Awesome glyphs in ``.admonition-title::after``;
# with the icon font gone they are drawn as masks too (class -> solid icon, as the theme does).
ADMONITION_ICONS = {"": "bell", "note": "circle-info", "tip": "lightbulb", "hint": "lightbulb",
                    "important": "circle-exclamation", "attention": "circle-exclamation",
                    "caution": "triangle-exclamation", "warning": "triangle-exclamation",
                    "danger": "triangle-exclamation", "error": "circle-xmark",
                    "seealso": "share", "admonition-todo": "pen"}


def admonition_css(sets) -> list[str]:
    """Rules that draw each admonition's icon as an SVG mask in the admonition's colour."""
    from urllib.parse import quote

    rules = []
    for cls, name in ADMONITION_ICONS.items():
        icon = sets.get("solid", {}).get(name)
        if icon is None:
            raise ValueError(f"kgbook.sphinx_assets: no solid Font Awesome icon '{name}' "
                             f"for admonitions of class '{cls or 'admonition'}'")
        width, height, path = icon
        svg = (f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}'>"
               f"<path d='{path}'/></svg>")
        url = "url(\"data:image/svg+xml," + quote(svg, safe=" /=:',.-") + "\")"
        where = f".{cls}" if cls else ""
        sel = ",".join(f"{d}.admonition{where}>.admonition-title::after" for d in ("", "div"))
        rules.append(f"{sel}{{content:\"\";font:inherit;background-color:currentColor;"
                     f"-webkit-mask:{url} center/contain no-repeat;"
                     f"mask:{url} center/contain no-repeat}}")
    return rules


def strip_fa_css(css: str) -> str:
    """Remove Font Awesome's @font-face rules and its per-icon ``:before`` glyph rules."""
    css = re.sub(r"@font-face\{[^}]*Font Awesome[^}]*\}", "", css)
    glyph = r"\.fa-[\w-]+:(?::)?before"
    return re.sub(rf"(?<=[}}\s]){glyph}(?:,{glyph})*\{{content:\"[^\"]*\"\}}", "", css)


# --------------------------------------------------------------------------- HTML


def _remove_thebe(text: str) -> str:
    text = re.sub(_SCRIPT_SRC.format(name="sphinx-thebe"), "", text)
    text = re.sub(_PRELOAD.format(name="sphinx-thebe"), "", text)
    text = re.sub(r"<script>\s*const THEBE_JS_URL[^<]*</script>\s*", "", text)
    text = re.sub(r'<script type="text/x-thebe-config">.*?</script>\s*', "", text, flags=re.S)
    return re.sub(r"<script>kernelName = '[^']*'</script>\s*", "", text)


def _image_size(path: Path) -> tuple[int, int] | None:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.size
    except (OSError, ValueError):
        return None


def _fix_images(text: str, page: Path) -> str:
    count = 0

    def fix(m: re.Match) -> str:
        nonlocal count
        tag = m.group(0)
        count += 1
        src = re.search(r'\bsrc="([^"]+)"', tag)
        extra = []
        if src and not re.search(r"\bwidth=", tag) and not src.group(1).startswith(
                ("data:", "http:", "https:")):
            size = _image_size((page.parent / src.group(1).split("?")[0]).resolve())
            if size:
                extra.append(f'width="{size[0]}" height="{size[1]}"')
        if count > 1 and "loading=" not in tag:
            extra.append('loading="lazy"')
        if "decoding=" not in tag:
            extra.append('decoding="async"')
        if not extra:
            return tag
        end = "/>" if tag.endswith("/>") else ">"
        return tag[: -len(end)].rstrip() + " " + " ".join(extra) + " " + end

    return re.sub(r"<img\b[^>]*>", fix, text)


def _inline_options(text: str, static: Path) -> str:
    """Put documentation_options.js (a dozen settings) in the page instead of a blocking request."""
    pattern = re.compile(r'<script src="[^"]*documentation_options\.js[^"]*"></script>')
    found = pattern.search(text)
    options = static / "documentation_options.js"
    if not found or not options.is_file():
        return text
    body = options.read_text(encoding="utf-8").strip()
    return text[: found.start()] + f"<script>{body}</script>" + text[found.end():]


def _defer_scripts(text: str) -> str:
    """Load external scripts with ``defer``: they run in order once the page is parsed (the
    inline scripts in between only set variables), so they no longer block the first paint."""
    def fix(m: re.Match) -> str:
        tag = m.group(0)
        if re.search(r"\b(defer|async)\b|type=\"module\"", tag):
            return tag
        return tag.replace("<script ", "<script defer ", 1)

    return re.sub(r"<script\b[^>]*\bsrc=\"[^\"]+\"[^>]*>", fix, text)


_STYLESHEET = re.compile(r'<link\b(?=[^>]*\brel="stylesheet")[^>]*>\s*')


def _css_text(path: Path, static: Path, seen: set[Path]) -> str:
    """A stylesheet with its @import rules inlined and url()s made relative to ``static``."""
    import os

    if path in seen or not path.is_file():
        return ""
    seen.add(path)
    css = path.read_text(encoding="utf-8")
    css = re.sub(r'@charset\s+"[^"]*";', "", css)

    parts: list[Path] = []

    def imported(m: re.Match) -> str:
        parts.append((path.parent / m.group(1)).resolve())
        return f"\x00{len(parts) - 1}\x00"

    css = re.sub(r'@import\s+(?:url\()?\s*["\']([^"\']+)["\']\s*\)?\s*;', imported, css)

    def rebase(m: re.Match) -> str:
        url = m.group(2)
        if re.match(r"^(data:|[a-z]+:|/|#)", url):
            return m.group(0)
        target = (path.parent / url.split("?")[0].split("#")[0]).resolve()
        return f'url("{Path(os.path.relpath(target, static)).as_posix()}")'

    css = re.sub(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""", rebase, css)
    return re.sub("\x00(\\d+)\x00", lambda m: _css_text(parts[int(m.group(1))], static, seen), css)


BUNDLE_MANIFEST = "kg-bundles.json"


class CssBundles:
    """One stylesheet per distinct list of local stylesheets, named by its content hash.

    The lists are kept in ``_static/kg-bundles.json`` so that a later (incremental) build,
    which rewrites only some pages, regenerates the bundles the other pages use from the
    current stylesheets and points those pages at the new file when the content changed."""

    def __init__(self, static: Path):
        import json

        self.static = static.resolve()
        self.names: dict[tuple[str, ...], str] = {}
        manifest = static / BUNDLE_MANIFEST
        self.previous: dict[str, list[str]] = (
            json.loads(manifest.read_text()) if manifest.is_file() else {})
        self.renames = {old: self.name(tuple(key)) for old, key in self.previous.items()}

    def name(self, key: tuple[str, ...]) -> str:
        import hashlib

        if key not in self.names:
            seen: set[Path] = set()
            css = "\n".join(_css_text(self.static / rel, self.static, seen) for rel in key)
            name = f"kg-bundle-{hashlib.sha256(css.encode()).hexdigest()[:12]}.css"
            (self.static / name).write_text(css, encoding="utf-8")
            self.names[key] = name
        return self.names[key]

    def apply(self, text: str, page: Path) -> str:
        import os

        for old, new in self.renames.items():
            if old != new:
                text = text.replace(f"_static/{old}", f"_static/{new}")
        links = []
        for m in _STYLESHEET.finditer(text):
            tag = m.group(0)
            href = re.search(r'\bhref="([^"]+)"', tag)
            media = re.search(r'\bmedia="([^"]+)"', tag)
            if not href or (media and media.group(1) not in ("all", "screen")):
                continue
            url = href.group(1).split("?")[0]
            if re.match(r"^([a-z]+:|//)", url) or "kg-bundle-" in url:
                continue
            target = (page.parent / url).resolve()
            if self.static not in target.parents or not target.is_file():
                continue
            links.append((m, target.relative_to(self.static).as_posix()))
        if len(links) < 2:
            return text
        name = self.name(tuple(rel for _, rel in links))
        href = Path(os.path.relpath(self.static / name, page.parent)).as_posix()
        out, last = [], 0
        for i, (m, _) in enumerate(links):
            out.append(text[last: m.start()])
            if i == 0:
                out.append(f'<link rel="stylesheet" type="text/css" href="{href}" />\n')
            last = m.end()
        out.append(text[last:])
        return "".join(out)

    def finish(self, pages: list[str]) -> None:
        """Keep the bundles some page uses (and their lists); delete the others."""
        import json

        used = {n for text in pages for n in re.findall(r"kg-bundle-[0-9a-f]{12}\.css", text)}
        for path in self.static.glob("kg-bundle-*.css"):
            if path.name not in used:
                path.unlink()
        keys = {name: list(key) for key, name in self.names.items() if name in used}
        (self.static / BUNDLE_MANIFEST).write_text(json.dumps(keys, indent=1))


def process_page(text: str, page: Path, *, search_page: bool, thebe: bool,
                 static: Path | None = None) -> str:
    text = re.sub(_SCRIPT_SRC.format(name=re.escape(FA_SCRIPT)), "", text)
    text = re.sub(_PRELOAD.format(name=re.escape(FA_SCRIPT)), "", text)
    if not thebe:
        text = _remove_thebe(text)
    if not search_page:
        for name in ("_static/searchtools.js", "_static/language_data.js", "searchindex.js"):
            text = re.sub(_SCRIPT_SRC.format(name=re.escape(name)), "", text)
        if static is not None:
            text = _inline_options(text, static)
        text = _defer_scripts(text)
    return _fix_images(text, page)


# --------------------------------------------------------------------------- images


def quantize_png(path: Path, cache: Path | None = None) -> bool:
    """Store a PNG as a 256-colour palette image (optimised). False if left as it was.

    With ``cache`` (a folder), the result is kept under the SHA-256 of the original bytes, so
    the same image is quantized once, not on every build (Sphinx copies images afresh)."""
    import shutil

    if cache is None:
        return _quantize(path)
    cached = _cache_entry(cache, path.read_bytes())
    if cached.is_file():
        shutil.copyfile(cached, path)
        return True
    return _quantize_and_keep(path, cached)


def _quantize_and_keep(path: Path, cached: Path) -> bool:
    """:func:`_quantize`, keeping the result as ``cached``."""
    import shutil

    changed = _quantize(path)
    if changed:
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, cached)
    return changed


def _cache_entry(cache: Path, original: bytes) -> Path:
    """Where the quantized version of a PNG with these bytes is kept."""
    import hashlib

    return cache / (hashlib.sha256(original).hexdigest() + ".png")


def _quantize(path: Path) -> bool:
    from PIL import Image

    with Image.open(path) as im:
        if im.mode not in ("RGB", "RGBA"):
            return False
        im.load()
        if im.mode == "RGBA":
            if im.getextrema()[3] == (255, 255):
                im = im.convert("RGB")
            else:
                return False  # keep transparency exact
        pal = im.quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                          dither=Image.Dither.NONE)
    tmp = path.with_suffix(".tmp.png")
    pal.save(tmp, "PNG", optimize=True)
    if tmp.stat().st_size < path.stat().st_size:
        tmp.replace(path)
        return True
    tmp.unlink()
    return False


# --------------------------------------------------------------------------- Sphinx


def _thebe_enabled(app) -> bool:
    launch = (app.config.html_theme_options or {}).get("launch_buttons", {}) or {}
    return bool(launch.get("thebe"))


def _description(doctree) -> str | None:
    for para in doctree.findall(nodes.paragraph):
        text = " ".join(para.astext().split())
        if len(text) >= 60:
            if len(text) <= DESCRIPTION_LENGTH:
                return text
            cut = text[:DESCRIPTION_LENGTH].rsplit(" ", 1)[0].rstrip(",;:")
            return cut + "…"
    return None


def on_html_page_context(app, pagename, templatename, context, doctree) -> None:
    metatags = context.get("metatags", "")
    if 'name="description"' in metatags:
        return
    text = _description(doctree) if doctree is not None else None
    if text is None:
        title = re.sub(r"<[^>]+>", "", context.get("title") or "")
        text = f"{title} – {app.config.project}" if title else app.config.project
    context["metatags"] = metatags + (
        f'\n<meta name="description" content="{html.escape(text, quote=True)}" />')


def on_build_finished(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    static = out / "_static"
    fa_js = static / FA_SCRIPT
    pages = sorted(out.rglob("*.html"))
    texts = {p: p.read_text(encoding="utf-8") for p in pages}
    scripts = [p.read_text(encoding="utf-8", errors="replace") for p in static.rglob("*.js")
               if p != fa_js and p.is_file()]
    if fa_js.is_file():
        sets = parse_icon_sets(fa_js.read_text(encoding="utf-8"))
        used = used_icons(list(texts.values()) + scripts)
        (static / ICON_CSS).write_text(icon_css(sets, used), encoding="utf-8")
    thebe = _thebe_enabled(app)
    for path in list(static.rglob("*.css")) + list(static.rglob("*.js")):
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        new = re.sub(r"\n?/[/*][#@] sourceMappingURL=\S+(?: \*/)?", "", text)
        if path.parent.name == "styles":
            new = strip_fa_css(new)
        if new != text:
            path.write_text(new, encoding="utf-8", errors="surrogateescape")
    bundles = CssBundles(static)
    final = []
    for page, text in texts.items():
        new = process_page(text, page, search_page=page.name == "search.html"
                           and page.parent == out, thebe=thebe, static=static)
        new = bundles.apply(new, page)
        final.append(new)
        if new != text:
            page.write_text(new, encoding="utf-8")
    bundles.finish(final)
    # Files nobody references any more.
    doomed = [fa_js, fa_js.with_name("fontawesome.js.LICENSE.txt")]
    doomed += list(out.rglob("*.map"))
    if not thebe:
        doomed += [static / "sphinx-thebe.js", static / "sphinx-thebe.css"]
    for path in doomed:
        if path.is_file():
            path.unlink()
    fonts = static / "vendor" / "fontawesome"
    if fonts.is_dir():
        import shutil

        shutil.rmtree(fonts)
    images = out / "_images"
    cache = Path(app.doctreedir).parent / ".kgbook-png"
    quantize_all(sorted(images.glob("*.png")) if images.is_dir() else [], cache)


def quantize_all(paths: list[Path], cache: Path) -> None:
    """:func:`quantize_png` on every path that needs it, on all cores (a chart takes about
    0.15 s). Palette images (already done) are skipped; cached results are copied."""
    import concurrent.futures
    import os
    import shutil

    todo = []
    for path in paths:
        data = path.read_bytes()
        if data[:8] != b"\x89PNG\r\n\x1a\n" or data[25] not in (2, 6):  # not RGB/RGBA
            continue
        cached = _cache_entry(cache, data)
        if cached.is_file():
            shutil.copyfile(cached, path)
        else:
            todo.append((path, cached))
    workers = min(len(todo), os.cpu_count() or 1)
    if workers < 2:
        for path, cached in todo:
            _quantize_and_keep(path, cached)
        return
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_quantize_and_keep, *zip(*todo), chunksize=4))


def _cache_entry_points() -> None:
    """Build speed: pybtex looks its plugins up in the installed entry points once per
    citation (about 12 ms each, 3 s a build); the installed packages cannot change during a
    build, so read them once."""
    import functools
    from importlib import metadata

    import pybtex.plugin

    if getattr(pybtex.plugin.entry_points, "_kgbook_cached", False):
        return
    everything = functools.lru_cache(maxsize=1)(metadata.entry_points)

    def entry_points(**params):
        return everything().select(**params)

    entry_points._kgbook_cached = True
    pybtex.plugin.entry_points = entry_points


def setup(app):
    _cache_entry_points()
    app.add_css_file(ICON_CSS)
    app.connect("html-page-context", on_html_page_context, priority=900)
    app.connect("build-finished", on_build_finished, priority=800)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
