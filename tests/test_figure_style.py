"""Figures read for everyone: meaningful alt text, white background, AA text contrast.

* Every ``<img>`` in every page of the built site has alt text of several words that is not
  a file name or a slug (an image may instead be marked decorative: ``alt=""`` with
  ``role="presentation"``, or ``aria-hidden="true"`` on it or on an ancestor, as the gallery
  does for thumbnails whose figure title is the link next to them).
* Every exported PNG has an opaque white background (its four corners), the style draws on
  white, and the book's style sheet keeps figure images white and undimmed in dark mode
  (checked in a browser by ``test_browser.py``; here, that the rule is linked on every page).
* Every colour the figure style uses for text has at least 4.5:1 contrast on white
  (WCAG 2.1 AA for normal-size text), which covers the direct labels drawn in the series
  colours of countries, sexes and the general sequence.
"""

from __future__ import annotations

import inspect
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import FIGURES
from matplotlib.colors import to_rgb
from PIL import Image

import kgbook.figures as F

AA_TEXT = 4.5
TEXT_RC = ("text.color", "axes.labelcolor", "axes.titlecolor", "xtick.color",
           "xtick.labelcolor", "ytick.color", "ytick.labelcolor", "legend.labelcolor")


def luminance(color) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in to_rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b="white") -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_formula():
    assert contrast("black") == pytest.approx(21.0)
    assert contrast("white") == pytest.approx(1.0)
    assert contrast("#767676") == pytest.approx(4.54, abs=0.01)  # the usual AA boundary grey


def text_colours() -> dict[str, str]:
    """Every colour the style can use for text, named by where it comes from."""
    found = {"INK": F.INK, "MUTED": F.MUTED}
    for key in TEXT_RC:
        value = F.STYLE.get(key)
        if isinstance(value, str) and value not in ("inherit", "auto"):
            found[f"STYLE[{key!r}]"] = value
    # direct labels (line ends, legends drawn as text) use the series colour
    for table in ("COUNTRY_COLORS", "SEX_COLORS"):
        for key, value in getattr(F, table).items():
            found[f"{table}[{key!r}]"] = value
    for i, value in enumerate(F.SEQUENCE):
        found[f"SEQUENCE[{i}]"] = value
    # colours chart functions take as defaults and draw text with (e.g. dumbbell ends)
    for name, fn in inspect.getmembers(F, inspect.isfunction):
        if fn.__module__ != F.__name__:
            continue
        for pname, param in inspect.signature(fn).parameters.items():
            if pname.endswith("color") and isinstance(param.default, str):
                found[f"{name}({pname}=)"] = param.default
    return found


def _text_colour(value: str) -> str:
    """The colour a label is actually drawn in (the style may darken series colours)."""
    darken = getattr(F, "text_color", None)
    return darken(value) if callable(darken) else value


def test_text_on_figures_meets_aa_contrast():
    colours = text_colours()
    assert len(colours) > 20
    low = {where: f"{value} -> {_text_colour(value)}: {contrast(_text_colour(value)):.2f}:1"
           for where, value in colours.items() if contrast(_text_colour(value)) < AA_TEXT}
    assert not low, f"text colours below {AA_TEXT}:1 on white: {low}"


def test_style_draws_on_white():
    for key in ("figure.facecolor", "axes.facecolor", "savefig.facecolor"):
        assert to_rgb(F.STYLE[key]) == (1.0, 1.0, 1.0), key


def _pngs() -> list[Path]:
    return sorted(FIGURES.rglob("*.png"))


