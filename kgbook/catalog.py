"""Readable descriptions of the data package, generated for the book's data page."""

from __future__ import annotations

from .book import markdown_table
from .data import load_table, package


def _years(name: str) -> str:
    df = load_table(name)
    if "year" in df:
        return f"{df['year'].min()}–{df['year'].max()}"
    for col in ("date", "start_date", "published"):
        if col in df:
            vals = df[col].dropna().astype(str)
            return f"{vals.min()[:10]} to {vals.max()[:10]}" if len(vals) else "–"
    return "–"


def _source_text(src: dict) -> str:
    """Publisher and title, linked when the source has a web address."""
    if src["path"].startswith("http"):
        return f"{src['publisher']}, [{src['title']}]({src['path']})"
    return f"{src['publisher']}, {src['title']} (`data/{src['path']}`)"


def table_summary() -> str:
    """One row per table: name, title, rows, years, publisher, licence."""
    import pandas as pd

    rows = []
    for res in package()["resources"]:
        df = load_table(res["name"])
        rows.append({
            "table": f"[`{res['path']}`](#data-{res['name'].replace('_', '-')})",
            "what": res["title"],
            "rows": len(df),
            "years": _years(res["name"]),
            "publisher": ", ".join(dict.fromkeys(s["publisher"] for s in res["sources"])),
            "licence": ", ".join(lic["name"] for lic in res["licenses"]),
        })
    return markdown_table(pd.DataFrame(rows), columns={
        "table": "File", "what": "What it holds", "rows": "Rows", "years": "Period",
        "publisher": "Publisher", "licence": "Licence"})


def table_details() -> str:
    """A section per table with provenance and a field list (Markdown)."""
    import pandas as pd

    parts = []
    for res in package()["resources"]:
        anchor = "data-" + res["name"].replace("_", "-")
        src = res["sources"]
        lines = [
            f"({anchor})=",
            f"### `{res['path']}`",
            "",
            f"**{res['title']}.** {res['description']}",
            "",
            "- **Publisher and source:** " + "; ".join(_source_text(s) for s in src),
            "- **Indicator codes:** " + ("; ".join(
                f"`{code}` {label}" for s in src for code, label in s.get("indicators", {}).items())
                or "none (compiled from documents)"),
            f"- **Release or snapshot:** {res['release']}",
            f"- **Copied into this book:** {res['retrieved']}",
            "- **Licence:** " + "; ".join(
                f"[{lic['title']}]({lic['path']})" for lic in res["licenses"]),
            f"- **How it was derived:** {res['derivation']}",
            f"- **Limitations:** {res['limitations']}",
            f"- **Used in chapters:** {', '.join(res['chapters'])}",
            f"- **Primary key:** {', '.join(res['schema'].get('primaryKey', [])) or 'none'}",
            "",
        ]
        fields = pd.DataFrame([{
            "field": f"`{f['name']}`", "type": f.get("type", "string"),
            "unit": f.get("unit", ""), "description": f.get("description", ""),
            "constraints": ", ".join(
                f"{k} {v}" if k != "enum" else "one of " + " ".join(map(str, v))
                for k, v in f.get("constraints", {}).items() if v is not False),
        } for f in res["schema"]["fields"]])
        lines.append(markdown_table(fields, columns={
            "field": "Field", "type": "Type", "unit": "Unit", "description": "Description",
            "constraints": "Constraints"}))
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


# --- Figures: which chapter and cell make each one, and which files belong to it ---------

FIGURE_ID_END = "./_"  # what may follow a figure id in a file or folder name under figures/


