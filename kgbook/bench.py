"""Benchmark the book's build and its pages on this machine (``make bench``).

Every build runs in a temporary copy of the book (data and chapter edits happen there, never
in the working tree), with ``KGBOOK_ROOT``/``PYTHONPATH`` pointing at the copy so that the
notebooks read the copy's data and write the copy's figures. Each case is run ``--runs``
times (default 3) and the median is reported:

* cold build (no ``_build`` at all), strict (``-W -n --keep-going``);
* no-change rebuild;
* prose-only edit (a sentence appended to a chapter's text);
* code-cell edit (a comment added to a chapter's first code cell);
* data-file edit (one table saved with CRLF line ends: same values, different bytes);
* the Sphinx-only floor: a full build with notebook execution off. Glued values are then
  missing, so this build cannot pass ``-W`` and is run without it.

For every build: the wall time, the notebooks executed and the sum of their execution times
(read from the jupyter-cache records the build created). Then, on the cold build's HTML: the
bytes a reader fetches for each page with all the assets it references (HTML, CSS and what
the CSS imports, scripts, images, the first font format of each used ``@font-face``), raw
and gzip-compressed (level 6, as web servers do); and Lighthouse scores for one chapter page
(mobile and desktop), served over HTTP with gzip. Lighthouse is installed with npm into
``~/.cache/kgbook-bench`` (outside the repository) and run with ``CHROME_PATH``.

Results go to ``benchmarks/results.json`` and ``benchmarks/results.md``; results stored
there under other labels (e.g. ``before``) are kept, so the table compares them.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import functools
import gzip
import http.server
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
LIGHTHOUSE_VERSION = "12.8.2"
LIGHTHOUSE_DIR = Path.home() / ".cache" / "kgbook-bench"
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
COPY_IGNORE = shutil.ignore_patterns("_build", ".venv", ".git", ".pytest_cache", "node_modules",
                                     "__pycache__", "*.egg-info", "benchmarks")
CASES = ("cold", "no_change", "prose_edit", "code_edit", "data_edit", "sphinx_floor")
CASE_TITLES = {
    "cold": "Cold build (no cache)",
    "no_change": "No-change rebuild",
    "prose_edit": "Prose-only edit",
    "code_edit": "One code-cell edit",
    "data_edit": "One data-file edit",
    "sphinx_floor": "Sphinx only, execution off (no -W)",
}


# --------------------------------------------------------------------------- page weight


class _Refs(HTMLParser):
    """Collects the URLs a browser fetches when it loads a page (not links to other pages)."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.urls.append(a["src"])
        elif tag == "link" and a.get("href"):
            rel = set((a.get("rel") or "").lower().split())
            if rel & {"stylesheet", "preload", "modulepreload", "icon", "shortcut",
                      "apple-touch-icon", "manifest"}:
                self.urls.append(a["href"])
        elif tag in ("img", "source", "video", "audio", "iframe", "embed", "input"):
            for key in ("src", "poster"):
                if a.get(key):
                    self.urls.append(a[key])
            for key in ("srcset",):
                if a.get(key):
                    self.urls += [part.split()[0] for part in a[key].split(",") if part.strip()]
        elif tag == "object" and a.get("data"):
            self.urls.append(a["data"])


def _local(base: Path, url: str, html_root: Path) -> Path | None:
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or url.startswith(("data:", "#", "//")):
        return None
    path = unquote(parts.path)
    if not path:
        return None
    target = (html_root / path.lstrip("/")) if path.startswith("/") else (base / path)
    return target.resolve()