def test_every_exported_png_has_a_white_background(book):
    pngs = _pngs()
    assert pngs, f"no PNG under {FIGURES}"
    bad = {}
    for path in pngs:
        with Image.open(path) as im:
            w, h = im.size
            # decode once; a 1x1 crop per corner is converted, not the whole image
            corners = {im.crop((x, y, x + 1, y + 1)).convert("RGBA").getpixel((0, 0))
                       for x, y in ((0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1))}
        if corners != {(255, 255, 255, 255)}:
            bad[path.relative_to(FIGURES).as_posix()] = sorted(corners)
    assert not bad, f"PNG corners that are not opaque white: {bad}"


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class _Imgs(HTMLParser):
    """Images (with whether an ancestor hides them from assistive technology) and styles."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.imgs: list[dict] = []
        self.css: list[str] = []
        self._open: list[tuple[str, bool]] = []  # (tag, aria-hidden)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            if any(hidden for _, hidden in self._open):
                attrs["aria-hidden"] = "true"  # inside an aria-hidden element
            self.imgs.append(attrs)
        if tag == "link" and attrs.get("rel") == "stylesheet":
            self.css.append(attrs.get("href", ""))
        if tag not in VOID:
            self._open.append((tag, attrs.get("aria-hidden") == "true"))

    def handle_endtag(self, tag):
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i][0] == tag:
                del self._open[i:]
                break


def _alt_problem(img: dict) -> str | None:
    alt = (img.get("alt") or "").strip()
    decorative = img.get("aria-hidden") == "true" or img.get("role") in ("presentation",
                                                                          "none")
    if "alt" not in img:
        return "no alt attribute"
    if not alt:
        return None if decorative else "empty alt on an image that is not marked decorative"
    stem = Path(img.get("src", "")).stem.lower()
    if re.search(r"\.(png|svg|jpe?g|gif|webp|pdf)\b", alt, flags=re.I):
        return "alt text is a file name"
    if alt.lower() in (stem, stem.replace("-", " "), stem.replace("_", " ")):
        return "alt text repeats the file name"
    if re.fullmatch(r"[\w.-]+", alt) or alt.lower().startswith("fig-"):
        return "alt text is a slug"
    if len(alt.split()) < 4:
        return "alt text has fewer than four words"
    return None


def test_every_image_has_meaningful_alt_text(book):
    problems = []
    images = 0
    for page in sorted(book.html.rglob("*.html")):
        parsed = _Imgs()
        parsed.feed(page.read_text(encoding="utf-8"))
        for img in parsed.imgs:
            images += 1
            if why := _alt_problem(img):
                problems.append(f"{page.relative_to(book.html)}: {img.get('src')}: {why} "
                                f"({img.get('alt')!r})")
    assert images >= 20, f"only {images} images in the site"
    assert not problems, "\n".join(problems)


def test_alt_checker_rejects_bad_alt_text():
    assert _alt_problem({"src": "a/fig-x.png"}) == "no alt attribute"
    assert _alt_problem({"src": "a/fig-x.png", "alt": "fig-x.png"})
    assert _alt_problem({"src": "a/fig-gdp-growth.png", "alt": "fig gdp growth"})
    assert _alt_problem({"src": "a.png", "alt": "gdp_growth_chart"})
    assert _alt_problem({"src": "a.png", "alt": "Growth chart"})
    assert _alt_problem({"src": "a.png", "alt": ""})
    assert _alt_problem({"src": "a.png", "alt": "", "aria-hidden": "true"}) is None
    hidden = _Imgs()
    hidden.feed('<a aria-hidden="true"><img src="t.png" alt=""></a><p><img src="u.png" alt="">')
    assert [_alt_problem(i) for i in hidden.imgs] == [
        None, "empty alt on an image that is not marked decorative"]
    assert _alt_problem({"src": "a.png", "alt": "Line chart of remittances rising "
                                                "to a quarter of GDP"}) is None


def test_dark_mode_rule_is_linked_on_every_page(book):
    css = book.html / "_static" / "kgbook-a11y.css"
    assert css.is_file()
    rule = css.read_text(encoding="utf-8")
    assert 'data-theme="dark"' in rule and "#ffffff" in rule and "filter: none" in rule
    pages = [p for p in sorted(book.html.rglob("*.html")) if "<body" in p.read_text()
             and 'http-equiv="Refresh"' not in p.read_text()]
    selector = 'html[data-theme="dark"] .bd-content figure img'
    assert selector in rule
    missing = []
    for page in pages:
        parsed = _Imgs()
        parsed.feed(page.read_text(encoding="utf-8"))
        # linked as is, or inside a bundle of style sheets (kgbook.sphinx_assets)
        sheets = [(book.html / h.split("?")[0].lstrip("/") if h.startswith("/")
                   else page.parent / h.split("?")[0]).resolve()
                  for h in parsed.css if h and "://" not in h]
        if not any(p.is_file() and selector in p.read_text(encoding="utf-8") for p in sheets):
            missing.append(page.relative_to(book.html).as_posix())
    assert not missing, f"pages whose style sheets lack the dark-mode figure rule: {missing}"
