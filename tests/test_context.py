"""Country context chapter: every glued number recomputed from the CSVs, the chapter's figures,
and the definitions register behind the glossary ({term} links, validity, references)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import declared_figures, toc_chapters

from kgbook.data import load_table

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
CHAPTERS = ROOT / "chapters"
FIGURE_IDS = ["fig-context-gdp-per-capita", "fig-context-gdp-trend", "fig-context-gdp-growth",
              "fig-context-employment-sector", "fig-context-participation",
              "fig-context-unemployment", "fig-context-neet"]


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"{name}.csv")


@pytest.fixture(scope="module")
def glued(book):
    return book.glued("context")


# ---- glued statistics, recomputed independently -------------------------------------------

def test_gdp_values(glued):
    gdp = _csv("wdi_gdp")
    year = gdp[gdp.country == "KGZ"].year.max()
    assert glued["ctx_gdp_year"] == year == 2023
    pc = gdp[gdp.year == year].set_index("country").gdp_per_capita_usd
    for c in ["KGZ", "KAZ", "TJK", "UZB", "LMC", "ECA", "RUS"]:
        assert glued[f"ctx_gdppc_{c.lower()}"] == pytest.approx(pc[c])
    assert glued["ctx_gdppc_kaz_ratio"] == pytest.approx(pc["KAZ"] / pc["KGZ"])
    assert glued["ctx_gdppc_kgz_lmc_pct"] == pytest.approx(100 * pc["KGZ"] / pc["LMC"])
    countries = ["KGZ", "KAZ", "TJK", "UZB", "ARM", "GEO", "MDA", "RUS"]
    rank = pc[countries].rank().loc["KGZ"]
    assert glued["ctx_gdppc_rank"] == {1: "the lowest", 2: "the second lowest",
                                       3: "the third lowest"}[int(rank)]
    assert glued["ctx_gdppc_n"] == len(countries)
    kgz = gdp[gdp.country == "KGZ"].set_index("year")
    assert glued["ctx_gdppc_kgz_2000"] == pytest.approx(kgz.gdp_per_capita_usd[2000])
    assert glued["ctx_gdppc_kgz_multiple"] == pytest.approx(
        kgz.gdp_per_capita_usd[year] / kgz.gdp_per_capita_usd[2000])


def test_growth_values(glued):
    gdp = _csv("wdi_gdp")
    g2020 = gdp[gdp.year == 2020].set_index("country").gdp_growth_pct
    for c in ["KGZ", "KAZ", "TJK", "UZB", "ECA"]:
        assert glued[f"ctx_growth2020_{c.lower()}"] == pytest.approx(g2020[c])
    assert glued["ctx_fall2020_kgz"] == pytest.approx(-g2020["KGZ"]) and g2020["KGZ"] < 0
    kgz = gdp[gdp.country == "KGZ"].set_index("year").gdp_growth_pct
    assert glued["ctx_growth_kgz_2010s"] == pytest.approx(kgz[(kgz.index >= 2010)
                                                              & (kgz.index <= 2019)].mean())
    recent = kgz[kgz.index >= 2021]
    assert glued["ctx_growth_kgz_2021_23"] == pytest.approx(recent.mean())
    assert glued["ctx_growth_kgz_max"] == pytest.approx(recent.max())
    assert glued["ctx_growth_kgz_max_year"] == recent.idxmax()
    since = kgz[kgz.index >= 2000]
    assert glued["ctx_growth_kgz_neg_years"] == (since < 0).sum()
    assert glued["ctx_growth_kgz_span"] == len(since)


def test_published_figures(glued):
    pub = _csv("ctx_published").set_index("claim_id")
    assert glued["ctx_ilo_growth2020"] == pytest.approx(pub.value["ctx_gdp_2020_ilo"])
    assert glued["ctx_ilo_fall2020"] == pytest.approx(-pub.value["ctx_gdp_2020_ilo"])
    assert glued["ctx_pop_2025_m"] == pytest.approx(pub.value["ctx_pop_2025"] / 1e6)
    assert glued["ctx_pop_census_m"] == pytest.approx(pub.value["ctx_pop_census_2022"] / 1e6)
    assert glued["ctx_news_unemp_2023"] == pytest.approx(pub.value["ctx_unemp_2023_kg24"])
    assert glued["ctx_news_unemp_2024"] == pytest.approx(pub.value["ctx_unemp_2024_kg24"])


def test_open_data_table_matches_sdg_series(glued):
    """The NSC open-data unemployment rates equal the SDG file in every year they share."""
    pub = _csv("ctx_published")
    od = pub[pub.claim_id.str.endswith("_nsc_open")]
    nsc = _csv("ctx_nsc_labour")
    un = nsc[(nsc.series == "unemployment_rate") & (nsc.sex == "total")].set_index("year")
    same = sum(un.value_pct[y] == pytest.approx(v) for y, v in zip(od.year, od.value))
    assert glued["ctx_open_n"] == len(od) == 5
    assert glued["ctx_open_match"] == same == 5
    assert (glued["ctx_open_first"], glued["ctx_open_last"]) == (od.year.min(), od.year.max())
    # and the news report differs from the SDG file for 2023 and 2024
    news = pub.set_index("claim_id").value
    assert news["ctx_unemp_2023_kg24"] != pytest.approx(un.value_pct[2023])
    assert news["ctx_unemp_2024_kg24"] != pytest.approx(un.value_pct[2024])


def test_sector_values(glued):
    sec = _csv("ctx_employment_sector")
    w = sec.pivot(index="year", columns="sector", values="employment_share_pct")
    assert (w.sum(axis=1) - 100).abs().max() < 0.01  # shares add up to 100
    first, last = w.index.min(), w.index.max()
    assert (glued["ctx_sec_first"], glued["ctx_sec_last"]) == (first, last)
    for s in w.columns:
        assert glued[f"ctx_{s}_first"] == pytest.approx(w.loc[first, s])
        assert glued[f"ctx_{s}_last"] == pytest.approx(w.loc[last, s])
    assert glued["ctx_agriculture_peak"] == pytest.approx(w.agriculture.max())
    assert glued["ctx_agriculture_peak_year"] == w.agriculture.idxmax()
    assert glued["ctx_industry_low"] == pytest.approx(w.industry.min())
    assert glued["ctx_industry_low_year"] == w.industry.idxmin()
    assert glued["ctx_services_half_year"] == w.index[w.services > 50].min()


def test_participation_and_employment_values(glued):
    nsc = _csv("ctx_nsc_labour")
    emp = nsc[nsc.series == "employment_rate"]
    year = emp.year.max()
    assert glued["ctx_emp_year"] == year and glued["ctx_emp_first_year"] == emp.year.min()
    e = emp[emp.year == year].set_index(["sex", "urbanisation"]).value_pct
    assert glued["ctx_emp_f"] == pytest.approx(e[("female", "total")])
    assert glued["ctx_emp_m"] == pytest.approx(e[("male", "total")])
    assert glued["ctx_emp_t"] == pytest.approx(e[("total", "total")])
    assert glued["ctx_emp_urban"] == pytest.approx(e[("total", "urban")])
    assert glued["ctx_emp_rural"] == pytest.approx(e[("total", "rural")])
    part = _csv("ctx_participation")
    k = part[part.country == "KGZ"].pivot(index="year", columns="sex",
                                          values="participation_rate_pct")
    assert glued["ctx_lfpr_f"] == pytest.approx(k.loc[year, "female"])
    assert glued["ctx_lfpr_m"] == pytest.approx(k.loc[year, "male"])
    assert glued["ctx_lfpr_gap_f"] == pytest.approx(k.loc[year, "female"] - e[("female", "total")])
    assert glued["ctx_lfpr_gap_m"] == pytest.approx(k.loc[year, "male"] - e[("male", "total")])
    assert glued["ctx_lfpr_sexgap"] == pytest.approx(k.loc[year, "male"] - k.loc[year, "female"])
    assert glued["ctx_lfpr_f_2010"] == pytest.approx(k.loc[2010, "female"])
    assert glued["ctx_lfpr_f_2014"] == pytest.approx(k.loc[2014, "female"])
    z = part[(part.country == "KAZ") & (part.sex == "female")].set_index("year")
    assert glued["ctx_lfpr_f_kaz"] == pytest.approx(z.participation_rate_pct[year])
    # the caveat in SOURCES.md: modelled participation is above the national employment rate
    assert k.loc[year, "female"] > e[("female", "total")]


def _first_last_by_sex(glued, rows, prefix):
    """Check the first/last totals and last values by sex glued under ``prefix``."""
    wide = rows.pivot(index="year", columns="sex", values="value_pct")
    y0, y1 = wide.index.min(), wide.index.max()
    assert (glued[f"{prefix}_first_year"], glued[f"{prefix}_last_year"]) == (y0, y1)
    assert glued[f"{prefix}_first"] == pytest.approx(wide.loc[y0, "total"])
    assert glued[f"{prefix}_last"] == pytest.approx(wide.loc[y1, "total"])
    assert glued[f"{prefix}_f_last"] == pytest.approx(wide.loc[y1, "female"])
    assert glued[f"{prefix}_m_last"] == pytest.approx(wide.loc[y1, "male"])
    return wide


def test_unemployment_and_neet_values(glued):
    nsc = _csv("ctx_nsc_labour")
    un = nsc[nsc.series == "unemployment_rate"]
    assert set(un.age) == {"total"} and set(un.urbanisation) == {"total"}
    un = _first_last_by_sex(glued, un, "ctx_unemp")
    assert glued["ctx_unemp_f_2017"] == pytest.approx(un.loc[2017, "female"])
    assert glued["ctx_unemp_f_2018"] == pytest.approx(un.loc[2018, "female"])
    assert glued["ctx_unemp_2023"] == pytest.approx(un.loc[2023, "total"])
    assert (un.female > un.male).all()  # "higher than men's in every year"
    neet = nsc[nsc.series == "youth_neet_rate"]
    assert set(neet.age) == {"15-24"}
    neet = _first_last_by_sex(glued, neet, "ctx_neet")
    n1 = neet.index.max()
    assert glued["ctx_neet_ratio"] == pytest.approx(neet.loc[n1, "female"] / neet.loc[n1, "male"])
    assert glued["ctx_neet_peak"] == pytest.approx(neet.total.max())
    assert glued["ctx_neet_peak_year"] == neet.total.idxmax()
    assert glued["ctx_neet_unemp_ratio"] == pytest.approx(neet.loc[n1, "total"]
                                                          / un.loc[n1, "total"])


def test_release_named(glued):
    assert glued["ctx_gdp_release"] == "files last updated 28 June 2024"


# ---- the extracts follow the brief ---------------------------------------------------------

def test_nsc_extract_is_national_total():
    """Only national rows (REF_AREA KG), unemployment for all ages, NEET for ages 15-24."""
    nsc = _csv("ctx_nsc_labour")
    counts = nsc.groupby("series").size().to_dict()
    assert counts == {"employment_rate": 35, "unemployment_rate": 54, "youth_neet_rate": 54}
    un = nsc[(nsc.series == "unemployment_rate") & (nsc.sex == "total")].set_index("year")
    assert un.value_pct[2023] == pytest.approx(4.1)  # national rate, not an oblast or age group
    assert un.value_pct[2007] == pytest.approx(8.2)


# ---- chapter structure and figures ---------------------------------------------------------

def test_chapter_structure(book):
    text = (CHAPTERS / "context.md").read_text()
    assert toc_chapters()[:2] == ["intro", "context"]
    assert declared_figures("context") == FIGURE_IDS
    for fid in FIGURE_IDS:
        assert f"{{numref}}`{fid}`" in text, fid
        for ext in ("png", "svg", "pdf"):
            assert (ROOT / "figures" / fid / f"{fid}.en.{ext}").exists()
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    assert headings[-1] == "Data notes and limitations"
    assert text.count("**Observations.**") == len(FIGURE_IDS)
    html = book.page("context")
    assert "Key findings" in html
    assert "ILO modelled" in html  # the modelled series are labelled as such


def test_prose_has_no_untagged_numbers():
    """Outside code cells, directives and roles, prose carries no typed statistics."""
    text = (CHAPTERS / "context.md").read_text()
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"\{[a-z:]+\}`[^`]*`", "", text)
    text = re.sub(r"^---.*?^---", "", text, count=1, flags=re.S | re.M)
    allowed = re.compile(r"^(19|20)\d\d$|^15$|^24$|^8\.[0-9.]+$|^417$")
    for num in re.findall(r"(?<![\w.])\d[\d,.]*\d|(?<![\w.])\d(?![\w])", text):
        num = num.rstrip(".,")
        assert allowed.match(num), f"typed number in prose: {num}"


def test_word_count():
    text = (CHAPTERS / "context.md").read_text()
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"^---.*?^---", "", text, count=1, flags=re.S | re.M)
    assert len(re.findall(r"[A-Za-z][A-Za-z'’-]*", text)) >= 1000


# ---- definitions register and glossary -----------------------------------------------------

REQUIRED_TERMS = [
    "informal employment", "informal sector", "informal economy", "formal economy",
    "personal remittances", "labour migrant", "social and solidarity economy",
    "social enterprise", "cooperative", "social protection floor", "social security",
    "social insurance", "social assistance", "person with disability", "disability benefit",
    "employment quota", "minimum subsistence level", "neet",
    "labour force participation rate", "unemployment rate", "abnd"]


def _register():
    return load_table("definitions")


def _targets(defs) -> set[str]:
    names = list(defs.term) + [a for a in defs.alias if isinstance(a, str) and a]
    return {n.lower() for n in names}


def test_register_validates_and_covers_required_terms():
    defs = _register()  # raises DataError if the CSV breaks its schema
    assert defs.term_id.is_unique and defs.term.str.lower().is_unique
    targets = _targets(defs)
    missing = [t for t in REQUIRED_TERMS if t not in targets]
    assert not missing, missing
    assert not (set(defs.term.str.lower()) & {a.lower() for a in defs.alias.dropna()}), \
        "an alias repeats another term"
    for _, row in defs.iterrows():
        assert isinstance(row.ru_source, str) == isinstance(row.term_ru, str), row.term_id


def test_register_bibkeys_exist():
    bib = (ROOT / "references.bib").read_text(encoding="utf-8")
    keys = set(re.findall(r"@\w+\{([^,\s]+),", bib))
    defs = _register()
    missing = sorted(set(defs.bibkey) - keys)
    assert not missing, missing
    pub = load_table("ctx_published")
    assert not sorted(set(pub.bibkey) - keys)


def test_every_term_role_in_the_book_is_in_the_register():
    targets = _targets(_register())
    role = re.compile(r"\{term\}`([^`]+)`")
    used = {}
    for md in CHAPTERS.glob("*.md"):
        for ref in role.findall(md.read_text(encoding="utf-8")):
            m = re.match(r"^.*<(.+)>\s*$", ref)
            used.setdefault((m.group(1) if m else ref).strip().lower(), md.name)
    unknown = {t: f for t, f in used.items() if t not in targets}
    assert not unknown, f"{{term}} roles with no register entry: {unknown}"
    assert len([t for t, f in used.items() if f == "context.md"]) >= 5


def test_glossary_page_lists_every_term_and_links_resolve(book):
    defs = _register()
    page = book.page("glossary")
    anchors = set(re.findall(r'id="term-([^"]+)"', page))
    assert len(anchors) == len(defs) + defs.alias.notna().sum()
    text = html.unescape(page).replace("\u2019", "'")  # smart quotes back to ASCII
    for term in defs.term:
        assert f">{term}<" in text, term
    context = book.page("context")
    links = set(re.findall(r'href="glossary\.html#term-([^"]+)"', context))
    assert len(links) >= 5
    assert links <= anchors
    assert "glossary" in toc_chapters()
    toc = toc_chapters()
    assert toc.index("glossary") == toc.index("data") - 1
