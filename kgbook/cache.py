"""An execution cache that knows which data and code each chapter used.

Jupyter's cache (``jupyter-cache``, used by myst-nb) keys an executed notebook on its code
cells only, so a changed table in ``data/`` would leave pages showing numbers computed from the
old table. Every executable chapter ends with ``kg.receipt()``, whose output metadata carries JSON
(key ``kgbook_receipt``) listing the SHA-256 of every data file the chapter
read, of every ``kgbook`` source file its kernel imported, and the package versions. Before
Sphinx reads any page, this Sphinx extension

1. opens the execution cache and removes every cached notebook whose receipt no longer
   matches the files on disk (a file changed or is missing, a kgbook module it imported
   changed, a package version changed) or that has no receipt at all;
2. executes every notebook that now has no cached result, several at a time
   (``KGBOOK_JOBS``, default: the number of CPU cores, at most 2), and stores the results in
   the same cache, where myst-nb then finds them;
3. tells Sphinx to re-read exactly those pages, even when their source text did not change.

So a data edit re-executes exactly the chapters that read that file, an edit to one kgbook
module re-executes the chapters that imported it, and an unchanged book executes nothing.

Command line (the same checks without Sphinx)::

    python -m kgbook.cache status <build-dir>   # list cached chapters and whether each is stale
    python -m kgbook.cache prune <build-dir>    # remove the stale ones

``<build-dir>`` is the folder holding ``_build`` (or the ``.jupyter_cache`` folder itself).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

RECEIPT_KEY = "kgbook_receipt"  # output metadata key (kgbook.book.RECEIPT_KEY)
RECEIPT_MIME = "application/vnd.kgbook.receipt+json"  # where older receipts kept it
PACKAGE_DIR = Path(__file__).resolve().parent
CODE_ROOT = PACKAGE_DIR.parent
REREAD_FILE = "kgbook-reread.json"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def code_read() -> dict[str, str]:
    """The kgbook source files imported in this process: path (relative to the folder that
    holds the ``kgbook`` package) mapped to the SHA-256 of the file now on disk.

    This module itself is left out: in a kernel it only computes this list."""
    out = {}
    for module in list(sys.modules.values()):
        name = getattr(module, "__file__", None)
        if not name or not name.endswith(".py"):
            continue
        path = Path(name).resolve()
        if PACKAGE_DIR in path.parents and path != Path(__file__).resolve():
            out[path.relative_to(CODE_ROOT).as_posix()] = _sha256(path)
    return dict(sorted(out.items()))


def record_files(*paths: str | Path) -> dict[str, str]:
    """Record files a page reads other than through ``load_table`` (text it quotes, the table
    of contents, CITATION.cff...), so that ``kg.receipt()`` lists them and the page is executed
    again when one of them changes. Paths are relative to the book root (or absolute)."""
    from . import data

    for path in paths:
        full = Path(path) if Path(path).is_absolute() else data.ROOT / path
        if not full.is_file():
            raise FileNotFoundError(f"record_files: no file {full}")
        data._record_read(full)
    return data.files_read()


def inputs_receipt(*paths: str | Path) -> None:
    """A machine-readable receipt only (no visible box), for pages whose inputs are not data
    tables, such as the page that quotes CITATION.cff and the chapter titles: records
    ``paths`` (see :func:`record_files`) and outputs the receipt JSON in the output metadata.
    Put it in a cell tagged ``remove-cell`` at the end of the page."""
    from IPython.display import display

    from .book import RECEIPT_KEY, receipt_data

    record_files(*paths)
    display({"text/plain": ""}, metadata={RECEIPT_KEY: receipt_data()}, raw=True)


def current_versions() -> dict[str, str]:
    """Versions as ``kgbook.book.receipt_data`` records them, for the running environment."""
    from .book import package_versions

    return package_versions()


def find_receipt(nb) -> dict | None:
    """The receipt JSON of an executed notebook (the last one if several), or None."""
    found = None
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            meta = output.get("metadata") or {}
            data = output.get("data") or {}
            if RECEIPT_KEY in meta:
                found = meta[RECEIPT_KEY]
            elif RECEIPT_MIME in data:
                found = data[RECEIPT_MIME]
            if isinstance(found, str):
                found = json.loads(found)
    return found


@dataclass
class Checker:
    """Compares receipts with the files and packages now present."""

    data_root: Path
    code_root: Path = CODE_ROOT
    _hashes: dict[Path, str | None] = field(default_factory=dict)
    _versions: dict[str, str] | None = None

    def _hash(self, path: Path) -> str | None:
        if path not in self._hashes:
            self._hashes[path] = _sha256(path) if path.is_file() else None
        return self._hashes[path]

    def reasons(self, receipt: dict | None) -> list[str]:
        """Why a cached notebook with this receipt is out of date ([] when it is current)."""
        if receipt is None:
            return ["the cached notebook has no receipt"]
        reasons = []
        groups = (("files", self.data_root), ("code", self.code_root))
        for key, root in groups:
            if not isinstance(receipt.get(key), dict):
                reasons.append(f"the receipt lists no '{key}'")
                continue
            for rel, digest in receipt[key].items():
                now = self._hash(root / rel)
                if now is None:
                    reasons.append(f"{rel} is missing")
                elif now != digest:
                    reasons.append(f"{rel} changed")
        if self._versions is None:
            self._versions = current_versions()
        for name, version in (receipt.get("versions") or {}).items():
            now = self._versions.get(name)
            if now != version:
                reasons.append(f"{name} {version} is now {now}")
        return reasons


@dataclass
class Stale:
    pk: int
    uri: str
    reasons: list[str]


def cache_folder(build_dir: Path | str) -> Path:
    """The jupyter-cache folder for a build folder (or the cache folder itself)."""
    path = Path(build_dir)
    for candidate in (path, path / ".jupyter_cache", path / "_build" / ".jupyter_cache"):
        if (candidate / "global.db").is_file():
            return candidate
    return path / "_build" / ".jupyter_cache"


def data_root() -> Path:
    from .data import ROOT

    return Path(ROOT)


def check(cache_path: Path | str, *, root: Path | None = None) -> tuple[list[Stale], list]:
    """(stale records, all records) of the execution cache at ``cache_path``."""
    from jupyter_cache import get_cache

    cache = get_cache(str(cache_path))
    checker = Checker(data_root=root or data_root())
    records = cache.list_cache_records()
    stale = []
    for record in records:
        path = cache._get_notebook_path_cache(record.hashkey)
        if not path.is_file():
            stale.append(Stale(record.pk, record.uri, ["the cached notebook file is missing"]))
            continue
        nb = json.loads(path.read_text(encoding="utf-8"))  # plain JSON: no validation needed
        why = checker.reasons(find_receipt(nb))
        if why:
            stale.append(Stale(record.pk, record.uri, why))
    return stale, records


def prune(cache_path: Path | str, *, root: Path | None = None) -> list[Stale]:
    """Remove the cached notebooks whose receipt no longer matches; return what was removed."""
    from jupyter_cache import get_cache
    from jupyter_cache.cache.db import NbCacheRecord

    cache_path = Path(cache_path)
    if not (cache_path / "global.db").is_file():
        return []
    stale, _ = check(cache_path, root=root)
    cache = get_cache(str(cache_path))
    for item in stale:
        try:
            cache.remove_cache(item.pk)
        except KeyError:  # the notebook file is gone already: drop the record only
            NbCacheRecord.remove_records([item.pk], cache.db)
    return stale


# --------------------------------------------------------------------------- Sphinx


def _logger():
    from sphinx.util import logging

    return logging.getLogger(__name__)


def _jobs() -> int:
    value = os.environ.get("KGBOOK_JOBS")
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"KGBOOK_JOBS must be a positive integer, got {value!r}")
        return int(value)
    return max(1, min(2, os.cpu_count() or 1))


def _notebooks(app) -> list[tuple[str, Path, object, dict | None]]:
    """(docname, path, notebook as myst-nb reads it, read format) of every executable page."""
    from myst_nb.core.read import create_nb_reader

    env = app.env
    nb_config = env.mystnb_config
    env.find_files(app.config, app.builder)
    found = []
    for docname in sorted(env.found_docs):
        path = Path(env.doc2path(docname))
        if path.suffix not in (".md", ".ipynb"):
            continue
        text = path.read_text(encoding="utf-8")
        reader = create_nb_reader(str(path), env.myst_config, nb_config, text)
        if reader is None:
            continue
        nb = reader.read(text)
        if nb_config.metadata_key in nb.metadata or any(
                path.match(p) for p in nb_config.execution_excludepatterns):
            continue  # per-notebook execution settings: leave it to myst-nb
        found.append((docname, path, nb, reader.read_fmt))
    return found


def _execute(nb, cwd: Path, timeout: int | None, allow_errors: bool):
    from jupyter_cache.executors.utils import single_nb_execution

    return single_nb_execution(nb, cwd=str(cwd), timeout=timeout, allow_errors=allow_errors,
                               meta_override=True)


def _reread_path(app) -> Path:
    return Path(app.env.mystnb_config.execution_cache_path) / REREAD_FILE


def on_builder_inited(app) -> None:
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    log = _logger()
    nb_config = app.env.mystnb_config
    app.env.kgbook_reread = set()
    if nb_config.execution_mode != "cache":
        return
    cache_path = Path(nb_config.execution_cache_path)
    for item in prune(cache_path):
        log.info(f"[kgbook.cache] {item.uri}: cached outputs removed ("
                 + "; ".join(item.reasons[:3]) + ("; ..." if len(item.reasons) > 3 else "")
                 + ")")
    cache = get_cache(str(cache_path))
    todo = []
    for docname, path, nb, _read_fmt in _notebooks(app):
        try:
            cache.match_cache_notebook(nb)
        except KeyError:
            todo.append((docname, path, nb))
    reread_file = _reread_path(app)
    reread = set()
    if reread_file.is_file():
        reread = set(json.loads(reread_file.read_text()))
    reread |= {docname for docname, _, _ in todo}
    if reread:
        reread_file.parent.mkdir(parents=True, exist_ok=True)
        reread_file.write_text(json.dumps(sorted(reread)))
    app.env.kgbook_reread = reread
    if not todo:
        return
    jobs = min(_jobs(), len(todo))
    # Longest first (by the size of the source) so that the workers finish together.
    todo.sort(key=lambda item: item[1].stat().st_size, reverse=True)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {
            pool.submit(_execute, nb, path.parent, nb_config.execution_timeout,
                        nb_config.execution_allow_errors): (path, nb)
            for _, path, nb in todo
        }
        for future in as_completed(futures):
            path, nb = futures[future]
            result = future.result()
            if result.err is not None:
                # Not cached: myst-nb executes the page again and reports the error itself.
                log.info(f"[kgbook.cache] {path}: execution failed "
                         f"({result.err.__class__.__name__}); myst-nb will report it")
                continue
            cache.cache_notebook_bundle(
                CacheBundleIn(nb, str(path), data={"execution_seconds": result.time,
                                                   "executed_by": "kgbook.cache"}),
                check_validity=False, overwrite=True)
            log.info(f"[kgbook.cache] {path}: executed in {result.time:.2f} s")
    log.info(f"[kgbook.cache] executed {len(todo)} notebook(s) with {jobs} worker(s) in "
             f"{time.perf_counter() - started:.1f} s")


def on_doctree_read(app, doctree) -> None:
    """Write the executed notebook (with its outputs) to ``jupyter_execute``.

    When myst-nb takes a page's outputs from the cache it writes the notebook it read from the
    source, without outputs, to ``jupyter_execute/``; since this extension executes every
    notebook ahead, that would always happen. Tests and readers use those files (the receipt
    is in the last cell's output), so the page's cached outputs are merged in here."""
    import nbformat
    from jupyter_cache import get_cache
    from myst_nb.core.read import create_nb_reader

    env = app.env
    nb_config = env.mystnb_config
    if nb_config.execution_mode != "cache" or not nb_config.output_folder:
        return
    target = Path(nb_config.output_folder, *f"{env.docname}.ipynb".split("/"))
    if not target.is_file():
        return  # not a notebook page
    path = Path(env.doc2path(env.docname))
    text = path.read_text(encoding="utf-8")
    reader = create_nb_reader(str(path), env.myst_config, nb_config, text)
    if reader is None:
        return
    try:
        _, merged = get_cache(nb_config.execution_cache_path).merge_match_into_notebook(
            reader.read(text))
    except KeyError:
        return  # executed by myst-nb itself, which wrote the outputs
    target.write_text(nbformat.writes(merged), encoding="utf-8")


def on_env_get_outdated(app, env, added, changed, removed) -> list[str]:
    """Pages whose cached outputs were removed or missing must be read again."""
    reread = getattr(env, "kgbook_reread", set())
    return sorted(d for d in reread if d in env.found_docs and d not in added | changed)


def on_build_finished(app, exception) -> None:
    if exception is None and getattr(app.env, "kgbook_reread", None) is not None:
        path = _reread_path(app)
        if path.is_file():
            path.unlink()


def setup(app):
    app.connect("builder-inited", on_builder_inited, priority=800)
    app.connect("env-get-outdated", on_env_get_outdated)
    app.connect("doctree-read", on_doctree_read)
    app.connect("build-finished", on_build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kgbook.cache", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("command", choices=["status", "prune"])
    parser.add_argument("build_dir", type=Path, help="folder holding _build (or the cache)")
    args = parser.parse_args(argv)
    folder = cache_folder(args.build_dir)
    if not (folder / "global.db").is_file():
        print(f"no execution cache at {folder}")
        return 0
    if args.command == "prune":
        for item in prune(folder):
            print(f"removed {item.uri}: " + "; ".join(item.reasons))
        return 0
    stale, records = check(folder)
    bad = {item.pk: item for item in stale}
    for record in records:
        state = ("stale: " + "; ".join(bad[record.pk].reasons)) if record.pk in bad else "current"
        print(f"{record.pk:>4} {record.uri}: {state}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