_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*['"]([^'"]+)['"]""")
_FONT_FACE = re.compile(r"@font-face\s*\{([^}]*)\}")


def _css_refs(css: str) -> list[str]:
    """URLs a stylesheet makes the browser fetch: imports, images, and for each @font-face
    only its first source (browsers stop at the first format they support)."""
    urls = _CSS_IMPORT.findall(css)
    faces = _FONT_FACE.findall(css)
    for face in faces:
        first = _CSS_URL.search(face)
        if first:
            urls.append(first.group(2))
    rest = _FONT_FACE.sub("", css)
    urls += [m.group(2) for m in _CSS_URL.finditer(rest)]
    return [u for u in urls if not u.startswith("data:")]


def page_assets(page: Path, html_root: Path) -> tuple[list[Path], list[str]]:
    """Local files fetched for ``page`` (the page first), and references that do not exist."""
    parser = _Refs()
    parser.feed(page.read_text(encoding="utf-8"))
    seen: list[Path] = [page.resolve()]
    missing: list[str] = []
    queue = [(page.parent, u) for u in parser.urls]
    while queue:
        base, url = queue.pop(0)
        target = _local(base, url, html_root)
        if target is None or target in seen:
            continue
        if not target.is_file():
            missing.append(url)
            continue
        seen.append(target)
        if target.suffix == ".css":
            text = target.read_text(encoding="utf-8", errors="replace")
            queue += [(target.parent, u) for u in _css_refs(text)]
    return seen, missing


@functools.lru_cache(maxsize=4096)
def _gzip_size(path: Path, mtime: float) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=6, mtime=0))


def page_weight(page: Path, html_root: Path) -> dict:
    files, missing = page_assets(page, html_root)
    raw = sum(p.stat().st_size for p in files)
    gz = sum(_gzip_size(p, p.stat().st_mtime) for p in files)
    return {"files": len(files), "bytes": raw, "gzip_bytes": gz, "missing": missing,
            "largest": sorted(((p.stat().st_size, p.relative_to(html_root).as_posix())
                               for p in files), reverse=True)[:5]}


def chapter_pages(html_root: Path) -> list[Path]:
    return sorted((html_root / "chapters").glob("*.html"))


# --------------------------------------------------------------------------- builds


def _copy_book(dest: Path) -> Path:
    shutil.copytree(ROOT, dest, ignore=COPY_IGNORE, symlinks=True)
    return dest


def _env(book: Path) -> dict:
    env = dict(os.environ)
    env["KGBOOK_ROOT"] = str(book)
    env["PYTHONPATH"] = str(book) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("KGBOOK_BUILD", None)
    return env


def _records(book: Path) -> dict[tuple, float]:
    """(pk, hashkey, created) -> execution seconds of every record in the copy's cache.

    The key includes the hash and creation time because SQLite reuses the primary key of a
    removed record that had the highest one."""
    db = book / "_build" / ".jupyter_cache" / "global.db"
    if not db.is_file():
        return {}
    from jupyter_cache import get_cache

    cache = get_cache(str(db.parent))
    return {(r.pk, r.hashkey, r.created.isoformat()):
            float((r.data or {}).get("execution_seconds") or 0.0)
            for r in cache.list_cache_records()}


def _uris(book: Path, pks) -> list[str]:
    from jupyter_cache import get_cache

    cache = get_cache(str(book / "_build" / ".jupyter_cache"))
    out = []
    for pk, *_ in pks:
        uri = cache.get_cache_record(pk).uri
        out.append(Path(uri).relative_to(book).as_posix() if uri.startswith(str(book)) else uri)
    return sorted(out)


def build(book: Path, *, strict: bool = True, extra: list[str] | None = None) -> dict:
    """Build the book copy in place; wall time, executed notebooks and their execution time."""
    exe = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(exe), "build", str(book)] + (["-W", "-n", "--keep-going"] if strict else [])
    cmd += extra or []
    before = _records(book)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=book, env=_env(book), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    log = proc.stdout + proc.stderr
    if proc.returncode != 0 and strict:
        raise RuntimeError("build failed:\n" + "\n".join(log.splitlines()[-30:]))
    after = _records(book)
    new = [pk for pk in after if pk not in before]
    return {"seconds": round(seconds, 2), "executed": len(new),
            "exec_seconds": round(sum(after[pk] for pk in new), 2),
            "executed_notebooks": _uris(book, new), "returncode": proc.returncode}


def _set_execution_off(book: Path) -> None:
    cfg = book / "_config.yml"
    text = cfg.read_text(encoding="utf-8")
    new = re.sub(r"(execute_notebooks:\s*)\S+", r"\1'off'", text, count=1)
    if new == text:
        raise RuntimeError("could not switch execution off in the copy's _config.yml")
    cfg.write_text(new, encoding="utf-8")


def _edit_prose(book: Path, run: int) -> None:
    path = book / "chapters" / "sse.md"
    extra = f"\nThis sentence was added by the benchmark, edit number {'I' * (run + 1)}.\n"
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")


def _edit_code(book: Path, run: int) -> None:
    """A comment added at the top of the chapter's first code cell (after its options)."""
    path = book / "chapters" / "sse.md"
    lines = path.read_text(encoding="utf-8").split("\n")
    i = next(k for k, line in enumerate(lines) if line.startswith("```{code-cell}"))
    j = i + 1
    while lines[j].startswith(":"):
        j += 1
    if j > i + 1 and lines[j] == "":
        j += 1
    lines.insert(j, f"# benchmark edit {run}")
    path.write_text("\n".join(lines), encoding="utf-8")


