"""``python -m kgbook.derive [--check-facts]``: rebuild data/ extracts from ../shared/sources."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import pandas as pd

from ..data import DATA_DIR, package
from .common import SHARED, write_csv


def derivation_modules():
    import kgbook.derive as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name not in {"common", "__main__"}:
            yield importlib.import_module(f"kgbook.derive.{info.name}")


def check_facts() -> int:
    """Check that every ``fact_id`` cited in data/ exists in the shared fact ledger (ids
    only: values are not compared)."""
    facts = pd.read_csv(SHARED / "facts.csv", dtype=str, keep_default_na=False).set_index("id")
    problems = 0
    for res in package()["resources"]:
        fields = [f["name"] for f in res["schema"]["fields"]]
        if "fact_id" not in fields:
            continue
        df = pd.read_csv(DATA_DIR / res["path"], dtype=str, keep_default_na=False)
        for i, row in df.iterrows():
            for fid in filter(None, row["fact_id"].split(";")):
                if fid not in facts.index:
                    print(f"{res['path']} line {i + 2}: fact_id {fid!r} not in facts.csv")
                    problems += 1
    print(f"checked fact ids: {problems} problem(s)")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check-facts", action="store_true")
    args = parser.parse_args(argv)
    if not SHARED.is_dir():
        print(f"upstream folder not found: {SHARED}", file=sys.stderr)
        return 2
    declared = {r["name"] for r in package()["resources"]}
    for module in derivation_modules():
        for name, make in module.TABLES.items():
            if name not in declared:
                raise SystemExit(f"{module.__name__}: table {name!r} is not in datapackage.json")
            path = write_csv(make(), name)
            print(f"wrote {path.relative_to(DATA_DIR.parent)}")
    return check_facts() if args.check_facts else 0


if __name__ == "__main__":
    raise SystemExit(main())
