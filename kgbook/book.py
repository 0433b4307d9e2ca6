"""Helpers for chapter notebooks: glue computed values and show data tables."""

from __future__ import annotations

import datetime as _dt
import numbers
import platform
import re
import subprocess
import time
from importlib import metadata

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from .data import ROOT, files_read

_STARTED = time.perf_counter()
RECEIPT_KEY = "kgbook_receipt"  # key of the receipt JSON in the output's metadata
RECEIPT_PACKAGES = ("jupyter-book", "myst-nb", "Sphinx", "pandas", "numpy", "matplotlib",
                    "ipykernel", "kgbook")


def _native(value):
    """Plain Python value for glue (numpy and pandas scalars repr badly in text)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        if not np.isfinite(value):
            raise ValueError(f"refusing to glue a non-finite number: {value!r}")
        return float(value)
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return value


def glue(name: str, value) -> object:
    """Glue a number or text under ``name`` for use in prose; returns the glued value.

    Numbers are glued as plain Python ``int``/``float`` and formatted in the text with
    ``{glue:text}`name:.1f```. Text is glued as Markdown so it shows without quotes: use
    ``{glue:md}`name```.
    """
    from myst_nb import glue as _glue

    value = _native(value)
    if isinstance(value, str):
        _glue(name, Markdown(value), display=False)
    elif isinstance(value, (int, float)):
        _glue(name, value, display=False)
    else:
        raise TypeError(f"glue '{name}': expected a number or text, got {type(value).__name__}")
    return value


def date_text(value) -> str:
    """A date as English text: '2015-08-12' or a Timestamp -> '12 August 2015',
    '2015-05' -> 'May 2015', '2020' -> '2020', '2022-10-06/2022-10-07' -> '6–7 October 2022'
    (a range across months: '30 June 2022 – 1 July 2022'). Anything else is an error."""
    if isinstance(value, pd.Timestamp):
        return f"{value.day} {value:%B %Y}"
    text = str(value)
    if "/" in text:
        a, b = (pd.Timestamp(p) for p in text.split("/"))
        if (a.year, a.month) == (b.year, b.month):
            return f"{a.day}–{b.day} {a:%B %Y}"
        return f"{date_text(a)} – {date_text(b)}"
    if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", text):
        raise ValueError(f"date_text: {value!r} is not a date (YYYY, YYYY-MM, YYYY-MM-DD or "
                         "a range of two dates separated by '/')")
    parts = text.split("-")
    if len(parts) == 1:
        return parts[0]
    stamp = pd.Timestamp(f"{parts[0]}-{parts[1]}-{parts[2] if len(parts) > 2 else '01'}")
    return stamp.strftime("%B %Y") if len(parts) == 2 else f"{stamp.day} {stamp:%B %Y}"


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "–"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(df: pd.DataFrame, *, columns: dict[str, str] | None = None,
                   formats: dict[str, str] | None = None) -> str:
    """A Markdown (pipe) table of ``df`` without its index.

    ``columns`` maps column names to header text (and selects and orders them);
    ``formats`` maps column names to format strings such as ``"{:,.0f}"``.
    """
    columns = columns or {c: c for c in df.columns}
    formats = formats or {}
    head = "| " + " | ".join(columns.values()) + " |"
    rule = "|" + "|".join(" --- " for _ in columns) + "|"
    rows = []
    for _, row in df[list(columns)].iterrows():
        cells = []
        for col in columns:
            v = row[col]
            missing = v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))
            cells.append(formats[col].format(v) if col in formats and not missing
                         else _cell(v))
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join([head, rule, *rows])


def show_table(df: pd.DataFrame, *, columns: dict[str, str] | None = None,
               formats: dict[str, str] | None = None) -> None:
    """Display ``df`` as a Markdown table (renders in HTML and PDF, no index column)."""
    display(Markdown(markdown_table(df, columns=columns, formats=formats)))


def _commit() -> str:
    """The git commit of the book checkout, marked when data, code or chapters differ from it."""
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], check=True,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--",
                                "data", "kgbook", "chapters"], check=True,
                               capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not run from a git checkout"
    return head + (" (with uncommitted changes to data, code or chapters)" if dirty else "")


def package_versions() -> dict[str, str]:
    """Python and the versions of the packages a receipt records, in this environment."""
    versions = {"Python": platform.python_version()}
    for name in RECEIPT_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def receipt_data() -> dict:
    """What this kernel read and ran with: files and SHA-256, versions, commit, time."""
    versions = package_versions()
    from .cache import code_read  # (lazy: python -m kgbook.cache imports the package)

    return {
        "files": files_read(),
        "code": code_read(),
        "versions": versions,
        "commit": _commit(),
        "executed": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": round(time.perf_counter() - _STARTED, 1),
    }


def receipt() -> None:
    """Show a collapsed reproducibility receipt as the chapter's last output.

    The output's metadata also carries the same facts as JSON under ``RECEIPT_KEY`` so that
    tools (tests, the execution cache) can read which files the chapter depended on. (Metadata,
    not a custom mime type, because myst-nb warns about every mime type it cannot render.)
    """
    data = receipt_data()
    if not data["files"]:
        raise RuntimeError("receipt(): this chapter read no table through kgbook.load_table")
    files = "\n".join(f"| `{path}` | `{digest}` |" for path, digest in data["files"].items())
    versions = ", ".join(f"{k} {v}" for k, v in data["versions"].items())
    text = (
        ":::{dropdown} Reproducibility receipt\n"
        ":class-container: kg-receipt\n\n"
        f"Executed {data['executed']} in {data['seconds']:.1f} s at commit "
        f"`{data['commit']}`.\n\n"
        f"Software: {versions}.\n\n"
        "Data files read by this chapter, with the SHA-256 of the bytes that were checked "
        "and used:\n\n"
        f"| File | SHA-256 |\n|---|---|\n{files}\n"
        ":::\n"
    )
    display({"text/markdown": text}, metadata={RECEIPT_KEY: data}, raw=True)