def figure_cells() -> list[dict]:
    """Every figure declared in a chapter, in book order, with the code cell that draws it.

    Reads the chapters listed in ``_toc.yml`` as notebooks (jupytext) and returns, per figure:
    id, chapter, the 1-based number of the code cell, the chart function it calls, caption.
    """
    import re

    import jupytext

    from .data import ROOT

    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    out = []
    for chapter in re.findall(r"(?:root|file):\s*chapters/([\w-]+)", toc):
        nb = jupytext.read(ROOT / "chapters" / f"{chapter}.md")
        code_cells = [c for c in nb.cells if c.cell_type == "code"]
        for number, cell in enumerate(code_cells, start=1):
            fig = cell.metadata.get("mystnb", {}).get("figure", {})
            if not fig.get("name", "").startswith("fig-"):
                continue
            kinds = re.findall(r"kg\.(\w+_chart|new_figure)\(", cell.source)
            saved = re.findall(r"save_figure\(\s*\w+\s*,\s*\"(fig-[\w-]+)\"", cell.source)
            if saved and saved != [fig["name"]]:
                raise ValueError(f"chapters/{chapter}.md, code cell {number}: figure "
                                 f"'{fig['name']}' is saved under {saved}")
            out.append({"id": fig["name"], "chapter": chapter, "cell": number,
                        "cells": len(code_cells), "made_with": kinds[0] if kinds else "matplotlib",
                        "caption": fig.get("caption", "")})
    return out


def figure_owner(relpath: str, ids: list[str]) -> str | None:
    """The figure id a file under ``figures/`` belongs to (longest id its path starts with)."""
    name = relpath.replace("\\", "/")
    best = None
    for fid in ids:
        for part in (name, name.rsplit("/", 1)[-1]):
            rest = part[len(fid):]
            if part.startswith(fid) and (not rest or rest[0] in FIGURE_ID_END + "/"):
                if best is None or len(fid) > len(best):
                    best = fid
    return best


def figure_files() -> dict[str, list[str]]:
    """Files under ``figures/`` grouped by figure id; files owned by no figure under ''."""
    from .data import ROOT

    folder = ROOT / "figures"
    ids = [f["id"] for f in figure_cells()]
    groups: dict[str, list[str]] = {fid: [] for fid in ids}
    groups[""] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        groups[figure_owner(rel, ids) or ""].append(rel)
    return groups


def figure_list() -> str:
    """Markdown table: every figure, the chapter and code cell that make it, and its files."""
    import pandas as pd

    files = figure_files()
    if files[""]:
        raise ValueError("files in figures/ that belong to no figure in the book: "
                         + ", ".join(files[""]))
    rows = []
    for fig in figure_cells():
        mine = files[fig["id"]]
        kinds = sorted({f.rsplit(".", 1)[-1] for f in mine})
        rows.append({
            "figure": f"{{numref}}`{fig['id']}`",
            "id": f"`{fig['id']}`",
            "chapter": f"{{doc}}`{fig['chapter']}`",
            "cell": f"`chapters/{fig['chapter']}.md`, code cell {fig['cell']} of "
                    f"{fig['cells']} (`kg.{fig['made_with']}`)",
            "files": f"{len(mine)} ({', '.join(kinds)})" if mine else "none yet",
        })
    return markdown_table(pd.DataFrame(rows), columns={
        "figure": "Figure", "id": "Stable id", "chapter": "Chapter",
        "cell": "Made by", "files": "Files in `figures/`"})


