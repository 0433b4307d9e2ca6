"""A reader can rerun every chapter from its downloaded notebook.

Each notebook chapter's ``.ipynb`` download (made from the MyST source by jupytext when the
site is built) is put into a copy of the ``chapters/`` folder and run top to bottom in a fresh
kernel (nbclient), as a reader who cloned the repository and downloaded the notebook would:
the ``kgbook`` package is installed from the clone and finds ``data/`` through its install
path. Figures go to a temporary folder, so the run must produce every figure the chapter
declares. The run is the session's ``second_run`` (tests/conftest.py), shared with the
determinism tests.
"""

from __future__ import annotations

import json
import re

import pytest
from conftest import CHAPTERS, declared_figures, notebook_chapters

from kgbook.notebooks import to_ipynb

NOTEBOOK_CHAPTERS = notebook_chapters()


def test_rerun_covers_every_notebook_chapter(second_run, record_property):
    record_property("kgbook_summary", f"rerun of {len(NOTEBOOK_CHAPTERS)} downloaded notebooks "
                                      f"in fresh kernels: {second_run['seconds']:.0f} s")
    assert len(NOTEBOOK_CHAPTERS) >= 6
    assert sorted(second_run["results"]) == sorted(NOTEBOOK_CHAPTERS)


@pytest.mark.parametrize("chapter", NOTEBOOK_CHAPTERS)
def test_download_is_the_notebook_that_was_run(book, second_run, chapter):
    downloaded = (book.html / "_sources" / "chapters" / f"{chapter}.ipynb").read_text()
    assert downloaded == to_ipynb(CHAPTERS / f"{chapter}.md"), "the download is stale"

    def cells(nb):
        return [(c["id"], c["cell_type"], "".join(c["source"])) for c in nb["cells"]]

    ran = json.loads(second_run["results"][chapter]["notebook"].read_text(encoding="utf-8"))
    assert cells(json.loads(downloaded)) == cells(ran)
    source = (CHAPTERS / f"{chapter}.md").read_text(encoding="utf-8")
    code = [c for c in ran["cells"] if c["cell_type"] == "code"]
    assert len(code) == source.count("\n```{code-cell}"), "code cells lost in the conversion"


@pytest.mark.parametrize("chapter", NOTEBOOK_CHAPTERS)
def test_downloaded_notebook_runs_and_draws_its_figures(second_run, chapter):
    result = second_run["results"][chapter]
    stderr = re.sub(r"\x1b\[[0-9;]*m", "", result["stderr"])  # tracebacks come coloured
    assert result["returncode"] == 0, f"{chapter}.ipynb failed:\n{stderr[-3000:]}"
    nb = json.loads(result["notebook"].read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c.get("execution_count") for c in code), "not every cell ran"
    errors = [o for c in code for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors, f"{chapter}: error outputs: {[e['ename'] for e in errors]}"
    for figure in declared_figures(chapter):
        folder = second_run["figures"] / figure
        made = {p.name.removeprefix(figure) for p in folder.glob(f"{figure}*")
                if p.stat().st_size > 0}
        assert {".en.png", ".en.svg", ".en.pdf", ".ru.png", ".csv", ".json"} <= made, (
            f"{chapter}: {figure} not produced ({sorted(made)})")
