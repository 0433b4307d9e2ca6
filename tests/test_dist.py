"""The published form of the book: dist/ (make dist), its archives and the workflows.

The deployable site and the archives are made from the session's strict build (the ``book``
fixture) into a temporary folder with ``kgbook.dist.build_dist``; the book is not rebuilt.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml
from conftest import ROOT, declared_figures, toc_chapters

from kgbook import dist as D

FAKE_PDF = b"%PDF-1.4\n% stand-in for _build/latex/book.pdf\n%%EOF\n"
WORKFLOWS = ROOT / ".github" / "workflows"


@pytest.fixture(scope="module")
def built(book, tmp_path_factory):
    out = tmp_path_factory.mktemp("dist") / "dist"
    pdf = out.parent / "book.pdf"
    pdf.write_bytes(FAKE_PDF)
    return D.build_dist(book.root, out, pdf=pdf)


def site_files(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())


# ------------------------------------------------------------------------------------------
# The deployable site
# ------------------------------------------------------------------------------------------

def test_site_holds_no_build_logs_reports_or_maps(built):
    files = site_files(built.site)
    assert len(files) > 50
    bad = [f for f in files
           if f.endswith((".map", ".log", ".pickle", ".doctree"))
           or f.rsplit("/", 1)[-1] in {"output.txt", "output.json", ".buildinfo"}
           or re.search(r"(^|/)(reports|\.doctrees|jupyter_execute|\.jupyter_cache)/", f)]
    assert bad == []
    # nothing in the published JavaScript or CSS still points browsers at a map
    for f in files:
        if f.endswith((".js", ".css")):
            text = (built.site / f).read_text(encoding="utf-8", errors="replace")
            assert "sourceMappingURL=" not in text[-300:], f


def test_site_has_the_required_files(built):
    for name in ("index.html", "404.html", "sitemap.xml", "robots.txt", "favicon.ico",
                 "favicon.svg", "social-card.png"):
        assert (built.site / name).is_file(), name
    for chapter in toc_chapters():
        assert (built.site / "chapters" / f"{chapter}.html").is_file(), chapter


def test_every_internal_link_resolves(built):
    assert D.broken_links(built.site, built.url) == []
    assert D.check_site(built.site, built.url) == []


def test_link_checker_finds_what_is_broken(tmp_path):
    site = tmp_path / "site"
    (site / "a").mkdir(parents=True)
    (site / "style.css").write_text("body{background:url(img/missing.png)}")
    (site / "a" / "page.html").write_text(
        '<a href="../index.html">ok</a><a href="gone.html#x">gone</a>'
        '<img src="/book/a/page.html"><link href="/elsewhere/x.css">'
        '<a href="https://other.example/">external</a>'
        '<meta property="og:image" content="https://example.org/book/nope.png">')
    (site / "index.html").write_text('<meta http-equiv="Refresh" content="0; url=a/lost.html">')
    problems = "\n".join(D.broken_links(site, "https://example.org/book/"))
    assert "gone.html#x" in problems
    assert "/elsewhere/x.css (outside the site address" in problems
    assert "nope.png" in problems
    assert "a/lost.html" in problems
    assert "img/missing.png" in problems
    assert "../index.html" not in problems and "/book/a/page.html" not in problems
    assert "other.example" not in problems


def test_pages_carry_social_preview_metadata(built):
    url = built.url
    for chapter in toc_chapters():
        page = (built.site / "chapters" / f"{chapter}.html").read_text(encoding="utf-8")
        meta = dict(re.findall(r'<meta property="(og:[a-z:]+)" content="([^"]*)"', page))
        assert meta.get("og:title"), chapter
        assert meta.get("og:url") == f"{url}chapters/{chapter}.html", chapter
        assert meta.get("og:image") == f"{url}social-card.png", chapter
        assert meta.get("og:image:alt"), chapter
        if chapter != "references":
            assert len(meta.get("og:description", "")) > 40, chapter
        assert '<meta name="twitter:card" content="summary_large_image" />' in page, chapter
        assert page.count('<meta name="description"') == 1, chapter
        assert f'<link rel="canonical" href="{url}chapters/{chapter}.html"' in page, chapter
        assert re.search(r'<link rel="icon" href="[^"]*favicon\.svg"', page), chapter
    landing = (built.site / "index.html").read_text(encoding="utf-8")
    assert f'<meta property="og:url" content="{url}" />' in landing
    assert 'http-equiv="Refresh"' in landing and "og:image" in landing


def test_sitemap_lists_every_page_under_the_site_address(built):
    tree = ElementTree.parse(built.site / "sitemap.xml")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [e.text for e in tree.getroot().findall("s:url/s:loc", ns)]
    expected = {f"{built.url}chapters/{c}.html" for c in toc_chapters()}
    assert expected <= set(locs)
    assert all(loc.startswith(built.url) for loc in locs)
    assert not [loc for loc in locs if loc.endswith(("404.html", "search.html", "genindex.html"))]
    robots = (built.site / "robots.txt").read_text()
    assert f"Sitemap: {built.url}sitemap.xml" in robots.splitlines()


def test_404_page_works_at_any_depth(built):
    page = (built.site / "404.html").read_text(encoding="utf-8")
    assert "Page not found" in page
    prefix = re.match(r"https?://[^/]+(/.*)$", built.url).group(1)
    links = re.findall(r'(?:href|src)="([^"#][^"]*)"', page)
    assert len(links) > 10
    relative = [u for u in links if not u.startswith((prefix, "http://", "https://"))]
    assert relative == [], "relative links break when 404.html is served at a deeper path"


def test_404_links_become_absolute_under_the_site_path():
    page = ('<html data-content_root="./"><link href="_static/a.css?v=1"><a href="#main">skip</a>'
            '<a href="chapters/intro.html">x</a><form action="search.html"></form>'
            '<a href="https://other.example/x">y</a><img src="/kg-book/_images/p.png">')
    out = D.absolute_links(page, "/kg-book/")
    assert 'data-content_root="/kg-book/"' in out
    assert 'href="/kg-book/_static/a.css?v=1"' in out
    assert 'href="/kg-book/chapters/intro.html"' in out
    assert 'action="/kg-book/search.html"' in out
    assert 'href="#main"' in out and 'href="https://other.example/x"' in out
    assert 'src="/kg-book/_images/p.png"' in out


def test_favicon_files_are_images():
    from PIL import Image

    with Image.open(D.SITE_EXTRA / "favicon.ico") as ico:
        assert (32, 32) in ico.info["sizes"]
    with Image.open(D.SITE_EXTRA / "social-card.png") as card:
        assert card.size == (1200, 630)
    svg = ElementTree.parse(D.SITE_EXTRA / "favicon.svg").getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"


def test_committed_art_is_what_the_generator_draws(tmp_path):
    for path in D.make_art(tmp_path):
        assert path.read_bytes() == (D.SITE_EXTRA / path.name).read_bytes(), path.name


def test_base_url_comes_from_one_setting(monkeypatch):
    monkeypatch.delenv(D.BASE_URL_ENV, raising=False)
    assert D.base_url("") == D.LOCAL_BASE_URL
    assert D.base_url("https://example.org/book") == "https://example.org/book/"
    monkeypatch.setenv(D.BASE_URL_ENV, "https://owner.github.io/repo")
    assert D.base_url("https://example.org/book/") == "https://owner.github.io/repo/"
    monkeypatch.setenv(D.BASE_URL_ENV, "owner.github.io/repo")
    with pytest.raises(ValueError, match=D.BASE_URL_ENV):
        D.base_url("")


# ------------------------------------------------------------------------------------------
# Archives and checksums
# ------------------------------------------------------------------------------------------

def test_archives_are_named_by_the_version_in_pyproject(built):
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert metadata.version("kgbook") == version, "reinstall: make env"
    names = sorted(p.name for p in built.out.iterdir() if p.is_file())
    stem = f"kgbook-{version}"
    assert names == sorted([f"{stem}.zip", f"{stem}.zip.sha256", f"{stem}.pdf",
                            f"{stem}.pdf.sha256", f"{stem}-notebooks.zip",
                            f"{stem}-notebooks.zip.sha256"])
    assert (built.out / f"{stem}.pdf").read_bytes() == FAKE_PDF


def test_checksums_match_the_archives(built, tmp_path):
    assert D.verify_checksums(built.out) == []
    sha256sum = shutil.which("sha256sum")
    if sha256sum:
        sums = sorted(p.name for p in built.out.glob("*.sha256"))
        proc = subprocess.run([sha256sum, "-c", *sums], cwd=built.out, capture_output=True,
                              text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    # a changed archive is caught
    copy = tmp_path / "copy"
    shutil.copytree(built.out, copy, ignore=shutil.ignore_patterns("site"))
    target = next(copy.glob("*-notebooks.zip"))
    target.write_bytes(target.read_bytes() + b"\0")
    assert any("does not match" in p for p in D.verify_checksums(copy))


def test_site_zip_is_the_site_and_reproducible(built):
    name = D.dist_name()
    archive = built.out / f"{name}.zip"
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        assert zf.testzip() is None
    assert [i.filename for i in infos] == sorted(f"{name}/{f}" for f in site_files(built.site))
    assert {i.date_time for i in infos} == {D.ZIP_DATE}
    assert not [i.filename for i in infos if D.forbidden(i.filename)]
    again = D.write_zip({f"{name}/{f}": built.site / f for f in site_files(built.site)},
                        built.out.parent / "again.zip")
    assert again.read_bytes() == archive.read_bytes()


def test_notebooks_zip_holds_what_a_reader_needs_to_rerun(built):
    import nbformat

    name = D.dist_name()
    archive = built.out / f"{name}-notebooks.zip"
    root = f"{name}-notebooks/"
    with zipfile.ZipFile(archive) as zf:
        names = set(zf.namelist())
        for required in ("README.md", "requirements.txt", "pyproject.toml", "_config.yml",
                         "_toc.yml", "data/datapackage.json", "kgbook/__init__.py",
                         "kgbook/data.py", *(f"chapters/{c}.md" for c in toc_chapters())):
            assert root + required in names, required
        data_files = {p.relative_to(ROOT).as_posix() for p in (ROOT / "data").iterdir()}
        assert {root + f for f in data_files} <= names
        metadata = {f"{root}figures/{fid}/{fid}.json" for c in toc_chapters()
                    for fid in declared_figures(c)}
        assert metadata and metadata <= names, "figure metadata missing from the archive"
        executable = [c for c in toc_chapters()
                      if "```{code-cell}" in (ROOT / "chapters" / f"{c}.md").read_text()]
        assert len(executable) >= 5
        imports = 0
        for chapter in executable:
            nb = nbformat.reads(zf.read(f"{root}chapters/{chapter}.ipynb").decode(), as_version=4)
            nbformat.validate(nb)
            code = [c for c in nb.cells if c.cell_type == "code"]
            assert code and all(not c.outputs for c in code), chapter
            imports += any("import kgbook" in c.source for c in code)
        assert imports >= 5
        for optional in ("CITATION.cff", "LICENSE"):
            if (ROOT / optional).is_file():
                assert root + optional in names, optional
        assert not [n for n in names if D.forbidden(n) or "__pycache__" in n]
        readme = zf.read(root + "README.md").decode()
        assert "pip install -r requirements.txt" in readme
    # same sources, same bytes
    first = D.write_zip(D.notebook_entries(ROOT, prefix=root), built.out.parent / "nb1.zip")
    second = D.write_zip(D.notebook_entries(ROOT, prefix=root), built.out.parent / "nb2.zip")
    assert first.read_bytes() == second.read_bytes()


def test_deterministic_zip_ignores_file_times(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("one")
    b.write_text("two")
    first = D.write_zip({"x/b.txt": b, "x/a.txt": a}, tmp_path / "1.zip").read_bytes()
    import os

    os.utime(a, (1e9, 1e9))
    second = D.write_zip({"x/a.txt": a, "x/b.txt": b}, tmp_path / "2.zip").read_bytes()
    assert first == second
    assert zipfile.ZipFile(io.BytesIO(first)).namelist() == ["x/a.txt", "x/b.txt"]


# ------------------------------------------------------------------------------------------
# Workflows: linted here because they cannot run here
# ------------------------------------------------------------------------------------------

def _tool(name: str) -> str:
    path = Path(sys.executable).with_name(name)
    if not path.exists():
        pytest.fail(f"{name} is not installed in the book's environment (make env)")
    return str(path)


def _lint(folder: Path) -> list[subprocess.CompletedProcess]:
    return [
        subprocess.run([_tool("zizmor"), "--offline", "--no-progress",
                        "--config", str(ROOT / ".github" / "zizmor.yml"),
                        *map(str, sorted(folder.glob("*.yml")))],
                       capture_output=True, text=True),
        subprocess.run([_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                        *map(str, sorted(folder.glob("*.yml")))], capture_output=True, text=True),
    ]


def test_workflows_pass_the_linters():
    assert sorted(p.name for p in WORKFLOWS.glob("*.yml")) == ["pages.yml", "pr.yml",
                                                              "release.yml"]
    for proc in _lint(WORKFLOWS):
        assert proc.returncode == 0, proc.args[0] + "\n" + proc.stdout + proc.stderr


def test_linters_reject_a_broken_workflow(tmp_path):
    bad = tmp_path / "workflows"
    bad.mkdir()
    (bad / "bad.yml").write_text(
        "on: pull_request\n"
        "jobs:\n"
        "  x:\n"
        "    runs-on: ubuntu-latest\n"
        "    step:\n"  # misspelt key
        "      - run: echo \"${{ github.event.pull_request.title }}\"\n")
    (bad / "injection.yml").write_text(
        "on: pull_request\n"
        "permissions: {}\n"
        "jobs:\n"
        "  x:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - run: echo \"${{ github.event.pull_request.title }}\"\n")
    zizmor, schema = _lint(bad)
    assert zizmor.returncode != 0 and "template-injection" in zizmor.stdout + zizmor.stderr
    assert schema.returncode != 0 and "bad.yml" in schema.stdout + schema.stderr


def _workflow(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def _steps(workflow: dict) -> list[dict]:
    return [s for job in workflow["jobs"].values() for s in job.get("steps", [])]


def test_pull_request_workflow_tests_and_uploads_the_site():
    wf = _workflow("pr.yml")
    assert "pull_request" in wf["on"]
    steps = _steps(wf)
    runs = " ".join(s.get("run", "") for s in steps)
    assert "bash .ci/run" in runs and "make dist" in runs
    upload = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload and upload[0]["with"]["path"].startswith("dist")


def test_pages_workflow_deploys_dist_with_the_pages_address():
    wf = _workflow("pages.yml")
    assert wf["on"]["push"]["branches"] == ["main"]
    steps = _steps(wf)
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/configure-pages@") for u in uses)
    assert any(u.startswith("actions/deploy-pages@") for u in uses)
    build = next(s for s in steps if re.search(r"\bmake (pdf )?dist\b", s.get("run", "")))
    assert build["env"]["KGBOOK_BASE_URL"] == "${{ steps.pages.outputs.base_url }}"
    artifact = next(s for s in steps if s.get("uses", "").startswith(
        "actions/upload-pages-artifact@"))
    assert artifact["with"]["path"] == "dist/site"
    assert wf["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}


def test_release_workflow_attaches_archive_pdf_and_notebooks():
    wf = _workflow("release.yml")
    assert wf["on"]["push"]["tags"] == ["v*"]
    runs = " ".join(s.get("run", "") for s in _steps(wf))
    assert "make pdf dist" in runs
    assert "gh release create" in runs and "sha256sum -c" in runs
    for pattern in ("*.zip", "*.pdf", "*.sha256"):
        assert f"./{pattern}" in runs


def test_bundled_notebooks_run_from_the_unpacked_archive(built, tmp_path):
    """A reader's rerun: two quick chapters execute with only what the archive holds."""
    import os

    name = D.dist_name()
    with zipfile.ZipFile(built.out / f"{name}-notebooks.zip") as zf:
        zf.extractall(tmp_path)
    folder = tmp_path / f"{name}-notebooks"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KGBOOK_")}
    env["PYTHONPATH"] = str(folder)  # the archive's kgbook/, not the checkout's
    chapters = [c for c in ("glossary", "how-to-cite")
                if (folder / "chapters" / f"{c}.ipynb").is_file()]
    assert "glossary" in chapters
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("jupyter")), "nbconvert", "--to", "notebook",
         "--execute", "--ExecutePreprocessor.timeout=300", "--output-dir", str(tmp_path),
         *(f"{c}.ipynb" for c in chapters)],
        cwd=folder / "chapters", env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for c in chapters:
        out = json.loads((tmp_path / f"{c}.ipynb").read_text())
        assert any(cell.get("outputs") for cell in out["cells"]), c
