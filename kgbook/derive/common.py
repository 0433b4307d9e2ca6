"""Helpers shared by the derivation modules."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from ..data import DATA_DIR, ROOT

SHARED = ROOT.parent / "shared" / "sources"


def read_source(relpath: str) -> pd.DataFrame:
    """Read an upstream CSV with every cell as the published string."""
    return pd.read_csv(SHARED / relpath, dtype=str, keep_default_na=False)


def wide(df: pd.DataFrame, index: list[str], column: str, value: str,
         names: dict[str, str]) -> pd.DataFrame:
    """Pivot indicator rows to one column per indicator, refusing duplicates."""
    dup = df.duplicated(index + [column])
    if dup.any():
        raise ValueError(f"duplicate observations: {df[dup].head().to_dict('records')}")
    out = df.pivot(index=index, columns=column, values=value).reset_index()
    out = out.rename(columns=names)[index + list(names.values())]
    return out.fillna("")


def write_csv(df: pd.DataFrame, name: str) -> Path:
    """Write ``data/<name>.csv`` with LF line endings, UTF-8, minimal quoting."""
    path = DATA_DIR / f"{name}.csv"
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path
