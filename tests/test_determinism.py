"""Two clean runs give byte-identical figures and identical glued values.

The session build (``book`` fixture) is the first run: it writes the figure bundles into
``figures/`` and the glued values into ``_build/jupyter_execute``. The second run is the
session's ``second_run`` (tests/conftest.py): every chapter converted to ``.ipynb`` and
executed again in a fresh kernel, in another folder, with figures written to an empty
temporary folder, by the same runner as ``make figures``. The two figure folders must hold
the same files with the same bytes, and every chapter must glue the same values. So the
committed figures are exactly what ``make figures`` produces.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from conftest import FIGURES

from kgbook.figures import check_text_contrast


def _tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _glued(notebook: Path) -> dict:
    glued = {}
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        for o in cell.get("outputs", []):
            meta = o.get("metadata", {}).get("scrapbook")
            if meta:
                prefix = meta.get("mime_prefix", "")
                glued[meta["name"]] = {k.removeprefix(prefix): v for k, v in o["data"].items()}
    return glued


def test_second_run_figures_are_byte_identical(book, second_run, record_property):
    second, first = _tree(second_run["figures"]), _tree(FIGURES)
    record_property("kgbook_summary",
                    f"determinism: second run of {len(second_run['results'])} chapters took "
                    f"{second_run['seconds']:.0f} s; {len(second)} figure files compared")
    assert second, "the second run wrote no figure file"
    missing = sorted(first.keys() - second.keys())
    extra = sorted(second.keys() - first.keys())
    changed = sorted(k for k in first.keys() & second.keys() if first[k] != second[k])
    assert not missing, f"files only in the first run: {missing[:20]}"
    assert not extra, f"files only in the second run: {extra[:20]}"
    assert not changed, f"figure files that differ between runs: {changed}"


def test_second_run_glues_identical_values(book, second_run):
    compared = 0
    for chapter, result in second_run["results"].items():
        assert result["returncode"] == 0, f"{chapter} failed on the second run"
        glued = _glued(result["notebook"])
        path = book.executed / "chapters" / f"{chapter}.glue.json"
        if not glued:
            assert not path.exists() or not json.loads(path.read_text()), chapter
            continue
        first = {k: v["data"] for k, v in json.loads(path.read_text()).items()}
        assert first.keys() == glued.keys(), (
            f"{chapter}: glue keys differ: {sorted(first.keys() ^ glued.keys())}")
        differ = {k: (first[k], glued[k]) for k in first if first[k] != glued[k]}
        assert not differ, f"{chapter}: glued values differ between runs: {differ}"
        compared += len(first)
    assert compared > 50, f"only {compared} glued values compared"


@pytest.mark.parametrize("colour,ok", [("#D55E00", False), ("#B36B00", False),
                                       ("#1A1A1A", True), ("#595959", True)])
def test_low_contrast_text_on_a_figure_is_refused(colour, ok):
    """Saving a bundle checks every text on both language versions (kgbook.bundles), so the
    clean build above proves every figure passes; here the check itself is tested."""
    fig, ax = plt.subplots()
    ax.set_title("Remittances", color=colour)
    try:
        if ok:
            check_text_contrast(fig, "fig-test")
        else:
            with pytest.raises(ValueError, match=r"fig-test: text below 4\.5:1.*Remittances"):
                check_text_contrast(fig, "fig-test")
    finally:
        plt.close(fig)
