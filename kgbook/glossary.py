"""The glossary page, generated from the definitions register (``data/definitions.csv``).

``glossary_markdown()`` returns a MyST ``{glossary}`` directive with one entry per term (and
its alias, if any), so that ``{term}`role`` links in any chapter resolve to it.
"""

from __future__ import annotations

import re

from .data import load_table


def _text(value) -> str:
    """A cell as text; missing cells (None or NaN) as the empty string."""
    return value if isinstance(value, str) else ""


def _clean(text: str) -> str:
    # glossary bodies are parsed as MyST: keep the register's plain text literal
    return re.sub(r"([*_`{}\[\]])", r"\\\1", text)


def glossary_markdown() -> str:
    """A MyST glossary directive built from the register, sorted by term."""
    defs = load_table("definitions").sort_values("term", key=lambda s: s.str.lower())
    lines = [":::{glossary}"]
    for _, raw in defs.iterrows():
        row = {k: _text(v) for k, v in raw.items()}
        lines.append(row["term"])
        if row["alias"]:
            lines.append(row["alias"])
        lines.append(f"  {_clean(row['definition'])}")
        lines.append("")
        meta = [f"*Standard:* {_clean(row['standard'])}"]
        if row["term_ru"]:
            note = " (as in the NSC data files)" if row["ru_source"] == "NSC data file" else ""
            meta.append(f"*Russian:* {_clean(row['term_ru'])}{note}")
        if row["term_ky"]:
            meta.append(f"*Kyrgyz:* {_clean(row['term_ky'])}")
        meta.append(f"*Area:* {row['category']}")
        meta.append(f"*Source:* {{cite:t}}`{row['bibkey']}`")
        lines.append("  " + " · ".join(meta))
        lines.append("")
    lines.append(":::")
    return "\n".join(lines)
