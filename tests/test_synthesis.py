"""Synthesis chapter: every glued number recomputed from the CSVs, the statements the prose
makes about them, the data gaps register, and the chapter's structure and figures."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import declared_figures, glue_keys_used, toc_chapters

from kgbook.data import load_table, package

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
CHAPTER = "synthesis"
SOURCE = ROOT / "chapters" / f"{CHAPTER}.md"
FIGURE_IDS = ["fig-synthesis-levels", "fig-synthesis-indexed", "fig-synthesis-conflicts"]


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"{name}.csv")


def _series() -> dict[str, pd.Series]:
    wdi = _csv("wdi_remittances")
    ilo = _csv("inf_ilostat_rates")
    cov = _csv("sp_coverage")
    return {
        "rem": wdi[wdi.country == "KGZ"].set_index("year").remittances_pct_gdp.dropna(),
        "inf": ilo[(ilo.country == "KGZ") & (ilo.sex == "total")].set_index("year").rate_pct,
        "cov": cov[cov.area_code == "KG"].set_index("year").covered_pct_national_pop,
        "spend": _csv("sp_spending").set_index("year").social_protection_pct,
        "dis": _csv("dis_nsc_benefits").set_index("year").pct_population,
    }


@pytest.fixture(scope="module")
def glued(book):
    return book.glued(CHAPTER)


@pytest.fixture(scope="module")
def s():
    return _series()


# ---- glued statistics, recomputed independently -------------------------------------------

def test_windows(glued, s):
    start = max(s[k].index.min() for k in ("cov", "spend", "dis"))
    both = set.intersection(*(set(v.index) for v in s.values()))
    assert glued["syn_start"] == start
    assert glued["syn_base"] == min(both) == s["inf"].index.min()
    assert glued["syn_common_last"] == max(both)
    assert glued["syn_common_n"] == len(both) == max(both) - min(both) + 1  # no holes


def test_remittance_values(glued, s):
    rem = s["rem"]
    assert glued["syn_rem_last_year"] == rem.index.max()
    assert glued["syn_rem_last"] == pytest.approx(rem.iloc[-1])
    assert glued["syn_rem_peak"] == pytest.approx(rem.max())
    assert glued["syn_rem_peak_year"] == rem.idxmax()
    assert glued["syn_rem_base"] == pytest.approx(rem[glued["syn_base"]])
    above = [y for y, v in rem.items() if v > glued["syn_rem_threshold"]]
    assert glued["syn_rem_threshold"] == 25
    assert (glued["syn_rem_above_first"], glued["syn_rem_above_last"]) == (min(above),
                                                                            max(above))
    assert glued["syn_rem_above_n"] == len(above) == max(above) - min(above) + 1


def test_informality_values(glued, s):
    inf = s["inf"]
    base = glued["syn_base"]
    assert glued["syn_inf_first_year"] == inf.index.min()
    assert glued["syn_inf_last_year"] == inf.index.max()
    assert glued["syn_inf_base"] == pytest.approx(inf[base])
    assert glued["syn_inf_last"] == pytest.approx(inf.iloc[-1])
    assert glued["syn_inf_change"] == pytest.approx(inf.iloc[-1] - inf[base])
    ilo = _csv("inf_ilostat_rates")
    brk = ilo[(ilo.country == "KGZ") & ilo.note.fillna("").str.startswith("Break in series")]
    assert glued["syn_inf_break_year"] == brk.year.unique().item()


def test_social_protection_values(glued, s):
    cov, spend = s["cov"], s["spend"]
    assert glued["syn_cov_first"] == pytest.approx(cov[glued["syn_start"]])
    assert glued["syn_cov_last_year"] == cov.index.max()
    assert glued["syn_cov_last"] == pytest.approx(cov.iloc[-1])
    assert glued["syn_cov_base"] == pytest.approx(cov[glued["syn_base"]])
    assert glued["syn_cov_common_last"] == pytest.approx(cov[glued["syn_common_last"]])
    assert glued["syn_spend_last"] == pytest.approx(spend.iloc[-1])
    assert glued["syn_spend_peak"] == pytest.approx(spend.max())
    assert glued["syn_spend_peak_year"] == spend.idxmax()
    pub = _csv("sp_published_figures").set_index("figure_id").value
    assert glued["syn_cov_ilo"] == pytest.approx(pub["ilo_effective_coverage"])
    assert glued["syn_cov_ilo_ratio"] == pytest.approx(pub["ilo_effective_coverage"]
                                                       / cov.iloc[-1])
    assert glued["syn_spend_gdp_ilo"] == pytest.approx(pub["ilo_spending_gdp"])
    assert glued["syn_spend_gdp_ilo_excl_health"] == pytest.approx(
        pub["ilo_spending_gdp_excl_health"])
    assert glued["syn_rem_over_spend"] == pytest.approx(s["rem"].iloc[-1]
                                                        / pub["ilo_spending_gdp"])
    rat = _csv("sp_ratifications")
    names = [f"No. {c[1:]}" for c in rat[rat.status == "not ratified"].instrument]
    assert glued["syn_not_ratified"] == " and ".join(names) == "No. 102 and No. 183"


def test_disability_and_migrant_values(glued, s):
    dis = s["dis"]
    assert glued["syn_dis_first"] == pytest.approx(dis[glued["syn_start"]])
    assert glued["syn_dis_last_year"] == dis.index.max()
    assert glued["syn_dis_last"] == pytest.approx(dis.iloc[-1])
    assert glued["syn_dis_repeats"] == sum(a == b for a, b in zip(dis.iloc[1:], dis.iloc[:-1]))
    counts = _csv("dis_counts")
    people = counts[~counts.concept.str.contains("reached by")]
    lo, hi = people.loc[people.persons.idxmin()], people.loc[people.persons.idxmax()]
    assert (glued["syn_pwd_low"], glued["syn_pwd_low_year"]) == (lo.persons, lo.year)
    assert (glued["syn_pwd_high"], glued["syn_pwd_high_year"]) == (hi.persons, hi.year)
    # the prose cites the sources of exactly these two rows
    text = SOURCE.read_text(encoding="utf-8")
    assert f"{lo.bibkey},{hi.bibkey}" in text
    quota = _csv("dis_quota").set_index("rule_id").value
    assert glued["syn_quota_pct"] == pytest.approx(quota["quota_share"])
    assert glued["syn_quota_staff"] == pytest.approx(quota["quota_min_staff"])
    est = _csv("migrant_estimates")
    allc = est[est.destination == "all countries"]
    lo, hi = allc.loc[allc.value.idxmin()], allc.loc[allc.value.idxmax()]
    assert (glued["syn_mig_low"], glued["syn_mig_low_year"]) == (lo.value, lo.year)
    assert (glued["syn_mig_high"], glued["syn_mig_high_year"]) == (hi.value, hi.year)
    assert glued["syn_mig_ratio"] == pytest.approx(hi.value / lo.value)
    assert f"{lo.bibkey},{hi.bibkey}" in text
    assert glued["syn_mig_n"] == len(est)
    assert glued["syn_mig_bodies"] == est.counted_by.nunique()
    sse = _csv("sse_project_countries")
    assert glued["syn_sse_countries"] == sse.in_2022_project.sum() == 5


def test_index_values(glued, s):
    base, last = glued["syn_base"], glued["syn_common_last"]
    assert glued["syn_index_base_value"] == 100
    for key, series in s.items():
        assert glued[f"syn_idx_{key}_year"] == series.index.max()
        assert glued[f"syn_idx_{key}"] == pytest.approx(series.iloc[-1] / series[base] * 100)
        assert glued[f"syn_idx_{key}_common"] == pytest.approx(series[last] / series[base]
                                                               * 100)


def test_conflict_values(glued, s):
    claims = _csv("claims").set_index("claim_id")
    nsc = _csv("nsc_remittances").set_index("year").remittances_pct_gdp
    sec = _csv("inf_nsc_sector")
    tot = sec[sec.activity == "total"].pivot(index="year", columns="sex",
                                             values="employed_thousands")
    y = tot.index.max()
    share = tot.loc[y, "female"] / tot.loc[y, "total"] * 100
    iy, wy = int(claims.year["inf_sector_718_2019"]), int(claims.year["wb_remit_2024"])
    pub = _csv("sp_published_figures").set_index("figure_id").value
    pairs = [(claims.value["inf_sector_718_2019"], s["inf"][iy]),
             (claims.value["inf_women_60_sc"], share),
             (nsc[2023], s["rem"][2023]),
             (claims.value["wb_remit_2024"], s["rem"][wy]),
             (pub["ilo_effective_coverage"], s["cov"].iloc[-1])]
    assert glued["syn_conf_n"] == len(pairs)
    assert glued["syn_conf_max_gap"] == pytest.approx(max(abs(a - b) for a, b in pairs))
    assert all(abs(a - b) > 1 for a, b in pairs), "every row is a real disagreement"
    assert (glued["syn_inf_claim"], glued["syn_inf_claim_year"]) == (
        pytest.approx(claims.value["inf_sector_718_2019"]), iy)
    assert glued["syn_inf_claim_ilo"] == pytest.approx(s["inf"][iy])
    assert glued["syn_women_claim"] == pytest.approx(claims.value["inf_women_60_sc"])
    assert glued["syn_women_nsc"] == pytest.approx(share) and glued["syn_women_nsc_year"] == y
    assert glued["syn_rev_year"] == 2023
    assert glued["syn_rem_rev_nsc"] == pytest.approx(nsc[2023])
    assert glued["syn_rem_rev_wdi"] == pytest.approx(s["rem"][2023])
    assert glued["syn_wb_year"] == wy
    assert glued["syn_wb_claim"] == pytest.approx(claims.value["wb_remit_2024"])
    assert glued["syn_wb_wdi"] == pytest.approx(s["rem"][wy])


# ---- statements the prose makes about the numbers -----------------------------------------

def test_statements_hold(glued, s):
    base, last = glued["syn_base"], glued["syn_common_last"]
    inf, rem, cov = s["inf"], s["rem"], s["cov"]
    # "informal employment and the remittance share rose while coverage fell slightly"
    assert inf[last] > inf[base] and rem[last] > rem[base]
    assert cov[base] - 1 < cov[last] < cov[base]
    # "higher ... than in any earlier year of the series"
    assert inf.idxmax() == inf.index.max() and (inf.iloc[:-1] < inf.iloc[-1]).all()
    # coverage "has not risen"; remittances "still above" the ILO spending figure
    assert cov.iloc[-1] < cov.iloc[0]
    assert glued["syn_rem_over_spend"] > 1
    # the remittance share falls after the common window; spending ends below its peak
    assert rem.iloc[-1] < rem[last] and s["spend"].iloc[-1] < s["spend"].max()
    # "neither benefit coverage nor the spending share rose as ... remittances ... fell"
    assert cov.iloc[-1] < cov[last] and s["spend"].iloc[-1] < s["spend"][last]


# ---- the data gaps register ------------------------------------------------------------

def test_data_gaps_register(glued):
    gaps = load_table("data_gaps")  # raises DataError if it breaks its schema
    tables = {r["name"] for r in package()["resources"]}
    proxies = set(gaps.proxy_table.dropna())
    assert proxies <= tables, proxies - tables
    assert set(gaps.chapter) <= set(toc_chapters())
    assert list(gaps.gap_no) == list(range(1, len(gaps) + 1))
    assert glued["syn_gaps_n"] == len(gaps) >= 10
    assert glued["syn_gaps_no_proxy"] == gaps.proxy_table.isna().sum()
    assert glued["syn_gaps_chapters"] == gaps.chapter.nunique()
    # the gaps named in the brief are in the register
    assert {"remittances_by_origin", "migrant_count_current"} <= set(gaps.gap_id)
    assert not gaps.what_is_missing.str.contains(r"\d{3,}").any(), "no statistics typed here"


def test_data_gaps_table_in_page(book):
    page = html.unescape(book.page(CHAPTER))
    gaps = load_table("data_gaps")
    for text in gaps.what_is_missing:
        assert text in page, text
    assert page.count("<table") >= 1


# ---- chapter structure and figures ------------------------------------------------------

def test_chapter_structure(book):
    text = SOURCE.read_text(encoding="utf-8")
    toc = toc_chapters()
    assert toc.index(CHAPTER) == toc.index("social-protection") + 1
    assert toc.index(CHAPTER) < toc.index("glossary")
    assert declared_figures(CHAPTER) == FIGURE_IDS
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    assert "What the evidence supports and what remains unknown" in headings
    assert any(h.startswith("Data gaps") for h in headings)
    assert headings[-1] == "Data notes and limitations"
    assert text.count("**Observations.**") == len(FIGURE_IDS)
    assert text.rstrip().endswith("kg.receipt()\n```")
    for chapter in ["context", "informality", "migration", "sse", "disability",
                    "social-protection"]:
        assert f"{{doc}}`{chapter}`" in text, chapter
    page = book.page(CHAPTER)
    assert "Key findings" in page and "Reproducibility receipt" in page
    for fid in FIGURE_IDS:
        assert f"{{numref}}`{fid}`" in text, fid
        assert f'id="{fid}"' in page and f'href="#{fid}"' in page, fid
        block = page[page.index(f'id="{fid}"'):]
        assert "<img" in block[: block.index("</figure>")], fid


def test_every_glue_key_is_glued_and_prefixed(glued):
    used = glue_keys_used("synthesis")
    assert used and all(k.startswith("syn_") for k in used)
    assert used <= set(glued), used - set(glued)
    assert all(k.startswith("syn_") for k in glued)


def test_word_count():
    text = SOURCE.read_text(encoding="utf-8")
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)
    text = re.sub(r"\{(?:glue|cite|numref)[\w:]*\}`[^`]*`", "", text)
    text = re.sub(r"\{(?:term|doc)\}`([^`<]*)(?:<[^>]*>)?`", r"\1", text)
    text = re.sub(r"^:[\w-]+:.*$", "", text, flags=re.M)
    words = len(re.findall(r"[A-Za-z][A-Za-z'’-]*", text))
    assert 1200 <= words <= 2000, words
