"""The data package is valid, every table loads, and bad data is refused loudly."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest
from frictionless import Package

import kgbook
from kgbook.data import DATA_DIR, PACKAGE_PATH, DataError, load_table, package

TABLES = [r["name"] for r in package()["resources"]]
REQUIRED_PROVENANCE = ["title", "description", "citation", "sources", "release", "retrieved",
                       "licenses", "derivation", "limitations", "chapters"]


def test_package_is_valid_frictionless():
    report = Package(str(PACKAGE_PATH)).validate()
    errors = [e.message for task in report.tasks for e in task.errors][:10]
    assert report.valid, errors


def test_every_csv_in_data_is_described():
    described = {r["path"] for r in package()["resources"]}
    on_disk = {p.name for p in DATA_DIR.glob("*.csv")}
    assert on_disk == described


@pytest.mark.parametrize("name", TABLES)
def test_table_has_provenance_and_loads(name):
    res = kgbook.resource(name)
    missing = [k for k in REQUIRED_PROVENANCE if not res.get(k)]
    assert not missing, f"{name} lacks {missing}"
    for src in res["sources"]:
        assert src["publisher"] and src["title"] and src["path"]
    df = load_table(name)
    assert len(df) > 0
    assert list(df.columns) == [f["name"] for f in res["schema"]["fields"]]
    key = res["schema"].get("primaryKey")
    if key:
        assert not df.duplicated(key).any()
    for field in res["schema"]["fields"]:
        if field.get("type") in ("number", "integer"):
            assert df[field["name"]].dtype.kind in "fiu", field["name"]
        if field.get("constraints", {}).get("required"):
            assert df[field["name"]].notna().all(), field["name"]


def test_releases_agree_where_they_overlap():
    """The April 2026 pull (rounded) matches the 2025 release for 2008-2022."""
    new = load_table("wdi_remittances_apr2026")
    old = load_table("wdi_remittances")
    both = new.merge(old, on=["country", "year"], suffixes=("_2026", "_2025"))
    both = both[both.year <= 2022]
    assert len(both) == 15 * 3  # KGZ, KAZ, TJK, 2008-2022
    diff = (both.remittances_pct_gdp_2026 - both.remittances_pct_gdp_2025.round(2)).abs()
    assert diff.max() <= 0.0051


# ---- corrupted copies -------------------------------------------------------------------

def _rows(name):
    path = DATA_DIR / kgbook.resource(name)["path"]
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def _write(tmp_path: Path, rows, *, delimiter=",") -> Path:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerows(rows)
    path = tmp_path / "corrupted.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _field(name, pred):
    for f in kgbook.resource(name)["schema"]["fields"]:
        if pred(f):
            return f
    return None


def _first_row_with(rows, col):
    """Index (in rows) of the first data row whose cell in column ``col`` is filled."""
    for i in range(1, len(rows)):
        if rows[i][col] != "":
            return i
    raise AssertionError("no filled cell")


def _set_cell(name: str, c: int, value: str):
    """A builder that writes ``value`` into column ``c`` of the first row that has one."""
    def build(tmp):
        rows = _rows(name)
        i = _first_row_with(rows, c)
        rows[i][c] = value
        return _write(tmp, rows), i + 1
    return build


def corruptions(name):
    """(case, builder(tmp_path) -> path, expected column, expected line) for one table."""
    res = kgbook.resource(name)
    fields = res["schema"]["fields"]
    names = [f["name"] for f in fields]
    key = res["schema"].get("primaryKey") or []
    cases = []

    numeric = _field(name, lambda f: f.get("type") in ("number", "integer"))
    if numeric:
        wrong_type = _set_cell(name, names.index(numeric["name"]), "n/a")
        cases.append(("wrong type", wrong_type, numeric["name"]))

    ranged = _field(name, lambda f: "maximum" in f.get("constraints", {}))
    if ranged:
        top = ranged["constraints"]["maximum"]
        out_of_range = _set_cell(name, names.index(ranged["name"]),
                                 str(top * 10 + 1000) if isinstance(top, int | float) else "9999")
        cases.append(("out of range", out_of_range, ranged["name"]))

    if key:
        def duplicate_key(tmp):
            rows = _rows(name)
            rows.append(list(rows[1]))
            return _write(tmp, rows), len(rows)
        cases.append(("duplicate key", duplicate_key, ",".join(key)))

        kc = names.index(key[0])

        def whitespace_in_key(tmp, kc=kc):
            rows = _rows(name)
            rows[2][kc] = rows[2][kc] + " "
            return _write(tmp, rows), 3
        cases.append(("trailing whitespace in key", whitespace_in_key, key[0]))

    def missing_column(tmp):
        rows = [r[:-1] for r in _rows(name)]
        return _write(tmp, rows), 1
    cases.append(("missing column", missing_column, names[-1]))

    def extra_column(tmp):
        rows = _rows(name)
        rows = [rows[0] + ["extra"]] + [r + ["1"] for r in rows[1:]]
        return _write(tmp, rows), 1
    cases.append(("extra column", extra_column, "extra"))

    def empty_file(tmp):
        p = tmp / "corrupted.csv"
        p.write_bytes(b"")
        return p, 1
    cases.append(("empty file", empty_file, None))

    def header_only(tmp):
        return _write(tmp, _rows(name)[:1]), 1
    cases.append(("header only", header_only, None))

    def wrong_delimiter(tmp):
        return _write(tmp, _rows(name), delimiter=";"), 1
    cases.append(("wrong delimiter", wrong_delimiter, names[0] if len(names) > 1 else None))

    def non_utf8(tmp):
        rows = _rows(name)
        p = _write(tmp, rows)
        lines = p.read_bytes().split(b"\n")
        lines[2] = lines[2] + b"\xff\xfe"
        p.write_bytes(b"\n".join(lines))
        return p, 3
    cases.append(("non-UTF-8 bytes", non_utf8, None))

    def bom(tmp):
        p = _write(tmp, _rows(name))
        p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
        return p, 1
    cases.append(("byte-order mark", bom, None))

    enum = _field(name, lambda f: "enum" in f.get("constraints", {}))
    if enum:
        c = names.index(enum["name"])

        def unknown_code(tmp, c=c):
            rows = _rows(name)
            rows[1][c] = "XXX-unknown"
            return _write(tmp, rows), 2
        label = "unknown country code" if enum["name"] == "country" else "value outside enum"
        cases.append((label, unknown_code, enum["name"]))

    # wrong type for the other typed columns: a day-first date, a yes/no flag
    for ftype, bad in (("date", "31/12/2020"), ("boolean", "yes")):
        typed = _field(name, lambda f, t=ftype: f.get("type") == t)
        if typed:
            wrong_typed = _set_cell(name, names.index(typed["name"]), bad)
            cases.append((f"wrong type ({ftype})", wrong_typed, typed["name"]))

    floored = _field(name, lambda f: f.get("type") in ("number", "integer")
                     and "minimum" in f.get("constraints", {}))
    if floored:
        below_minimum = _set_cell(name, names.index(floored["name"]),
                                  str(floored["constraints"]["minimum"] - 1000))
        cases.append(("out of range (below minimum)", below_minimum, floored["name"]))

    patterned = _field(name, lambda f: "pattern" in f.get("constraints", {}))
    if patterned:
        bad_pattern = _set_cell(name, names.index(patterned["name"]), "§§§")
        cases.append(("value in the wrong format", bad_pattern, patterned["name"]))

    required = _field(name, lambda f: f.get("constraints", {}).get("required")
                      and f["name"] not in key)
    if required:
        missing_value = _set_cell(name, names.index(required["name"]), "")
        cases.append(("missing required value", missing_value, required["name"]))

    def short_row(tmp):
        rows = _rows(name)
        rows[2] = rows[2][:-1]
        return _write(tmp, rows), 3
    cases.append(("row with a cell missing", short_row, None))

    def whitespace_in_header(tmp):
        rows = _rows(name)
        rows[0][0] = rows[0][0] + " "
        return _write(tmp, rows), 1
    cases.append(("trailing whitespace in header", whitespace_in_header, names[0]))
    return cases


CASES = [(name, case, build, column)
         for name in TABLES for case, build, column in corruptions(name)]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name,case,build,column", CASES,
                         ids=[f"{n}-{c.replace(' ', '_')}" for n, c, _, _ in CASES])
def test_corrupted_copy_is_refused(tmp_path, name, case, build, column):
    original = DATA_DIR / kgbook.resource(name)["path"]
    before = _digest(original)
    path, line = build(tmp_path)
    with pytest.raises(DataError) as err:
        load_table(name, path=path)
    e = err.value
    assert e.path == str(path)
    assert e.line == line, str(e)
    if column is not None:
        assert e.column == column, str(e)
    assert str(path) in str(e) and f"line {line}" in str(e)
    assert _digest(original) == before, "the original file was modified"


def test_corruption_matrix_tries_what_each_schema_forbids():
    """Read from the descriptor itself: every table with a typed number column gets a
    wrong-type case, every maximum an out-of-range case, every primary key a duplicate-key
    case, and every table the structural cases."""
    descriptor = json.loads(PACKAGE_PATH.read_text(encoding="utf-8"))
    cases = {}
    for name, case, _, _ in CASES:
        cases.setdefault(name, set()).add(case)
    assert set(cases) == {r["name"] for r in descriptor["resources"]}
    for res in descriptor["resources"]:
        fields = res["schema"]["fields"]
        expected = {"missing column", "extra column", "empty file", "header only",
                    "wrong delimiter"}
        if any(f.get("type") in ("number", "integer") for f in fields):
            expected.add("wrong type")
        if any("maximum" in f.get("constraints", {}) for f in fields):
            expected.add("out of range")
        if res["schema"].get("primaryKey"):
            expected |= {"duplicate key", "trailing whitespace in key"}
        assert expected <= cases[res["name"]], (res["name"], expected - cases[res["name"]])


def test_datapackage_is_plain_json():
    json.loads(PACKAGE_PATH.read_text(encoding="utf-8"))
