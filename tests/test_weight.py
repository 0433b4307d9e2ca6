"""Light pages (kgbook.sphinx_assets): every chapter page with all the assets it references
stays under 600 KB gzip-compressed, no source maps or unused bundles are shipped, icons are
still drawn, and every page has a meta description."""

from __future__ import annotations

import re

import pytest
from conftest import toc_chapters

from kgbook.bench import page_assets, page_weight

LIMIT_GZIP = 600 * 1024


@pytest.mark.parametrize("chapter", toc_chapters())
def test_chapter_page_weight(book, chapter):
    page = book.html / "chapters" / f"{chapter}.html"
    weight = page_weight(page, book.html)
    assert not weight["missing"], f"{chapter}: references missing files {weight['missing']}"
    assert weight["gzip_bytes"] <= LIMIT_GZIP, (
        f"{chapter}: {weight['gzip_bytes'] / 1024:.0f} KB gzip with its assets "
        f"(limit 600 KB); largest: {weight['largest']}")


def test_no_source_maps_or_unused_bundles(book):
    maps = sorted(p.relative_to(book.html).as_posix() for p in book.html.rglob("*.map"))
    assert not maps, f"source maps shipped: {maps}"
    assert not (book.html / "_static" / "scripts" / "fontawesome.js").exists()
    assert not (book.html / "_static" / "vendor" / "fontawesome").exists()
    for path in list(book.html.rglob("*.js")) + list(book.html.rglob("*.css")):
        assert "sourceMappingURL" not in path.read_text(errors="replace"), path
    big = [(p.stat().st_size, p.name) for p in book.html.rglob("*") if p.is_file()
           and p.suffix in (".js", ".css") and p.stat().st_size > 1_000_000]
    assert not big, f"multi-megabyte bundles shipped: {big}"


def test_icons_drawn_without_font_awesome_script(book):
    """Every Font Awesome icon a page uses is drawn by an inline SVG in a stylesheet the page
    loads (the 1.5 MB script that used to draw them is gone)."""
    used_anywhere = set()
    for page in book.html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "fontawesome.js" not in text, page
        if 'http-equiv="Refresh"' in text:
            continue  # a redirect, no content
        used = set()
        for attr in re.findall(r'class="([^"]*)"', text):
            classes = attr.split()
            if {"fa-solid", "fas", "fa-regular", "far", "fa-brands", "fab"} & set(classes):
                used |= {c for c in classes if c.startswith("fa-") and c not in
                         ("fa-solid", "fa-regular", "fa-brands", "fa-lg", "fa-fw")}
        files, _ = page_assets(page, book.html)
        css = "".join(p.read_text(encoding="utf-8") for p in files if p.suffix == ".css")
        for icon in used:
            assert re.search(rf"\.{icon}::before\{{content:\"\";[^}}]*mask:url\(\"data:image/svg",
                             css), f"{page.name}: icon {icon} is not drawn by its stylesheets"
        used_anywhere |= used
    assert {"fa-bars", "fa-magnifying-glass", "fa-sun", "fa-moon"} <= used_anywhere


def test_every_page_has_a_meta_description(book):
    for page in book.html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        found = re.findall(r'<meta name="description" content="([^"]*)"', text)
        assert len(found) == 1, f"{page.name}: {len(found)} meta descriptions"
        assert len(found[0]) >= 20, f"{page.name}: {found[0]!r}"


def test_admonition_icons_are_drawn_without_the_icon_font(book):
    """The theme draws admonition icons as icon-font glyphs, and the font is not shipped:
    every admonition class used in the book must get an SVG mask instead."""
    from kgbook.sphinx_assets import ICON_CSS

    css = (book.html / "_static" / ICON_CSS).read_text(encoding="utf-8")
    used = set()
    for page in book.html.rglob("*.html"):
        for attr in re.findall(r'class="([^"]*)"', page.read_text()):
            classes = attr.split()
            if "admonition" in classes:
                used.update(c for c in classes if c != "admonition"
                            and not c.startswith(("kg-", "sd-")))
    assert "tip" in used, "expected the Key findings boxes (admonition tip)"
    for cls in used:
        rule = re.search(rf"\.admonition\.{re.escape(cls)}>\.admonition-title::after\{{([^}}]*)\}}",
                         css)
        assert rule and "mask:url(" in rule.group(1), f"no icon for admonitions of class {cls}"


def test_chart_images_are_palette_pngs(book):
    """Every chart PNG in the site is stored with a 256-colour palette (PNG colour type 3)."""
    images = sorted((book.html / "_images").glob("*.png"))
    assert images
    rgb = [p.name for p in images if p.read_bytes()[25] != 3]
    assert not rgb, f"chart images left as RGB(A): {rgb}"


def test_quantize_all_converts_caches_and_leaves_palettes_alone(tmp_path):
    from PIL import Image

    from kgbook.sphinx_assets import quantize_all

    paths = []
    for i in range(3):
        img = Image.new("RGB", (120, 80), "white")
        img.paste((30 * i, 90, 200), (10, 10, 60 + 10 * i, 50))
        path = tmp_path / f"chart{i}.png"
        img.save(path)
        paths.append(path)
    palette = tmp_path / "already.png"
    Image.new("P", (10, 10)).save(palette)
    before = palette.read_bytes()
    originals = {p: p.read_bytes() for p in paths}
    cache = tmp_path / "cache"
    quantize_all(paths + [palette], cache)
    for path in paths:
        with Image.open(path) as im:
            assert im.mode == "P", path.name
    assert palette.read_bytes() == before
    assert len(list(cache.glob("*.png"))) == 3
    done = {p: p.read_bytes() for p in paths}
    for path, raw in originals.items():  # a fresh copy (as Sphinx makes) comes from the cache
        path.write_bytes(raw)
    quantize_all(paths, cache)
    assert {p: p.read_bytes() for p in paths} == done
    # the cache is keyed by the original's SHA-256: a planted entry is what comes back
    import hashlib

    planted = cache / (hashlib.sha256(originals[paths[0]]).hexdigest() + ".png")
    planted.write_bytes(before)
    paths[0].write_bytes(originals[paths[0]])
    quantize_all(paths[:1], cache)
    assert paths[0].read_bytes() == before