DATA_EDIT_TABLE = "data/sse_events.csv"


def _edit_data(book: Path, run: int) -> None:
    """Same values, different bytes: switch the line ends between LF and CRLF."""
    path = book / DATA_EDIT_TABLE
    raw = path.read_bytes().replace(b"\r\n", b"\n")
    path.write_bytes(raw.replace(b"\n", b"\r\n") if run % 2 == 0 else raw)


BASELINE_EXTENSIONS = ("kgbook.cache", "kgbook.sphinx_assets")


def _baseline(book: Path) -> None:
    """The book as it was built before issue 11: without this issue's two extensions."""
    cfg = book / "_config.yml"
    lines = cfg.read_text(encoding="utf-8").split("\n")
    keep = [ln for ln in lines if not any(f"- {ext}" in ln for ext in BASELINE_EXTENSIONS)]
    cfg.write_text("\n".join(keep), encoding="utf-8")


def run_builds(runs: int, work: Path, log=print, *, baseline: bool = False,
               cold_runs: int | None = None) -> tuple[dict, Path]:
    book = _copy_book(work / "book")
    if baseline:
        _baseline(book)
    results: dict[str, list[dict]] = {case: [] for case in CASES}
    for i in range(cold_runs or runs):
        shutil.rmtree(book / "_build", ignore_errors=True)
        log(f"cold build {i + 1}/{cold_runs or runs} ...")
        results["cold"].append(build(book))
        log(f"  {results['cold'][-1]}")
    for case, edit in (("no_change", None), ("prose_edit", _edit_prose),
                       ("code_edit", _edit_code), ("data_edit", _edit_data)):
        for i in range(runs):
            if edit is not None:
                edit(book, i)
            if baseline and case == "data_edit":
                # what the Makefile did before: clear the whole cache when data/ changed
                shutil.rmtree(book / "_build" / ".jupyter_cache", ignore_errors=True)
            log(f"{case} {i + 1}/{runs} ...")
            results[case].append(build(book))
            log(f"  {results[case][-1]}")
    html = work / "html"
    shutil.copytree(book / "_build" / "html", html)
    floor = _copy_book(work / "floor")
    if baseline:
        _baseline(floor)
    _set_execution_off(floor)
    for i in range(runs):
        shutil.rmtree(floor / "_build", ignore_errors=True)
        log(f"sphinx floor {i + 1}/{runs} ...")
        results["sphinx_floor"].append(build(floor, strict=False))
        log(f"  {results['sphinx_floor'][-1]}")
    summary = {}
    for case, items in results.items():
        summary[case] = {
            "median_seconds": round(statistics.median(r["seconds"] for r in items), 2),
            "runs_seconds": [r["seconds"] for r in items],
            "executed": [r["executed"] for r in items],
            "median_exec_seconds": round(statistics.median(r["exec_seconds"] for r in items), 2),
            "executed_notebooks": items[-1]["executed_notebooks"],
        }
    return summary, html


