"""Figure bundles: complete in both languages, valid metadata, exact images, one code path.

Every figure in the HTML has a folder ``figures/<id>/`` with PNG (300 dpi), SVG, PDF and a
1920 x 1080 slide in English and Russian, the data slice (CSV), a metadata JSON valid
against ``kgbook/figure_bundle.schema.json`` and a thumbnail; the "Download / cite" block
under the figure links to all of them and every link resolves in the built site; the
translation table has no missing and no unused key; ``make figures`` (``python -m
kgbook.bundles``) regenerates the committed bundles byte for byte.
"""

from __future__ import annotations

import csv
import html
import json
import os
import posixpath
import re
import subprocess
import sys
import tomllib
import zlib
from pathlib import Path

import jsonschema
import matplotlib.pyplot as plt
import pandas as pd
import pytest
from conftest import FIGURES, ROOT, declared_figures, toc_chapters

import kgbook as kg
from kgbook import bundles, translate

SCHEMA = json.loads(bundles.SCHEMA_PATH.read_text(encoding="utf-8"))
DECLARED = {f: c for c in toc_chapters() for f in declared_figures(c)}
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def _metas() -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(FIGURES.glob("fig-*/fig-*.json"))}


def _png_info(path: Path) -> dict:
    """Width, height and dots per inch (from the pHYs chunk) of a PNG file."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    info, pos = {}, 8
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        assert zlib.crc32(kind + body) == int.from_bytes(data[pos + 8 + n:pos + 12 + n], "big")
        if kind == b"IHDR":
            info["size"] = (int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big"))
        elif kind == b"pHYs":
            ppm_x, ppm_y, unit = (int.from_bytes(body[:4], "big"),
                                  int.from_bytes(body[4:8], "big"), body[8])
            assert unit == 1 and ppm_x == ppm_y, f"{path.name}: pHYs not in metres or not square"
            info["dpi"] = round(ppm_x * 0.0254)
        elif kind in (b"tIME", b"tEXt", b"iTXt", b"zTXt"):
            info.setdefault("text", []).append(kind.decode())
        pos += 12 + n
    return info


def test_every_declared_figure_has_a_complete_bundle():
    assert DECLARED, "no figure declared in the chapters"
    for fid in DECLARED:
        folder = FIGURES / fid
        want = set(bundles.bundle_files(fid).values())
        have = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
        assert have == want, f"{fid}: missing {sorted(want - have)}, extra {sorted(have - want)}"
        for name in want:
            assert name.startswith(fid + "."), name
            assert (folder / name).stat().st_size > 100, f"{fid}/{name} is nearly empty"


def test_metadata_validates_against_the_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    validator = jsonschema.Draft202012Validator(SCHEMA)
    metas = _metas()
    assert set(metas) == set(DECLARED)
    for fid, meta in metas.items():
        errors = sorted(validator.iter_errors(meta), key=lambda e: list(e.path))
        assert not errors, f"{fid}.json: " + "; ".join(
            f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5])
        assert meta["id"] == fid and meta["chapter"] == DECLARED[fid]
        assert meta["html"]["path"] == f"chapters/{DECLARED[fid]}.html#{fid}"
        assert meta["book"]["version"] == VERSION
        listed = {f for lang in ("en", "ru") for f in meta["files"][lang].values()}
        listed |= {meta["files"][k] for k in ("data", "metadata", "thumbnail")}
        assert listed == set(bundles.bundle_files(fid).values())
        table = pd.read_csv(FIGURES / fid / meta["files"]["data"])
        assert len(table) == meta["data"]["rows"] and list(table.columns) == meta["data"][
            "columns"]
        assert fid in meta["citation"]["text"] and fid in meta["citation"]["bibtex"]


def test_a_broken_metadata_file_is_refused():
    meta = next(iter(_metas().values()))
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for breakage in ({"title": {"en": meta["title"]["en"], "ru": meta["title"]["en"]}},
                     {"files": {**meta["files"], "en": {}}}, {"sources": []},
                     {"images": {**meta["images"], "png": {"dpi": 10, "width": 1,
                                                           "height": 1}}}):
        assert list(validator.iter_errors({**meta, **breakage})), breakage


def test_images_have_the_expected_pixel_size_and_dpi():
    for fid, meta in _metas().items():
        for lang in ("en", "ru"):
            png = _png_info(FIGURES / fid / meta["files"][lang]["png"])
            assert png["dpi"] == 300, f"{fid} {lang}: {png.get('dpi')} dpi"
            assert png["size"][0] == 3000 and png["size"][1] >= 1687, (fid, png["size"])
            slide = _png_info(FIGURES / fid / meta["files"][lang]["slide"])
            assert slide["size"] == (1920, 1080), (fid, lang, slide["size"])
            assert slide["dpi"] == 144, "slide must fill a 13.33 x 7.5 in slide"
            assert "text" not in png and "text" not in slide, f"{fid}: text chunks in PNG"
            svg = (FIGURES / fid / meta["files"][lang]["svg"]).read_text(encoding="utf-8")
            assert "<dc:date>" not in svg and "Matplotlib v" not in svg
            pdf = (FIGURES / fid / meta["files"][lang]["pdf"]).read_bytes()
            assert b"/CreationDate" not in pdf and b"/Producer" not in pdf
        en_png = _png_info(FIGURES / fid / meta["files"]["en"]["png"])
        assert en_png["size"] == (meta["images"]["png"]["width"],
                                  meta["images"]["png"]["height"])
        thumb = _png_info(FIGURES / fid / meta["files"]["thumbnail"])
        assert thumb["size"][0] == bundles.THUMB_WIDTH_PX
        assert (FIGURES / fid / meta["files"]["thumbnail"]).stat().st_size < 40_000


def test_russian_figures_carry_russian_text_and_english_ones_english():
    for fid, meta in _metas().items():
        for lang in ("en", "ru"):
            svg = (FIGURES / fid / meta["files"][lang]["svg"]).read_text(encoding="utf-8")
            for field in ("title", "subtitle"):
                assert html.escape(meta[field][lang], quote=False) in svg, (fid, lang, field)
        ru = (FIGURES / fid / meta["files"]["ru"]["svg"]).read_text(encoding="utf-8")
        assert html.escape(meta["title"]["en"], quote=False) not in ru
        assert "Source:" not in ru and "Sources:" not in ru


def test_translation_table_has_no_missing_or_unused_keys():
    table = translate.table("ru")
    used: dict[str, str] = {}
    for fid, meta in _metas().items():
        for label in meta["labels"]:
            assert label["ru"], f"{fid}: label {label['en']!r} has no Russian entry"
            assert table.get(label["en"]) == label["ru"], (
                f"{fid}: label {label['en']!r} differs from the table: rerun 'make figures'")
            used[label["en"]] = label["ru"]
    unused = sorted(set(table) - set(used))
    assert not unused, f"entries in {translate.table_path('ru').name} no figure uses: {unused}"


@pytest.mark.parametrize("content, message", [
    ("en,ru\nTotal,Всего\nTotal,Итого\n", "line 3: duplicate key"),
    ("en,ru\n\"GDP, {0}\",ВВП\n", "placeholders"),
    ("en,ru\nGDP 2023,ВВП\n", "contains digits"),
    ("en,ru\nTotal,\n", "line 2, column translation"),
    ("\ufeffen,ru\nTotal,Всего\n", "byte-order mark"),
    ("english,russian\nTotal,Всего\n", "line 1: header"),
])
def test_a_malformed_translation_table_is_refused(tmp_path, content, message):
    path = tmp_path / "figure_labels_ru.csv"
    path.write_bytes(content.encode("utf-8"))
    with pytest.raises(translate.TranslationError, match=re.escape(message)):
        translate._load(str(path), 0.0)


def test_a_label_missing_from_the_table_stops_the_figure_naming_the_key(monkeypatch):
    monkeypatch.delenv("KGBOOK_MISSING_LABELS", raising=False)
    data = pd.DataFrame({"year": [2020, 2021], "v": [1.0, 2.0], "g": ["KGZ", "KGZ"]})
    fig, _ = kg.line_chart(data, x="year", y="v", group="g", title="A title nobody translated",
                           subtitle="% of GDP", source="Source: nowhere.")
    try:
        with pytest.raises(translate.MissingTranslation) as err:
            kg.figures.redraw(fig, "ru")
        assert "'A title nobody translated'" not in str(err.value)  # listed as CSV rows
        assert "A title nobody translated," in str(err.value)
        assert "nowhere," in str(err.value)
        assert "figure_labels_ru.csv" in str(err.value)
    finally:
        plt.close("all")


def test_changing_a_figure_after_the_chart_call_is_refused(tmp_path):
    fid = next(iter(DECLARED))
    data = pd.DataFrame({"year": [2020, 2021], "v": [1.0, 2.0], "g": ["KGZ", "KGZ"]})
    fig, ax = kg.line_chart(data, x="year", y="v", group="g", title="Real GDP growth",
                            subtitle="% of GDP", source="Source:.")
    ax.set_ylim(0, 99)  # not reproducible in the Russian redraw
    try:
        with pytest.raises(ValueError, match="changed after the kg.line_chart"):
            kg.save_figure(fig, fid, directory=tmp_path)
    finally:
        plt.close("all")


def test_numbers_are_written_the_russian_way():
    with translate.language("ru"):
        assert translate.t("GDP per capita, 2023") == "ВВП на душу населения, 2023"
        assert translate.t("12,345.5") == "12\u00a0345,5"
        assert translate.t("Claim: more than 25.5%") == "Утверждение: более 25,5%"
        assert translate.localize("Sep 2022") == "сент. 2022"


def _hrefs_after(page: str, fid: str) -> tuple[str, list[str]]:
    start = page.index(f'id="{fid}"')
    end = page.index("</figure>", start)
    block = page[end + len("</figure>"):]
    assert block.lstrip().startswith('<details class="kg-fig-dl">'), (
        f"{fid}: no download block right after the figure")
    block = block[:block.index("</details>")]
    return block, re.findall(r'href="([^"]+)"', block)


def test_every_figure_in_the_html_has_a_download_block_whose_links_resolve(book):
    seen = set()
    for page_path in sorted((book.html / "chapters").glob("*.html")):
        page = page_path.read_text(encoding="utf-8")
        for fid in re.findall(r'<figure[^>]*\bid="(fig-[a-z0-9-]+)"', page):
            seen.add(fid)
            block, hrefs = _hrefs_after(page, fid)
            meta = json.loads((FIGURES / fid / f"{fid}.json").read_text(encoding="utf-8"))
            assert len(hrefs) == 10, f"{fid}: {len(hrefs)} links"
            assert {posixpath.basename(h) for h in hrefs} == set(
                bundles.bundle_files(fid).values()) - {f"{fid}.thumb.png"}
            for href in hrefs:
                target = (page_path.parent / href).resolve()
                assert target.is_file(), f"{page_path.name}: {href} does not resolve"
                assert target.read_bytes() == (FIGURES / fid / target.name).read_bytes()
            assert html.escape(meta["citation"]["text"].split(" chapters/")[0]) in block
            assert "<summary>Download / cite this figure" in block
    assert seen == set(DECLARED), f"figures not in the HTML: {set(DECLARED) - seen}"


def test_gallery_lists_every_figure_with_thumbnail_and_downloads(book):
    page_path = book.html / "chapters" / "gallery.html"
    page = page_path.read_text(encoding="utf-8")
    items = re.findall(r'<li class="kg-gallery-item" id="gallery-(fig-[a-z0-9-]+)"', page)
    assert sorted(items) == sorted(DECLARED)
    for src in re.findall(r'<img src="([^"]+)"[^>]*loading="lazy"', page):
        assert (page_path.parent / src).resolve().is_file(), src
    assert len(re.findall(r'loading="lazy"', page)) == len(DECLARED)
    for fid in DECLARED:
        assert f'{DECLARED[fid]}.html#{fid}"' in page, f"gallery: no link to {fid}"


def test_make_figures_regenerates_the_committed_bundles_byte_for_byte(tmp_path):
    """The command behind 'make figures', run for one chapter into an empty folder, gives
    exactly that chapter's files in figures/. (All chapters: the same runner in the session's
    second run, compared file by file in tests/test_determinism.py.)"""
    out = tmp_path / "figures"
    env = {k: v for k, v in os.environ.items() if k not in {"KGBOOK_MISSING_LABELS"}}
    proc = subprocess.run([sys.executable, "-m", "kgbook.bundles", "sse", "--out", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]

    def tree(folder: Path) -> dict[str, bytes]:
        return {p.relative_to(folder).as_posix(): p.read_bytes()
                for p in sorted(folder.rglob("*")) if p.is_file()}

    second = tree(out)
    first = {k: v for k, v in tree(FIGURES).items() if k.split("/")[0] in
             {name.split("/")[0] for name in second}}
    assert second and first.keys() == second.keys()
    changed = [name for name in first if first[name] != second[name]]
    assert not changed, f"regenerated files differ: {changed[:10]}"


def test_translation_table_is_sorted_and_readable():
    path = translate.table_path("ru")
    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    keys = [r[0] for r in rows[1:]]
    assert keys == sorted(keys, key=str.casefold), "keep the table sorted by its English key"
