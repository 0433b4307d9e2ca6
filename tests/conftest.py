"""Shared fixtures: one strict, clean build of the whole book per test session.

Set KGBOOK_BUILD=/path/to/folder-with-_build to reuse an existing build while iterating
(the folder that holds ``_build``, e.g. the project root after ``make book``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
FIGURES = ROOT / "figures"


@dataclass
class Build:
    root: Path
    log: str

    @property
    def html(self) -> Path:
        return self.root / "_build" / "html"

    @property
    def executed(self) -> Path:
        return self.root / "_build" / "jupyter_execute"

    def page(self, name: str) -> str:
        return (self.html / "chapters" / f"{name}.html").read_text(encoding="utf-8")

    def glued(self, chapter: str) -> dict:
        """Values a chapter glued, as Python values (numbers parsed, Markdown as text)."""
        raw = json.loads((self.executed / "chapters" / f"{chapter}.glue.json").read_text())
        out = {}
        for key, output in raw.items():
            data = output["data"]
            if "text/markdown" in data:
                out[key] = data["text/markdown"]
            else:
                text = data["text/plain"]
                try:
                    out[key] = int(text)
                except ValueError:
                    out[key] = float(text)
        return out


def _figure_hashes() -> dict[str, bytes]:
    """Every file under figures/ (one folder per figure bundle), by relative path."""
    return {p.relative_to(FIGURES).as_posix(): p.read_bytes()
            for p in sorted(FIGURES.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def figures_before_build() -> dict[str, bytes]:
    return _figure_hashes()


@pytest.fixture(scope="session")
def book(tmp_path_factory, figures_before_build) -> Build:
    """Build the book from scratch (no cache) with warnings as errors."""
    reuse = os.environ.get("KGBOOK_BUILD")
    if reuse:
        return Build(Path(reuse), log="(reused build)")
    out = tmp_path_factory.mktemp("book")
    exe = Path(sys.executable).with_name("jupyter-book")
    proc = subprocess.run(
        [str(exe), "build", str(ROOT), "--path-output", str(out), "-W", "-n", "--keep-going"],
        capture_output=True, text=True, cwd=ROOT)
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        problems = [ln for ln in log.splitlines() if re.search(r"WARNING|ERROR|Error", ln)]
        pytest.fail("strict build failed:\n" + "\n".join(problems[-40:] or log.splitlines()[-40:]))
    return Build(out, log=log)


@pytest.fixture(scope="session")
def second_run(book, tmp_path_factory) -> dict:
    """Every notebook chapter run again, as a reader who downloaded it would, once per session.

    ``kgbook.notebooks.run_chapters`` (the runner behind ``make figures``) converts each
    chapter to ``.ipynb`` in a copy of ``chapters/`` and runs it top to bottom in a fresh
    kernel, writing figures to a temporary folder. The rerun, determinism and figure tests
    all read this one run, so the suite executes the chapters twice in all, not four times.
    """
    import time

    from kgbook.notebooks import run_chapters

    tmp = tmp_path_factory.mktemp("second-run")
    figures = tmp / "figures"
    figures.mkdir()
    start = time.perf_counter()
    results = run_chapters(notebook_chapters(), figures=figures, workdir=tmp, check=False)
    return {"results": results, "figures": figures, "seconds": time.perf_counter() - start}


def notebook_chapters() -> list[str]:
    """Chapters in the table of contents that are notebooks (have a kernelspec)."""
    return [c for c in toc_chapters()
            if "kernelspec:" in (CHAPTERS / f"{c}.md").read_text(encoding="utf-8")[:1000]]


GLUE_ROLE = re.compile(r"\{glue(?::\w*)?\}`([^`:]+)")


def glue_keys_used(chapter: str) -> set[str]:
    """Keys a chapter's text shows through the {glue}, {glue:}, {glue:text} and {glue:md}
    roles (a ``key:format`` use counts as ``key``)."""
    return set(GLUE_ROLE.findall((CHAPTERS / f"{chapter}.md").read_text(encoding="utf-8")))


def toc_chapters() -> list[str]:
    """Chapter names (file stems) listed in _toc.yml, in order."""
    toc = (ROOT / "_toc.yml").read_text()
    return re.findall(r"(?:root|file):\s*chapters/([\w-]+)", toc)


def declared_figures(chapter: str) -> list[str]:
    """Figure ids named in a chapter's cell metadata (mystnb: figure: name: fig-...)."""
    text = (CHAPTERS / f"{chapter}.md").read_text()
    return re.findall(r"^\s+name:\s*(fig-[a-z0-9-]+)\s*$", text, flags=re.M)


def pytest_terminal_summary(terminalreporter):
    """Print the audit summaries tests recorded (``record_property("kgbook_summary", ...)``)
    and the count of corrupted tables tried and refused."""
    tried = caught = 0
    lines = []
    for outcome in ("passed", "failed", "error"):
        for rep in terminalreporter.stats.get(outcome, []):
            if getattr(rep, "when", "call") != "call":
                continue
            if "test_corrupted_copy_is_refused" in rep.nodeid:
                tried += 1
                caught += outcome == "passed"
            lines += [v for k, v in getattr(rep, "user_properties", ()) if k == "kgbook_summary"]
    if tried:
        lines.append(f"corrupted copies of tables: {tried} tried, {caught} refused with an "
                     f"error naming file, line and (when one is at fault) column, "
                     f"{tried - caught} not caught")
    if lines:
        terminalreporter.section("kgbook quality gates")
        for line in lines:
            terminalreporter.write_line(line)
