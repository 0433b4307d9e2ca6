"""No statistic is typed by hand into a chapter's prose: numbers reach the text through glue.

The check strips code cells, roles ({glue}, {cite}, {numref}, ...), inline code, link targets
and quotations, then looks for digits. What remains must be an identifier, not a statistic:
names of releases, standards and instruments, indicator codes, decades, or dates that are
part of a name. Anything else fails with the chapter, the line and the token.
"""

from __future__ import annotations

import re

import pytest
from conftest import CHAPTERS, toc_chapters

ALLOWED = [
    r"COVID-19",
    r"(?:SDG|indicator|indicators|series)\s+\d+(?:\.\w+)+",  # SDG indicator codes
    r"\d+(?:\.\d+){1,3}[a-z]?",  # bare indicator codes such as 17.3.2 or 8.3.1
    r"No\.\s?\d+",  # ILO convention and recommendation numbers
    r"\b[CRP]\d{2,3}\b",  # C102, R202, P029
    r"\b(?:19|20)\d0s\b",  # decades
    r"\b(?:19|20)\d{2}\s+(?:WDI\s+)?release\b", r"\b\d+ dpi\b",
    r"\brelease of (?:\w+ )?(?:19|20)\d{2}\b",
    r"\b(?:update|files|data) of (?:\d{1,2} )?\w+ (?:19|20)\d{2}\b",
    r"\b(?:19|20)\d{2}\s?[–-]\s?(?:19|20)?\d{2}\b",  # periods in programme and plan names
    r"\b(?:Convention|Recommendation|Resolution|Protocol|Programme|Strategy|Agenda),? "
    r"(?:19|20)\d{2}\b",
    r"\bTier \d\b", r"\"\d+\"", r"\b\d+(?:st|nd|rd|th)\b",  # Tier 2, "189", 110th session
    r"\b(?:news|page|pages|report|brief|document|item|items|note|story|article|release) of "
    r"(?:\d{1,2} )?(?:(?:January|February|March|April|May|June|July|August|September|October|"
    r"November|December) )?(?:19|20)\d{2}(?:(?:,|\s+and)\s+(?:\w+\s+)?(?:19|20)\d{2})*\b",
    r"\bparagraph \d+\b", r"\bphase \d\b", r"\b[A-Z]/\d+/[A-Z]\.\d+\b", r"\buntil (?:19|20)\d{2}\b",
    r"\b(?:aged?|ages)\s+\d+(?:\s?[–-]\s?\d+| and (?:over|older))?", r"\b24\.kg\b", r"\bM49\b",
    r"\bICLS\b", r"\bBPM\d\b", r"\bSNA[- ]\d{4}\b", r"\bISIC\s?(?:Rev\.\s?)?\d\b",
]


def prose(text: str) -> str:
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    text = re.sub(r"\{[\w:-]+\}`[^`]*`", "", text)
    text = re.sub(r"^\([\w-]+\)=\s*$", "", text, flags=re.M)
    text = re.sub(r"^:[\w-]+:.*$", "", text, flags=re.M)  # directive options
    text = re.sub(r"`[^`]*`", "", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"[“\"][^”\"]{0,300}[”\"]", "", text)  # quotations
    text = re.sub(r"https?://\S+", "", text)
    for pattern in ALLOWED:
        text = re.sub(pattern, "", text)
    return text


CHAPTERS_WITH_PROSE = [c for c in toc_chapters() if c not in {"references", "data"}]


@pytest.mark.parametrize("chapter", CHAPTERS_WITH_PROSE)
def test_no_hand_typed_numbers(chapter):
    text = prose((CHAPTERS / f"{chapter}.md").read_text(encoding="utf-8"))
    hits = [(n, m.group(), line.strip()[:90])
            for n, line in enumerate(text.splitlines(), 1)
            for m in re.finditer(r"\S*\d\S*", line)]
    assert not hits, "numbers typed into prose (glue them from data/):\n" + "\n".join(
        f"  {tok!r}: {ctx}" for _, tok, ctx in hits)


def test_checker_catches_a_typed_number():
    assert re.search(r"\d", prose("Remittances were 32.6% of GDP in 2021."))
    assert not re.search(r"\d", prose("They were {glue:text}`x:.1f`% in {glue:}`y`."))
