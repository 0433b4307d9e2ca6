"""Figure bundles: every figure in English and Russian, with its data and metadata.

``kg.save_figure(fig, "fig-some-id")`` (called at the end of each figure cell) writes the
folder ``figures/<id>/``::

    <id>.en.png  <id>.en.svg  <id>.en.pdf  <id>.en.slide.png     English
    <id>.ru.png  <id>.ru.svg  <id>.ru.pdf  <id>.ru.slide.png     Russian
    <id>.csv                                                     the data slice plotted
    <id>.json                                                    metadata and citation
    <id>.thumb.png                                               small preview (gallery)

The Russian figure is drawn by the same chart function with the same data: the chart call
is recorded on the figure (:func:`kgbook.figures.chart`) and replayed with every label
looked up in the translation table (:mod:`kgbook.translate`). The English replay must give
the same SVG as the figure the chapter drew, so a figure changed after the chart call (and
so not reproducible in Russian) stops the build.

PNGs are 300 dpi; the slide PNG is 1920 x 1080 pixels at 144 dpi, which is exactly the size
of a 13.33 x 7.5 inch (16:9) PowerPoint or Impress slide. No file holds a timestamp, a
software version or a commit: the same code and data give the same bytes. The metadata
records the book version from ``pyproject.toml``, which changes only when the authors
release a new version.

``python -m kgbook.bundles`` (``make figures``) executes the chapters headless, without
building the HTML, so the bundles are made by the very code the book runs.
"""

from __future__ import annotations

import io
import json
import os
import re
from functools import lru_cache
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd

from . import figures as F
from . import translate
from .citation import book_version
from .data import ROOT, package

LANGS = ("en", "ru")
EXPORT_DPI = 300
SLIDE_PX = (1920, 1080)
SLIDE_DPI = 144  # 1920 px / 144 dpi = 13.33 in: a 16:9 slide at its default size
SLIDE_FOOTER_PX = 56
THUMB_WIDTH_PX = 400
FIGURE_LICENCE = {"name": "CC-BY-4.0", "title": "Creative Commons Attribution 4.0 International",
                  "path": "https://creativecommons.org/licenses/by/4.0/"}
SCHEMA_PATH = Path(__file__).resolve().parent / "figure_bundle.schema.json"
_SVG_META = {"Date": None, "Creator": None}
_PDF_META = {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None}


def figures_dir() -> Path:
    """Where bundles go: ``figures/``, or ``$KGBOOK_FIGURES`` (used by the tests)."""
    return Path(os.environ.get("KGBOOK_FIGURES") or ROOT / "figures")


def bundle_files(figure_id: str) -> dict[str, str]:
    """Role -> file name of every file in a figure's bundle folder."""
    names = {f"{lang}_{kind}": f"{figure_id}.{lang}.{ext}" for lang in LANGS
             for kind, ext in (("png", "png"), ("svg", "svg"), ("pdf", "pdf"),
                               ("slide", "slide.png"))}
    names.update(csv=f"{figure_id}.csv", json=f"{figure_id}.json",
                 thumb=f"{figure_id}.thumb.png")
    return names


# --- book facts -------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _config() -> dict:
    import yaml
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8")) or {}


def base_url() -> str | None:
    """The site's base URL as committed in _config.yml (``html: baseurl:`` or
    ``sphinx: config: html_baseurl:``), if one is set.

    The environment variable a publishing build may set (KGBOOK_BASE_URL) is ignored on
    purpose: the bundles are committed files and must not change with the build's
    environment. The HTML pages put the build's own address into the citation they show.
    """
    cfg = _config()
    url = ((cfg.get("html") or {}).get("baseurl")
           or ((cfg.get("sphinx") or {}).get("config") or {}).get("html_baseurl"))
    return url.rstrip("/") + "/" if url else None


def book_facts() -> dict:
    cfg = _config()
    return {"title": cfg.get("title", ""), "authors": cfg.get("author", ""),
            "year": str(cfg.get("copyright", "")), "version": book_version()}


@lru_cache(maxsize=4)
def _declared(stamp: tuple) -> dict[str, dict]:
    """Figure id -> chapter, caption and alt text, from the figure cells of every chapter."""
    import jupytext
    out: dict[str, dict] = {}
    for path, _ in stamp:
        nb = jupytext.read(path)
        for cell in nb.cells:
            meta = cell.metadata.get("mystnb", {})
            name = meta.get("figure", {}).get("name", "")
            if name.startswith("fig-"):
                out[name] = {"chapter": Path(path).stem,
                             "caption": " ".join(str(meta["figure"].get("caption", "")).split()),
                             "alt": " ".join(str(meta.get("image", {}).get("alt", "")).split())}
    return out


