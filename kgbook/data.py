"""Read the book's tables through ``data/datapackage.json`` and refuse bad data loudly.

Every table is a CSV described by a Frictionless Table Schema. ``load_table`` checks the
file against that schema cell by cell and raises :class:`DataError` naming the file, the
column and the line at the first problem. Nothing is dropped, filled or coerced.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from functools import lru_cache
from pathlib import Path

import pandas as pd

ROOT = Path(os.environ.get("KGBOOK_ROOT", Path(__file__).resolve().parents[1]))
DATA_DIR = ROOT / "data"
PACKAGE_PATH = DATA_DIR / "datapackage.json"

_INTEGER = re.compile(r"^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_BOOLEAN = {"true": True, "false": False}


class DataError(ValueError):
    """A table does not match its schema. Carries the file, column and line."""

    def __init__(self, path: Path | str, message: str, *, column: str | None = None,
                 line: int | None = None):
        self.path = str(path)
        self.column = column
        self.line = line
        self.problem = message
        where = [self.path]
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column '{column}'")
        super().__init__(f"{', '.join(where)}: {message}")


@lru_cache(maxsize=4)
def _read_package(path: str, mtime: float) -> dict:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def package(path: Path | None = None) -> dict:
    """The data package descriptor as a dict (re-read when the file changes)."""
    path = Path(path or PACKAGE_PATH)
    return _read_package(str(path), path.stat().st_mtime)


def resource(name: str, *, descriptor: dict | None = None) -> dict:
    """The descriptor of one table, by its ``name`` in the data package."""
    descriptor = descriptor or package()
    for res in descriptor["resources"]:
        if res["name"] == name:
            return res
    known = ", ".join(sorted(r["name"] for r in descriptor["resources"]))
    raise KeyError(f"no table named '{name}' in {PACKAGE_PATH}; known tables: {known}")


def table_path(name: str) -> Path:
    return DATA_DIR / resource(name)["path"]


def load_table(name: str, *, path: Path | str | None = None,
               descriptor: dict | None = None) -> pd.DataFrame:
    """Load table ``name`` as a DataFrame after checking it against its schema.

    ``path`` reads another file (for example a corrupted copy in a test) with the same
    schema. Raises :class:`DataError` on the first problem found.
    """
    res = resource(name, descriptor=descriptor)
    path = Path(path) if path is not None else DATA_DIR / res["path"]
    df = parse_table(path, res["schema"])
    _record_read(path)
    return df


_READS: dict[str, str] = {}


def _record_read(path: Path) -> None:
    import hashlib

    path = Path(path).resolve()
    try:
        key = path.relative_to(ROOT.resolve()).as_posix()
    except ValueError:
        key = str(path)
    _READS[key] = hashlib.sha256(path.read_bytes()).hexdigest()


def files_read() -> dict[str, str]:
    """Files read in this process so far, by ``load_table`` or recorded with
    ``kgbook.cache.record_files``: path (relative to the book root when inside it) mapped to
    the SHA-256 of the file as it was when read.
    Always includes the data package descriptor once any table was read."""
    import hashlib

    reads = dict(_READS)
    if reads:
        reads[PACKAGE_PATH.relative_to(ROOT).as_posix()] = hashlib.sha256(
            PACKAGE_PATH.read_bytes()).hexdigest()
    return dict(sorted(reads.items()))


def _decode(path: Path, raw: bytes) -> str:
    if not raw.strip():
        raise DataError(path, "the file is empty (no header, no rows)", line=1)
    if raw.startswith(b"\xef\xbb\xbf"):
        raise DataError(path, "the file starts with a byte-order mark (BOM); save it as "
                        "UTF-8 without BOM", line=1)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise DataError(path, f"bytes that are not valid UTF-8 at byte {err.start}",
                        line=line) from None


def _parse_cell(path: Path, field: dict, text: str, line: int):
    """Convert one cell to its Python value, or raise DataError."""
    name, ftype = field["name"], field.get("type", "string")
    cons = field.get("constraints", {})
    if text != text.strip():
        raise DataError(path, f"value {text!r} has leading or trailing white space",
                        column=name, line=line)
    if text == "":
        if cons.get("required"):
            raise DataError(path, "value is missing but the column is required",
                            column=name, line=line)
        return None
    if ftype == "integer":
        if not _INTEGER.match(text):
            raise DataError(path, f"{text!r} is not an integer", column=name, line=line)
        value = int(text)
    elif ftype == "number":
        if not _NUMBER.match(text):
            raise DataError(path, f"{text!r} is not a number", column=name, line=line)
        value = float(text)
        if not math.isfinite(value):
            raise DataError(path, f"{text!r} is not a finite number", column=name, line=line)
    elif ftype == "date":
        if not _DATE.match(text):
            raise DataError(path, f"{text!r} is not a date in the form YYYY-MM-DD",
                            column=name, line=line)
        try:
            value = pd.Timestamp(text)
        except ValueError:
            raise DataError(path, f"{text!r} is not a valid calendar date", column=name,
                            line=line) from None
    elif ftype == "boolean":
        if text not in _BOOLEAN:
            raise DataError(path, f"{text!r} is not 'true' or 'false'", column=name, line=line)
        value = _BOOLEAN[text]
    elif ftype == "string":
        value = text
    else:
        raise DataError(path, f"schema type '{ftype}' is not supported", column=name, line=line)

    if "enum" in cons and value not in cons["enum"]:
        allowed = ", ".join(map(str, cons["enum"]))
        raise DataError(path, f"{text!r} is not one of the allowed values ({allowed})",
                        column=name, line=line)
    if "pattern" in cons and not re.fullmatch(cons["pattern"], text):
        raise DataError(path, f"{text!r} does not match the pattern {cons['pattern']!r}",
                        column=name, line=line)
    if "minimum" in cons and _comparable(value) < _comparable(cons["minimum"]):
        raise DataError(path, f"{text} is below the minimum {cons['minimum']}",
                        column=name, line=line)
    if "maximum" in cons and _comparable(value) > _comparable(cons["maximum"]):
        raise DataError(path, f"{text} is above the maximum {cons['maximum']}",
                        column=name, line=line)
    if "minLength" in cons and len(text) < cons["minLength"]:
        raise DataError(path, f"{text!r} is shorter than {cons['minLength']} characters",
                        column=name, line=line)
    return value


def _comparable(value):
    if isinstance(value, str) and _DATE.match(value):
        return pd.Timestamp(value)
    return value


def parse_table(path: Path | str, schema: dict) -> pd.DataFrame:
    """Parse a CSV file strictly against a Table Schema and return a typed DataFrame."""
    path = Path(path)
    text = _decode(path, path.read_bytes())
    fields = schema["fields"]
    names = [f["name"] for f in fields]
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except csv.Error as err:
        raise DataError(path, f"the header cannot be read as CSV: {err}", line=1) from None
    for col in header:
        if col != col.strip():
            raise DataError(path, f"header {col!r} has leading or trailing white space",
                            column=col.strip(), line=1)
    missing = [n for n in names if n not in header]
    if missing:
        hint = " (is the file comma-separated?)" if len(header) == 1 else ""
        raise DataError(path, f"required column is missing{hint}; expected columns: "
                        f"{', '.join(names)}", column=missing[0], line=1)
    extra = [h for h in header if h not in names]
    if extra:
        raise DataError(path, "column is not declared in the schema", column=extra[0], line=1)
    if header != names:
        raise DataError(path, f"columns are out of order; expected {', '.join(names)}", line=1)

    columns: dict[str, list] = {n: [] for n in names}
    lines: list[int] = []
    unique_seen: dict[str, dict] = {
        f["name"]: {} for f in fields if f.get("constraints", {}).get("unique")}
    key = schema.get("primaryKey") or []
    key = [key] if isinstance(key, str) else list(key)
    key_seen: dict[tuple, int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if len(row) != len(names):
                raise DataError(path, f"row has {len(row)} cells, expected {len(names)}",
                                line=line)
            values = [_parse_cell(path, f, cell, line) for f, cell in zip(fields, row)]
            record = dict(zip(names, values))
            for col, seen in unique_seen.items():
                if record[col] in seen:
                    raise DataError(path, f"value {record[col]!r} repeats line "
                                    f"{seen[record[col]]} but must be unique",
                                    column=col, line=line)
                seen[record[col]] = line
            if key:
                k = tuple(record[c] for c in key)
                if k in key_seen:
                    raise DataError(path, f"duplicate primary key {k} (first on line "
                                    f"{key_seen[k]})", column=",".join(key), line=line)
                key_seen[k] = line
            for n, v in record.items():
                columns[n].append(v)
            lines.append(line)
    except csv.Error as err:
        raise DataError(path, f"malformed CSV: {err}", line=reader.line_num) from None
    if not lines:
        raise DataError(path, "the file has a header but no data rows", line=1)

    frame = {}
    for f in fields:
        vals = columns[f["name"]]
        ftype = f.get("type", "string")
        if ftype == "integer":
            frame[f["name"]] = pd.array(vals, dtype="Int64")
        elif ftype == "number":
            frame[f["name"]] = pd.array([math.nan if v is None else v for v in vals],
                                        dtype="float64")
        elif ftype == "date":
            frame[f["name"]] = pd.to_datetime(pd.Series(vals, dtype="object"))
        elif ftype == "boolean":
            frame[f["name"]] = pd.array(vals, dtype="boolean")
        else:
            frame[f["name"]] = pd.array(vals, dtype="object")
    df = pd.DataFrame(frame)
    for f in fields:  # integer columns without gaps become plain int64
        if f.get("type") == "integer" and not df[f["name"]].isna().any():
            df[f["name"]] = df[f["name"]].astype("int64")
    return df


def source_note(*names: str) -> str:
    """The 'Source:' line for a figure drawn from the named tables (from their metadata)."""
    seen: list[str] = []
    for name in names:
        cite = resource(name)["citation"]
        if cite not in seen:
            seen.append(cite)
    return "Source: " + "; ".join(seen) + "."


def units(name: str) -> dict[str, str]:
    """Unit of each field of a table that declares one."""
    return {f["name"]: f["unit"] for f in resource(name)["schema"]["fields"] if "unit" in f}
