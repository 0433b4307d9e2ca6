"""Links in the built site: every local target exists; every external address is declared.

The strict build (``-W -n``) already refuses a broken cross-reference. These tests read the
HTML that was actually written: every local ``href``/``src`` (pages, figures, downloads,
scripts, style sheets) must resolve to a file of the built site and every ``#anchor`` to an
``id`` on its page. External addresses are not fetched (the book builds offline): each must
be a well-formed http(s) address, and each must come from one of the two places where the
book keeps them, ``references.bib`` and ``data/datapackage.json``.
"""

from __future__ import annotations

import json
import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from conftest import ROOT

LINK_ATTRS = {("a", "href"), ("link", "href"), ("script", "src"), ("img", "src"),
              ("source", "src"), ("iframe", "src"), ("embed", "src"), ("object", "data"),
              ("video", "src"), ("audio", "src"), ("track", "src"), ("area", "href")}
NOT_FILES = ("mailto:", "tel:", "data:", "javascript:")
# Addresses the theme itself writes into every page (its own credits), not the book's.
THEME_HOSTS = {"www.sphinx-doc.org", "sphinx-doc.org", "pydata-sphinx-theme.readthedocs.io",
               "sphinx-book-theme.readthedocs.io", "jupyterbook.org", "executablebooks.org"}


class _Links(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []  # (tag.attr, value)
        self.ids: set[str] = set()
        self.canonical: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key) and (key == "id" or tag == "a"):
                self.ids.add(attrs[key])
        if tag == "link" and attrs.get("rel") == "canonical":
            self.canonical = attrs.get("href")
        for t, a in LINK_ATTRS:
            if tag == t and attrs.get(a):
                self.links.append((f"{tag}.{a}", attrs[a].strip()))
        if tag in ("img", "source") and attrs.get("srcset"):
            for part in attrs["srcset"].split(","):
                if part.strip():
                    self.links.append((f"{tag}.srcset", part.split()[0]))


@cache
def _parse(path: Path) -> _Links:
    p = _Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def _pages(book) -> list[Path]:
    pages = sorted(book.html.rglob("*.html"))
    assert len(pages) >= 10
    return pages


def _is_external(value: str) -> bool:
    return bool(urlsplit(value).scheme) or value.startswith("//")


def test_every_local_link_resolves(book):
    site = book.html.resolve()
    broken: list[str] = []
    checked = 0
    for page in _pages(book):
        for where, value in _parse(page).links:
            if _is_external(value) or value.lower().startswith(NOT_FILES):
                continue
            parts = urlsplit(value)
            if parts.path.startswith("/"):  # root-relative (the 404 page): the site root
                target = (site / unquote(parts.path).lstrip("/")).resolve()
            else:
                target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            checked += 1
            rel = page.relative_to(book.html)
            if site not in target.parents and target != site:
                broken.append(f"{rel}: {where}={value!r} points outside the site")
                continue
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{rel}: {where}={value!r} -> no file {target.relative_to(site)}")
                continue
            anchor = unquote(parts.fragment)
            if anchor and target.suffix == ".html" and anchor not in _parse(target).ids:
                broken.append(f"{rel}: {where}={value!r} -> no id {anchor!r} in "
                              f"{target.relative_to(site)}")
    assert checked > 100, f"only {checked} local links found: is the parser right?"
    assert not broken, f"{len(broken)} broken local links:\n" + "\n".join(broken[:40])


def declared_addresses() -> set[str]:
    """Every external address the book declares: bibliography and data package."""
    bib = (ROOT / "references.bib").read_text(encoding="utf-8")
    found = set(re.findall(r"\burl\s*=\s*[{\"]\s*([^}\"\s]+)", bib, flags=re.I))
    found |= {f"https://doi.org/{d}" for d in
              re.findall(r"\bdoi\s*=\s*[{\"]\s*([^}\"\s]+)", bib, flags=re.I)}

    def walk(node):
        if isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
        elif isinstance(node, str) and re.match(r"^https?://", node):
            found.add(node)
    walk(json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8")))
    return found


def _valid_address(url: str) -> str | None:
    """None if ``url`` is a well-formed absolute http(s) address, else what is wrong."""
    if url != url.strip() or re.search(r"\s", url):
        return "contains white space"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"scheme {parts.scheme!r} is not http or https"
    host = parts.hostname or ""
    if not host or not re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*"
                                    r"[a-z0-9])?)+", host):
        return f"host {host!r} is not a domain name"
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as err:
        return str(err)
    return None


def test_declared_addresses_are_well_formed():
    addresses = declared_addresses()
    assert len(addresses) >= 10, "fewer external addresses than expected: is the reader right?"
    bad = {u: why for u in sorted(addresses) if (why := _valid_address(u))}
    assert not bad, bad


def _normal(url: str) -> str:
    return unquote(url).rstrip("/").replace("http://", "https://", 1)


def site_address(book) -> str | None:
    """The site's own address (html_baseurl), read back from the pages' canonical links."""
    bases = set()
    for page in _pages(book):
        canonical = _parse(page).canonical
        rel = page.relative_to(book.html).as_posix()
        if canonical and canonical.endswith(rel):  # (a redirect names its target instead)
            bases.add(canonical[: -len(rel)])
    assert len(bases) <= 1, f"pages disagree on the site address: {bases}"
    return bases.pop() if bases else None


def test_external_links_in_pages_are_declared(book):
    """An external link in a page comes from the bibliography or the data package (links to
    the site's own address, html_baseurl in _config.yml, are the site's own pages)."""
    declared = {_normal(u) for u in declared_addresses()}
    own = site_address(book)
    if own:
        assert urlsplit(own).scheme in ("http", "https") and urlsplit(own).hostname, own
    undeclared: dict[str, list[str]] = {}
    malformed: dict[str, str] = {}
    for page in _pages(book):
        for _, value in _parse(page).links:
            if not _is_external(value) or value.lower().startswith(NOT_FILES):
                continue
            if own and value.startswith(own):
                continue
            if why := _valid_address(value):
                malformed[value] = why
                continue
            if urlsplit(value).hostname in THEME_HOSTS:
                continue
            if _normal(value) not in declared:
                undeclared.setdefault(value, []).append(page.relative_to(book.html).as_posix())
    assert not malformed, malformed
    assert not undeclared, ("external links that are not in references.bib or "
                            f"data/datapackage.json: {undeclared}")
