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
