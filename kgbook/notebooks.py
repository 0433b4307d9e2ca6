"""Chapters as Jupyter notebooks: one conversion (MyST Markdown -> .ipynb) and one runner.

The same conversion makes the ``.ipynb`` a reader downloads from the book, the notebooks in
the release archive, and the notebooks that ``make figures`` and the tests execute, so what a
reader reruns is exactly what was checked.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .data import ROOT


def to_ipynb(source: Path) -> str:
    """The ``.ipynb`` text of a MyST Markdown notebook, with fixed cell ids (reproducible)."""
    import jupytext

    nb = jupytext.read(source, fmt="md:myst")
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"  # nbformat draws random ids otherwise
    return jupytext.writes(nb, fmt="ipynb")


_RUN_ONE = r"""
import sys
import nbformat
from nbclient import NotebookClient
path, cwd, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3])
nb = nbformat.read(path, as_version=4)
try:
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": cwd}}).execute()
finally:
    nbformat.write(nb, path)
"""


class ChapterFailed(RuntimeError):
    """A chapter notebook raised an error when run top to bottom."""


def run_chapters(chapters: list[str], *, figures: Path | None = None,
                 workdir: Path | None = None, workers: int = 2,
                 timeout: int = 600, check: bool = True) -> dict[str, dict]:
    """Run chapters as a reader would: each converted to ``.ipynb`` in a copy of ``chapters/``
    and executed top to bottom in a fresh kernel (``workers`` at a time).

    Figures go to ``figures`` (default: the book's ``figures/``). Returns, per chapter, the
    executed notebook's path, the seconds it took, the exit status and stderr; with ``check``
    raises :class:`ChapterFailed` naming every chapter that failed. With ``workdir`` the executed
    notebooks are kept there (``workdir/chapters/<name>.ipynb``).
    """
    import shutil

    own = workdir is None
    work = Path(workdir or tempfile.mkdtemp(prefix="kgbook-run-"))
    folder = work / "chapters"
    shutil.copytree(ROOT / "chapters", folder, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
    env = {k: v for k, v in os.environ.items() if k not in {"KGBOOK_ROOT", "KGBOOK_FIGURES"}}
    env["PYTHONHASHSEED"] = "0"
    if figures is not None:
        env["KGBOOK_FIGURES"] = str(figures)

    def run(name: str) -> tuple[str, dict]:
        notebook = folder / f"{name}.ipynb"
        notebook.write_text(to_ipynb(ROOT / "chapters" / f"{name}.md"), encoding="utf-8")
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", _RUN_ONE, str(notebook), str(folder),
                               str(timeout)], env=env, capture_output=True, text=True, cwd=work)
        return name, {"notebook": notebook, "seconds": time.perf_counter() - start,
                      "returncode": proc.returncode, "stderr": proc.stderr}

    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            results = dict(pool.map(run, chapters))
        failed = {n: r for n, r in results.items() if r["returncode"]}
        if failed and check:
            raise ChapterFailed("; ".join(
                f"chapters/{n}.md failed when run as a notebook:\n{r['stderr'][-2000:]}"
                for n, r in failed.items()))
        return results
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)