def declared_figures() -> dict[str, dict]:
    files = sorted((ROOT / "chapters").glob("*.md"))
    return _declared(tuple((str(p), p.stat().st_mtime_ns) for p in files))


# --- data slice and sources -------------------------------------------------------------

def _ordered_keys(df: pd.DataFrame, col: str, order) -> list:
    return list(order) if order is not None else list(dict.fromkeys(df[col]))


def _add_labels(out: pd.DataFrame, pos: int, col: str, labels) -> None:
    """Add the English display label of coded keys (e.g. KGZ -> Kyrgyzstan) next to them."""
    shown = [F._label_for(k, labels) for k in out[col]]
    name = f"{col}_label"
    if name not in out.columns and shown != [str(k) for k in out[col]]:
        out.insert(pos, name, shown)


def data_slice(call) -> pd.DataFrame:
    """The rows and columns the recorded chart call actually plotted, in plotting order."""
    name, args, kw = call
    data = args[0] if args else kw.get("data", kw.get("events"))
    if name == "line_chart":
        g, x, y = kw["group"], kw["x"], kw["y"]
        keys = _ordered_keys(data, g, kw.get("order"))
        out = pd.concat([data[data[g] == k].sort_values(x) for k in keys])[[g, x, y]]
        _add_labels(out, 1, g, kw.get("labels"))
    elif name == "bar_chart":
        c, v = kw["category"], kw["value"]
        horizontal = kw.get("horizontal", True)
        if kw.get("sort", True):
            df = data.sort_values(v, ascending=not horizontal)
        else:
            df = data
        cols = [c] + (["year"] if "year" in df.columns and c != "year" else []) + [v]
        out = df[cols].copy()
        _add_labels(out, 1, c, kw.get("labels"))
    elif name == "stacked_bar_chart":
        x, y, s = kw["x"], kw["y"], kw["stack"]
        keys = _ordered_keys(data, s, kw.get("order"))
        out = data[data[s].isin(keys)].copy()
        out["_k"] = out[s].map(keys.index)
        out = out.sort_values([x, "_k"], kind="stable")[[x, s, y]]
        _add_labels(out, 2, s, kw.get("labels"))
    elif name == "timeline_chart":
        cols = [kw["date"], kw["label"]] + ([kw["group"]] if kw.get("group") else [])
        out = data.sort_values(kw["date"], kind="stable")[cols]
    elif name == "dumbbell_chart":
        out = data[[kw["category"], kw["start"], kw["end"]]]
    elif name == "panel_bar_chart":
        cols = [kw["panel"], kw["category"], kw["value"]]
        cols += [c for c in (kw.get("kind"), kw.get("text")) if c and c not in cols]
        out = data[cols]
    else:  # a chart function added later: every column passed
        out = data
    return out.reset_index(drop=True)


def _years(df: pd.DataFrame, call) -> dict | None:
    for col in df.columns:
        s = df[col]
        if col == "year" or (pd.api.types.is_integer_dtype(s) and s.between(1900, 2100).all()
                             and col == call[2].get("x")):
            s = pd.to_numeric(s, errors="coerce").dropna()
            if len(s):
                return {"first": int(s.min()), "last": int(s.max())}
        if pd.api.types.is_datetime64_any_dtype(s) and s.notna().any():
            return {"first": int(s.min().year), "last": int(s.max().year)}
    return None


def sources_of(source_line: str) -> list[dict]:
    """The data package tables whose citation appears in a figure's source line."""
    out = []
    for res in package()["resources"]:
        if res.get("citation") and res["citation"] in source_line:
            pubs = list(dict.fromkeys(s.get("publisher", "") for s in res.get("sources", [])))
            out.append({"table": res["name"], "title": res.get("title", ""),
                        "publisher": "; ".join(p for p in pubs if p),
                        "release": res.get("release", ""), "citation": res["citation"],
                        "bibkey": res.get("bibkey", ""),
                        "licenses": [lic.get("name", "") for lic in res.get("licenses", [])]})
    return out


def _unit(call, sources: list[dict], explicit: str | None) -> str | None:
    if explicit:
        return explicit
    kw = call[2]
    col = kw.get("y") or kw.get("value")
    if col:
        for src in sources:
            for f in package()["resources"][_res_index(src["table"])]["schema"]["fields"]:
                if f["name"] == col and "unit" in f and not f["unit"].startswith("see"):
                    return f["unit"]
    if kw.get("percent"):
        return "%"
    if kw.get("ylabel"):
        return kw["ylabel"]
    if call[0] == "timeline_chart":
        return "dates of events"
    return None


