"""Figure labels in other languages, looked up in one translation table.

Chart functions pass every text they put on a figure through :func:`t`. In English nothing
changes; in Russian the text is looked up in ``kgbook/translations/figure_labels_ru.csv``.

The table is keyed on the English text with every number replaced by a numbered
placeholder, so one row serves every year or value the data put into a title:
``"GDP per capita, 2023"`` is looked up as ``"GDP per capita, {0}"`` and the number is put
back in Russian style (decimal comma, non-breaking space between thousands). A text with
no letters (a year, a value label) is not looked up, only reformatted.

A key missing from the table is collected, not guessed: :func:`language` raises
:class:`MissingTranslation` naming every missing key once the figure is drawn. With
``KGBOOK_MISSING_LABELS=<file>`` set, missing keys are appended to that file instead (a
translator's aid: run ``make figures`` once, translate the list, add it to the table).
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

TABLE_DIR = Path(__file__).resolve().parent / "translations"
LANGUAGES = ("en", "ru")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
PLACEHOLDER = re.compile(r"\{(\d+)\}")
LETTER = re.compile(r"[^\W\d_]")
NBSP = "\u00a0"
MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
MONTHS_RU = ["янв.", "февр.", "март", "апр.", "май", "июнь", "июль", "авг.", "сент.", "окт.",
             "нояб.", "дек."]
_MONTH = re.compile(r"\b(" + "|".join(MONTHS_EN) + r")\b")


class TranslationError(ValueError):
    """The translation table itself is malformed."""


class MissingTranslation(KeyError):
    """Texts used on a figure that have no entry in the translation table."""

    def __init__(self, lang: str, keys: list[str], where: str = ""):
        self.lang, self.keys = lang, keys
        path = table_path(lang).relative_to(TABLE_DIR.parents[1])
        lines = "\n".join(f"  {_csv_line([k, ''])}" for k in keys)
        super().__init__(
            f"{len(keys)} figure label(s){' in ' + where if where else ''} have no '{lang}' "
            f"entry in {path}. Add these rows (en,{lang}) with the translation filled in:\n"
            f"{lines}")

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.args[0]


def _csv_line(cells: list[str]) -> str:
    import io
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(cells)
    return buf.getvalue()


def table_path(lang: str) -> Path:
    return TABLE_DIR / f"figure_labels_{lang}.csv"


def key_of(text: str) -> tuple[str, list[str]]:
    """The lookup key of a text (numbers replaced by {0}, {1}, ...) and the numbers."""
    numbers: list[str] = []

    def repl(m: re.Match) -> str:
        numbers.append(m.group())
        return "{" + str(len(numbers) - 1) + "}"

    return NUMBER.sub(repl, text), numbers


def ru_number(token: str) -> str:
    """A number written the English way ('1,234.5') written the Russian way ('1 234,5')."""
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", token):
        whole, _, frac = token.partition(".")
        return whole.replace(",", NBSP) + ("," + frac if frac else "")
    if re.fullmatch(r"\d+\.\d+", token):
        return token.replace(".", ",")
    return token  # integers, years and codes such as 8.5.2.2 stay as they are


def localize(text: str, lang: str | None = None) -> str:
    """Numbers and month abbreviations in a text that needs no translation (tick labels)."""
    lang = lang or current()
    if lang == "en" or not text:
        return text
    text = NUMBER.sub(lambda m: ru_number(m.group()), text)
    return _MONTH.sub(lambda m: MONTHS_RU[MONTHS_EN.index(m.group())], text)


def month_name(month: int, lang: str | None = None) -> str:
    return (MONTHS_RU if (lang or current()) == "ru" else MONTHS_EN)[month - 1]


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> dict[str, str]:
    p = Path(path)
    raw = p.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raise TranslationError(f"{p}: starts with a byte-order mark; save as UTF-8 without BOM")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise TranslationError(f"{p}: not UTF-8 at byte {e.start}") from None
    rows = list(csv.reader(text.splitlines(keepends=True)))
    if not rows or rows[0] != ["en", p.stem.rsplit("_", 1)[-1]]:
        raise TranslationError(f"{p}, line 1: header must be 'en,{p.stem.rsplit('_', 1)[-1]}', "
                               f"found {','.join(rows[0]) if rows else 'an empty file'}")
    table: dict[str, str] = {}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != 2:
            raise TranslationError(f"{p}, line {line}: expected 2 cells, found {len(row)}")
        en, tr = row
        for col, cell in (("en", en), ("translation", tr)):
            if not cell or cell != cell.strip():
                raise TranslationError(f"{p}, line {line}, column {col}: empty or has "
                                       f"leading/trailing spaces: {cell!r}")
        if en in table:
            raise TranslationError(f"{p}, line {line}: duplicate key {en!r}")
        if re.search(r"\d", PLACEHOLDER.sub("", en)):
            raise TranslationError(f"{p}, line {line}: key {en!r} contains digits; write "
                                   "numbers as placeholders {0}, {1}, ...")
        want = sorted(set(PLACEHOLDER.findall(en)))
        got = sorted(set(PLACEHOLDER.findall(tr)))
        if want != got:
            raise TranslationError(f"{p}, line {line}: placeholders {got} in the translation "
                                   f"do not match {want} in {en!r}")
        if "{" in PLACEHOLDER.sub("", tr) or "}" in PLACEHOLDER.sub("", tr):
            raise TranslationError(f"{p}, line {line}: stray brace in the translation")
        table[en] = tr
    return table


def table(lang: str) -> dict[str, str]:
    """The translation table for ``lang`` (English key -> translation), validated."""
    if lang not in LANGUAGES or lang == "en":
        raise ValueError(f"no translation table for language {lang!r}")
    path = table_path(lang)
    if not path.exists():
        raise TranslationError(f"{path}: translation table missing")
    return _load(str(path), path.stat().st_mtime)


_STATE: dict = {"lang": "en", "used": None, "missing": None}


def current() -> str:
    return _STATE["lang"]


@contextmanager
def language(lang: str, where: str = "") -> Iterator[dict[str, str]]:
    """Draw in ``lang``; yields the {key: translation} of every key looked up meanwhile.

    Raises :class:`MissingTranslation` at the end if any key had no entry.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; known: {LANGUAGES}")
    saved = dict(_STATE)
    used: dict[str, str] = {}
    missing: list[str] = []
    _STATE.update(lang=lang, used=used, missing=missing)
    try:
        yield used
    finally:
        _STATE.clear()
        _STATE.update(saved)
    if missing:
        keys = list(dict.fromkeys(missing))
        dump = os.environ.get("KGBOOK_MISSING_LABELS")
        if dump:  # translators' mode: list every missing key instead of stopping
            with open(dump, "a", encoding="utf-8") as fh:
                fh.writelines(_csv_line([k, ""]) + "\n" for k in keys)
            return
        raise MissingTranslation(lang, keys, where)


def t(text):
    """Translate one text put on a figure into the current language (see module doc)."""
    if text is None or not isinstance(text, str) or not text:
        return text
    lang = _STATE["lang"]
    key, numbers = key_of(text)
    if not LETTER.search(key):
        return localize(text, lang)
    if _STATE["used"] is None:  # not inside language(): plain English drawing
        return text
    if lang == "en":
        _STATE["used"][key] = key
        return text
    tr = table(lang).get(key)
    if tr is None:
        _STATE["missing"].append(key)
        return text
    _STATE["used"][key] = tr
    return PLACEHOLDER.sub(lambda m: ru_number(numbers[int(m.group(1))]), tr)