def availability_statement() -> str:
    """Data availability and provenance, in the style of a replication package README."""
    import re
    from collections import Counter

    from .data import ROOT

    resources = package()["resources"]
    documents = [res for res in resources if any(
        f["name"] == "url" for f in res["schema"]["fields"])]
    authored = [res for res in resources if res not in documents
                and all(src["publisher"] == "The book's authors" for src in res["sources"])]
    series = [res for res in resources if res not in documents and res not in authored]
    by_publisher = Counter(s["publisher"] for res in series
                           for s in {s["publisher"]: s for s in res["sources"]}.values())
    unlicensed = Counter(s["publisher"] for res in series for s in res["sources"][:1]
                         if any(lic["name"] == "no-licence-stated" for lic in res["licenses"]))
    doc_unlicensed = [res for res in documents if any(
        lic["name"] == "no-licence-stated" for lic in res["licenses"])]
    addresses = {str(v) for res in documents
                 for v in load_table(res["name"])["url"].dropna()}
    pins = [ln for ln in (ROOT / "requirements.txt").read_text().splitlines()
            if re.match(r"^[A-Za-z0-9_.\-\[\]]+==", ln)]
    python = re.search(r'requires-python\s*=\s*"([^"]+)"',
                       (ROOT / "pyproject.toml").read_text()).group(1).split(",")[0].lstrip(">=~")
    publishers = "; ".join(f"{name} ({n} {'table' if n == 1 else 'tables'})"
                           for name, n in by_publisher.most_common())
    unlicensed_text = " and ".join(unlicensed) or "none"
    return "\n".join([
        "### Data availability and provenance",
        "",
        f"All {len(resources)} tables used in the book are public and are redistributed in "
        "`data/` with the book, so nothing has to be requested or downloaded to reproduce it. "
        "Each table's publisher, release, retrieval date, original address, licence, "
        "derivation and limitations are given in its section below and, in machine-readable "
        "form, in `data/datapackage.json`.",
        "",
        f"- **{len(series)} statistical tables** are extracts of published series, copied "
        f"without changes to the values: {publishers}. World Bank and ILOSTAT data are "
        "released under the Creative Commons Attribution 4.0 licence. The publisher of "
        f"the remaining series ({unlicensed_text}) states no licence for its online "
        "statistics; they are official statistics published for public use, redistributed "
        "here with attribution, and marked `no-licence-stated` so that a reuser can check "
        "the terms before republishing them.",
        f"- **{len(documents)} tables were compiled by the authors** from "
        f"{len(addresses)} distinct published documents (laws, reports, official and news "
        "pages). Every row carries the address of its document, its key in the bibliography "
        "and the identifier of a supporting quotation in the project's fact ledger. The "
        "compilations are released under CC BY 4.0"
        + (f", except {len(doc_unlicensed)} "
           + ("table that reproduces" if len(doc_unlicensed) == 1 else "tables that reproduce")
           + " values from a publisher stating no licence, marked `no-licence-stated` like "
           "that publisher's series" if doc_unlicensed
           else "")
        + "; the documents themselves remain under their publishers' terms and are cited, "
        "not copied.",
        *([f"- **{len(authored)} {'table is' if len(authored) == 1 else 'tables are'} the "
            "authors' own assessment**, holding no statistics: "
            + ", ".join(f"`{res['path']}` ({res['title'][0].lower() + res['title'][1:]})"
                        for res in authored) + ", under CC BY 4.0."] if authored else []),
        "- **Nothing is confidential or restricted**, and no data were collected from people "
        "for this book.",
        "",
        "### Computational requirements",
        "",
        f"- **Software:** Python {python} and GNU Make; {len(pins)} Python packages pinned to "
        "exact versions in `requirements.txt` and installed into `.venv` by `make book`. "
        "The optional PDF edition needs a LaTeX installation (the Debian packages are named "
        "in `.ci/run`).",
        "- **Hardware and time:** an ordinary laptop is enough; the execution and build times "
        "measured on a two-core machine are in `benchmarks/results.md`.",
        "- **Network:** none after installation. The build reads only files in this folder.",
        "",
        "### Instructions to replicators",
        "",
        "1. `make book` creates the environment, executes every chapter from `data/` and builds "
        "the HTML book in `_build/html`; every figure is rewritten in `figures/`.",
        "2. `make test` rebuilds the book from scratch with warnings treated as errors and "
        "checks, among other things, that every number in the text equals the value "
        "recomputed from the tables and that the figure files are byte-for-byte identical.",
        "3. `make data` regenerates the tables in `data/` from the upstream extracts kept "
        "outside the book (`kgbook/derive/`); it is not needed to reproduce the book.",
        "",
        "Each chapter ends with a reproducibility receipt listing the files it read with "
        "their SHA-256 checksums, the software versions and the commit it was executed at.",
    ])