def _res_index(name: str) -> int:
    return [r["name"] for r in package()["resources"]].index(name)


# --- rendering ----------------------------------------------------------------------------

# OpenType layout tables: glyph substitution and positioning rules for text shaping. A PDF
# places every glyph itself (matplotlib has already laid the text out), so a font embedded
# in a PDF never uses them; subsetting them is most of the time of writing a PDF.
PDF_UNUSED_FONT_TABLES = ("GSUB", "GPOS", "GDEF", "kern")


class _LeanSubset:
    """fontTools' ``subset`` module as matplotlib's PDF backend sees it, except that the
    options it creates also drop :data:`PDF_UNUSED_FONT_TABLES` (from the embedded copy of
    the font only). The PDFs look the same, are smaller and are written about twice as
    fast."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        return getattr(self._module, name)

    def Options(self, *args, **kwargs):  # noqa: N802 - the name matplotlib calls
        options = self._module.Options(*args, **kwargs)
        options.drop_tables += [t for t in PDF_UNUSED_FONT_TABLES
                                if t not in options.drop_tables]
        return options


def _lean_pdf_fonts() -> None:
    from matplotlib.backends import _backend_pdf_ps

    if not isinstance(_backend_pdf_ps.subset, _LeanSubset):
        _backend_pdf_ps.subset = _LeanSubset(_backend_pdf_ps.subset)


_lean_pdf_fonts()


def _render(fig, fmt: str) -> bytes:
    """The figure as SVG or PDF (vector formats; no dates or software names inside)."""
    buf = io.BytesIO()
    meta = {"svg": _SVG_META, "pdf": _PDF_META}[fmt]
    fig.savefig(buf, format=fmt, dpi=EXPORT_DPI, metadata=meta, facecolor="white")
    return buf.getvalue()


def _png(image, dpi: int, **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", dpi=(dpi, dpi), **kw)
    return buf.getvalue()


def _raster(fig, dpi: float = EXPORT_DPI):
    """The figure drawn once at ``dpi`` on its white background, as an RGB image.

    Stored as RGB, not RGBA: every pixel is opaque, and the files are smaller and quicker
    to write than matplotlib's RGBA PNGs. (Slides and thumbnails are drawn at their own
    resolution: scaled down from the 300 dpi image they would be sharper-edged but, full of
    intermediate grey levels, twice as large.)"""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = FigureCanvasAgg(fig)
    shown = fig.dpi
    fig.set_dpi(dpi)
    try:
        raw, size = canvas.print_to_buffer()
    finally:
        fig.set_dpi(shown)
    image = Image.frombuffer("RGBA", size, raw, "raw", "RGBA", 0, 1)
    alpha = image.getextrema()[3]
    if alpha != (255, 255):
        raise ValueError(f"figure background is not opaque (alpha {alpha}): figures are "
                         "drawn on white")
    return image.convert("RGB")


def _slide(fig, footer: str) -> bytes:
    """The chart on a 1920 x 1080 canvas with the citation line under it."""
    from PIL import Image, ImageDraw, ImageFont
    w_in, h_in = fig.get_size_inches()
    room_w, room_h = SLIDE_PX[0], SLIDE_PX[1] - SLIDE_FOOTER_PX
    chart = _raster(fig, min(room_w / w_in, room_h / h_in))
    chart.thumbnail((room_w, room_h))  # guards against rounding up by one pixel
    slide = Image.new("RGB", SLIDE_PX, "white")
    slide.paste(chart, ((room_w - chart.width) // 2, (room_h - chart.height) // 2))
    draw = ImageDraw.Draw(slide)
    font_path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    size = 22
    font = ImageFont.truetype(str(font_path), size)
    while draw.textlength(footer, font=font) > SLIDE_PX[0] - 48 and size > 14:
        size -= 1
        font = ImageFont.truetype(str(font_path), size)
    y0 = SLIDE_PX[1] - SLIDE_FOOTER_PX
    draw.line([(24, y0 + 4), (SLIDE_PX[0] - 24, y0 + 4)], fill="#d9d9d9", width=2)
    draw.text((24, y0 + 16), footer, font=font, fill=F.MUTED)
    return _png(slide, SLIDE_DPI)


def _thumbnail(fig) -> bytes:
    """A 400 px wide, 64-colour thumbnail."""
    img = _raster(fig, THUMB_WIDTH_PX / fig.get_size_inches()[0])
    return _png(img.quantize(colors=64), 72, optimize=True)


def _bibtex_escape(text: str) -> str:
    return re.sub(r"([&%$#_])", r"\\\1", text)


def citation(figure_id: str, title: str, chapter: str, sources: list[dict]) -> dict:
    """Suggested citation of a figure, as text and as a BibTeX entry."""
    book = book_facts()
    path = f"chapters/{chapter}.html#{figure_id}"
    url = (base_url() or "") + path
    data = "; ".join(dict.fromkeys(s["citation"] for s in sources))
    text = (f"{book['authors']} ({book['year']}). {title} [figure {figure_id}]. In: "
            f"{book['title']}, version {book['version']}. {url}. Licence: CC BY 4.0."
            + (f" Data: {data}." if data else ""))
    key = "kgbook_" + figure_id.removeprefix("fig-").replace("-", "_")
    fields = {
        "author": "{" + book["authors"] + "}",
        "title": "{" + _bibtex_escape(title) + "}",
        "howpublished": f"Figure {figure_id} in \\emph{{{_bibtex_escape(book['title'])}}}, "
                        f"version {book['version']}",
        "year": book["year"],
        "url": url if base_url() else None,
        "note": "Licence CC BY 4.0" + (f". Data: {_bibtex_escape(data)}" if data else ""),
    }
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields.items() if v)
    return {"text": text, "bibtex": f"@misc{{{key},\n{body}\n}}\n",
            "short": f"{book['title']}, v{book['version']}, {figure_id}, CC BY 4.0"}


def _slide_footer(figure_id: str, chapter: str) -> str:
    book = book_facts()
    where = (base_url() or "") + f"chapters/{chapter}.html#{figure_id}" if base_url() else ""
    parts = [f"{translate.t('Figure')} {figure_id}", translate.t(book["title"]),
             f"{translate.t('version')} {book['version']}", "CC BY 4.0"]
    return " · ".join(parts + ([where] if where else []))


# --- the bundle ---------------------------------------------------------------------------

def write_bundle(fig, figure_id: str, *, unit: str | None = None,
                 directory: Path | None = None) -> Path:
    """Write ``<directory>/<figure_id>/`` (see module doc); returns the folder."""
    call = getattr(fig, "_kgbook_call", None)
    if call is None:
        raise ValueError(f"{figure_id}: not drawn by a kgbook chart function "
                         f"({', '.join(sorted(F.CHARTS))}); bundles need the chart call to "
                         "draw the Russian version")
    declared = declared_figures().get(figure_id)
    if declared is None:
        raise ValueError(f"{figure_id}: no figure cell in chapters/*.md declares this id "
                         "(mystnb: figure: name: ...)")
    chapter = declared["chapter"]
    out = Path(directory or figures_dir()) / figure_id
    names = bundle_files(figure_id)
    files: dict[str, bytes] = {}
    labels: dict[str, dict] = {}
    drawn = {}
    try:
        for lang in LANGS:
            new, used = F.redraw(fig, lang)
            drawn[lang] = new
            F.check_text_contrast(new, f"{figure_id} ({lang})")
            with translate.language(lang, where=figure_id) as extra:
                footer = _slide_footer(figure_id, chapter)
                texts = {k: translate.t(call[2].get(k)) for k in ("title", "subtitle")}
            for key, tr in {**used, **extra}.items():
                labels.setdefault(key, {})[lang] = tr
            if lang == "en":
                files["en_svg"] = _render(new, "svg")
                if files["en_svg"] != _render(fig, "svg"):
                    raise ValueError(
                        f"{figure_id}: the figure was changed after the kg.{call[0]}(...) call "
                        "(for example an axis formatter, legend or limits set in the chapter), "
                        "so its Russian version would differ. Pass the change as an option of "
                        f"kg.{call[0]} instead (axis_format=, legend=, legend_ncol=, ylim=...)")
            for kind in ("svg", "pdf"):
                if f"{lang}_{kind}" not in files:
                    files[f"{lang}_{kind}"] = _render(new, kind)
            files[f"{lang}_png"] = _png(_raster(new), EXPORT_DPI)
            files[f"{lang}_slide"] = _slide(new, footer)
            if lang == "en":
                files["thumb"] = _thumbnail(new)
            drawn[lang + "_texts"] = texts
    finally:
        for v in drawn.values():
            if not isinstance(v, dict):
                plt.close(v)
    table = data_slice(call)
    files["csv"] = table.to_csv(index=False, lineterminator="\n", date_format="%Y-%m-%d",
                                float_format=None).encode("utf-8")
    en_texts, ru_texts = drawn["en_texts"], drawn["ru_texts"]
    sources = sources_of(call[2].get("source", ""))
    the_unit = _unit(call, sources, unit)
    if the_unit:
        with translate.language("ru", where=figure_id) as extra:
            ru_unit = translate.t(the_unit)
        for key, tr in extra.items():
            labels.setdefault(key, {})["ru"] = tr
            labels[key]["en"] = key
    png_px = png_size(files["en_png"])
    meta = {
        "id": figure_id,
        "chapter": chapter,
        "html": {"path": f"chapters/{chapter}.html#{figure_id}",
                 "url": (base_url() + f"chapters/{chapter}.html#{figure_id}")
                 if base_url() else None},
        "title": {"en": en_texts["title"], "ru": ru_texts["title"]},
        "subtitle": {"en": en_texts["subtitle"], "ru": ru_texts["subtitle"]},
        "caption": {"en": declared["caption"]},
        "alt": {"en": declared["alt"]},
        "unit": {"en": the_unit, "ru": ru_unit} if the_unit else None,
        "years": _years(table, call),
        "chart": call[0],
        "sources": sources,
        "licence": {"figure": FIGURE_LICENCE,
                    "data": sorted({lic for s in sources for lic in s["licenses"]})},
        "citation": citation(figure_id, en_texts["title"], chapter, sources),
        "book": book_facts(),
        "files": {**{lang: {k: names[f"{lang}_{k}"] for k in ("png", "svg", "pdf", "slide")}
                     for lang in LANGS},
                  "data": names["csv"], "metadata": names["json"], "thumbnail": names["thumb"]},
        "images": {"png": {"dpi": EXPORT_DPI, "width": png_px[0], "height": png_px[1]},
                   "slide": {"dpi": SLIDE_DPI, "width": SLIDE_PX[0], "height": SLIDE_PX[1]}},
        "data": {"rows": len(table), "columns": list(map(str, table.columns))},
        "labels": [{"en": k, "ru": v.get("ru")} for k, v in sorted(labels.items())],
    }
    files["json"] = (json.dumps(meta, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    out.mkdir(parents=True, exist_ok=True)
    for role, name in names.items():
        path = out / name
        if not path.exists() or path.read_bytes() != files[role]:
            path.write_bytes(files[role])
    for stray in out.iterdir():
        if stray.name not in names.values():
            stray.unlink()
    return out


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG from its first 24 bytes (the IHDR chunk)."""
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