# --------------------------------------------------------------------------- Lighthouse


class _GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, gzip-compressed for text types when the client accepts it."""

    def log_message(self, *args):  # quiet
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        compressible = path.suffix in (".html", ".css", ".js", ".svg", ".json", ".txt")
        if not (path.is_file() and compressible
                and "gzip" in self.headers.get("Accept-Encoding", "")):
            return super().send_head()
        body = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=3600")
        self.end_headers()
        import io

        return io.BytesIO(body)


def _serve(html: Path):
    handler = functools.partial(_GzipHandler, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def lighthouse_bin() -> Path:
    exe = LIGHTHOUSE_DIR / "node_modules" / ".bin" / "lighthouse"
    version_file = LIGHTHOUSE_DIR / "node_modules" / "lighthouse" / "package.json"
    if exe.exists() and version_file.is_file() and json.loads(
            version_file.read_text())["version"] == LIGHTHOUSE_VERSION:
        return exe
    LIGHTHOUSE_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(["npm", "install", "--prefix", str(LIGHTHOUSE_DIR), "--no-audit", "--no-fund",
                    f"lighthouse@{LIGHTHOUSE_VERSION}"], check=True, capture_output=True)
    return exe


def lighthouse(html: Path, page: str, work: Path, log=print) -> dict:
    exe = lighthouse_bin()
    server = _serve(html)
    url = f"http://127.0.0.1:{server.server_address[1]}/{page}"
    out = {}
    try:
        for mode in ("mobile", "desktop"):
            report = work / f"lighthouse-{mode}.json"
            cmd = [str(exe), url, "--quiet", "--output=json", f"--output-path={report}",
                   "--only-categories=performance,accessibility,best-practices,seo",
                   "--chrome-flags=--headless=new --no-sandbox --disable-gpu"]
            if mode == "desktop":
                cmd.append("--preset=desktop")
            env = dict(os.environ, CHROME_PATH=CHROME)
            log(f"lighthouse {mode} {url} ...")
            subprocess.run(cmd, check=True, capture_output=True, env=env, timeout=300)
            data = json.loads(report.read_text())
            audits = data["audits"]
            out[mode] = {
                "scores": {k: v["score"] for k, v in data["categories"].items()},
                "first_contentful_paint_ms": round(audits["first-contentful-paint"]
                                                   ["numericValue"]),
                "largest_contentful_paint_ms": round(audits["largest-contentful-paint"]
                                                     ["numericValue"]),
                "total_byte_weight": round(audits["total-byte-weight"]["numericValue"]),
                "failed_audits": sorted(
                    k for k, v in audits.items()
                    if v.get("score") is not None and v["score"] < 1
                    and v.get("scoreDisplayMode") in ("binary", "numeric", "metricSavings")),
            }
    finally:
        server.shutdown()
    return out


# --------------------------------------------------------------------------- report


def machine() -> dict:
    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def weights(html: Path) -> dict:
    return {p.name: page_weight(p, html) for p in chapter_pages(html)}


def _kb(n: int) -> str:
    return f"{n / 1024:,.0f} KB"


def markdown(results: dict) -> str:
    labels = list(results)
    lines = ["# Benchmark results", "",
             "Written by `make bench` (`python -m kgbook.bench`); see that module for what is "
             "measured and how. Times are medians of the runs listed; \"executed\" is the number "
             "of notebooks run in each build, \"exec s\" the sum of their execution times.", ""]
    for label in labels:
        r = results[label]
        lines += [f"## {label}", "", f"Measured {r['date']} on {r['machine']['cpus']} CPU "
                  f"core(s), load average at start {r['machine']['load_average_at_start']}. "
                  + r.get("note", ""), ""]
        if r.get("builds"):
            lines += ["| Case | median s | runs (s) | executed | exec s (median) |",
                      "| --- | ---: | --- | --- | ---: |"]
            for case in CASES:
                b = r["builds"].get(case)
                if b:
                    lines.append(f"| {CASE_TITLES[case]} | {b['median_seconds']:.1f} | "
                                 + ", ".join(f"{s:.1f}" for s in b["runs_seconds"])
                                 + f" | {', '.join(map(str, b['executed']))} | "
                                 f"{b['median_exec_seconds']:.1f} |")
            lines.append("")
            lines += _targets(r["builds"])
        if r.get("pages"):
            lines += ["| Page | files | bytes | gzip |", "| --- | ---: | ---: | ---: |"]
            for name, w in r["pages"].items():
                lines.append(f"| {name} | {w['files']} | {_kb(w['bytes'])} | "
                             f"{_kb(w['gzip_bytes'])} |")
            lines.append("")
        if r.get("lighthouse"):
            lines += [f"Lighthouse {r.get('lighthouse_version', '')} on "
                      f"`{r.get('lighthouse_page', '')}`:", "",
                      "| Mode | performance | accessibility | best practices | SEO | FCP ms | "
                      "LCP ms | bytes |",
                      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
            for mode, v in r["lighthouse"].items():
                s = v["scores"]
                lines.append(f"| {mode} | {s.get('performance')} | {s.get('accessibility')} | "
                             f"{s.get('best-practices')} | {s.get('seo')} | "
                             f"{v['first_contentful_paint_ms']} | "
                             f"{v['largest_contentful_paint_ms']} | "
                             f"{_kb(v['total_byte_weight'])} |")
            lines.append("")
    return "\n".join(lines)


def _targets(b: dict) -> list[str]:
    out = []
    if "cold" in b and "sphinx_floor" in b:
        floor = b["sphinx_floor"]["median_seconds"]
        cold = b["cold"]["median_seconds"]
        bound = 1.2 * (floor + b["cold"]["median_exec_seconds"])
        out.append(f"- Cold build {cold:.1f} s against 1.2 × (floor {floor:.1f} s + execution "
                   f"{b['cold']['median_exec_seconds']:.1f} s) = {bound:.1f} s and against 60 s.")
        if "no_change" in b:
            nc = b["no_change"]["median_seconds"]
            out.append(f"- No-change rebuild {nc:.1f} s against 1.3 × floor = {1.3 * floor:.1f} s; "
                       f"notebooks executed: {b['no_change']['executed']}.")
    if "data_edit" in b:
        out.append(f"- Data edit (`{DATA_EDIT_TABLE}`) re-executed: "
                   + ", ".join(b["data_edit"]["executed_notebooks"]) + ".")
    return out + [""] if out else out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kgbook.bench", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold-runs", type=int, help="cold builds (default: --runs)")
    parser.add_argument("--label", default="after")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks")
    parser.add_argument("--html", type=Path,
                        help="measure pages of this existing HTML folder, skip the builds")
    parser.add_argument("--page", default="chapters/migration.html",
                        help="page for Lighthouse")
    parser.add_argument("--no-lighthouse", action="store_true")
    parser.add_argument("--note", default="")
    parser.add_argument("--baseline", action="store_true",
                        help="measure the book without kgbook.cache and kgbook.sphinx_assets "
                        "(and with the old clear-the-cache-on-data-change rule)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    result = {"date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
              "machine": machine(), "runs": args.runs, "note": args.note}
    with tempfile.TemporaryDirectory(prefix="kgbook-bench-") as tmp:
        work = Path(tmp)
        if args.html:
            html = args.html
        else:
            result["builds"], html = run_builds(args.runs, work, baseline=args.baseline,
                                                 cold_runs=args.cold_runs)
        result["pages"] = weights(html)
        if not args.no_lighthouse:
            result["lighthouse"] = lighthouse(html, args.page, work)
            result["lighthouse_version"] = LIGHTHOUSE_VERSION
            result["lighthouse_page"] = args.page
    args.out.mkdir(parents=True, exist_ok=True)
    store = args.out / "results.json"
    allres = json.loads(store.read_text()) if store.is_file() else {}
    allres[args.label] = result
    store.write_text(json.dumps(allres, indent=2) + "\n")
    (args.out / "results.md").write_text(markdown(allres) + "\n")
    print((args.out / "results.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