# --- make figures -------------------------------------------------------------------------

def chapters_in_toc() -> list[str]:
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    return re.findall(r"(?:root|file):\s*chapters/([\w-]+)", toc)


def chapters_with_figures() -> list[str]:
    return [n for n in chapters_in_toc()
            if "save_figure(" in (ROOT / "chapters" / f"{n}.md").read_text(encoding="utf-8")]


def run_chapters(chapters: list[str] | None = None, out: Path | None = None,
                 workdir: Path | None = None) -> list[str]:
    """Execute chapters headless as a reader would (see :mod:`kgbook.notebooks`), writing
    bundles to ``out`` (default ``figures/``); with ``workdir`` the executed notebooks stay."""
    from .notebooks import run_chapters as run

    chapters = chapters or chapters_with_figures()
    run(chapters, figures=out or figures_dir(), workdir=workdir)
    return chapters


def prune(directory: Path | None = None) -> list[str]:
    """Remove files under figures/ that belong to no declared figure; returns what went."""
    folder = Path(directory or figures_dir())
    ids = set(declared_figures())
    gone = []
    for path in sorted(folder.iterdir()) if folder.exists() else []:
        if path.is_dir() and path.name in ids:
            continue
        gone.append(path.name)
        if path.is_dir():
            import shutil
            shutil.rmtree(path)
        else:
            path.unlink()
    return gone


def main(argv: list[str] | None = None) -> int:
    import argparse
    import time
    ap = argparse.ArgumentParser(description="Regenerate every figure bundle in figures/.")
    ap.add_argument("chapters", nargs="*", help="chapters to run (default: all with figures)")
    ap.add_argument("--out", type=Path, help="write bundles here instead of figures/")
    ap.add_argument("--workdir", type=Path,
                    help="keep the executed notebooks in WORKDIR/chapters/ (default: discard)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    done = run_chapters(args.chapters or None, args.out, args.workdir)
    gone = prune(args.out) if not args.chapters else []
    folder = Path(args.out or figures_dir())
    n = sum(1 for p in folder.iterdir() if p.is_dir())
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    print(f"{n} figure bundles from {len(done)} chapters in {folder} "
          f"({size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s"
          + (f"; removed {', '.join(gone)}" if gone else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
