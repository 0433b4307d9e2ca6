"""The informality chapter: glued numbers match data/, and the tables and claims hold."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from conftest import CHAPTERS, FIGURES, ROOT, declared_figures

from kgbook.data import load_table

DATA = ROOT / "data"
CHAPTER = "informality"
SEED_CLAIMS = {
    "inf_sector_718_2019": 71.8, "inf_value_added_2019": 23.5, "inf_new_jobs_2019": 95.3,
    "inf_formal_24_sc": 24, "inf_women_60_sc": 60,
}


@pytest.fixture(scope="module")
def glued(book):
    return book.glued(CHAPTER)


@pytest.fixture(scope="module")
def ilo():
    return pd.read_csv(DATA / "inf_ilostat_rates.csv", keep_default_na=False,
                       na_values={"rate_pct": [""]})


@pytest.fixture(scope="module")
def kgz(ilo):
    return ilo[ilo.country == "KGZ"].pivot(index="year", columns="sex", values="rate_pct")


@pytest.fixture(scope="module")
def sector():
    df = pd.read_csv(DATA / "inf_nsc_sector.csv", keep_default_na=False)
    return df


@pytest.fixture(scope="module")
def by_sex(sector):
    return sector[sector.activity == "total"].pivot(index="year", columns="sex",
                                                    values="employed_thousands")


@pytest.fixture(scope="module")
def employed():
    return pd.read_csv(DATA / "inf_nsc_employment.csv").set_index("year").employed_thousands


@pytest.fixture(scope="module")
def claims():
    df = pd.read_csv(DATA / "claims.csv", keep_default_na=False, na_values={"year": [""]})
    return df[df.chapter == CHAPTER].set_index("claim_id")


# --- glued statistics ------------------------------------------------------------------

def test_latest_informality_rate_and_year(glued, kgz):
    year = kgz.index.max()
    assert glued["inf_latest_year"] == year == 2021
    assert glued["inf_first_year"] == kgz.index.min()
    assert glued["inf_latest_rate"] == pytest.approx(kgz.loc[year, "total"])
    assert glued["inf_latest_female"] == pytest.approx(kgz.loc[year, "female"])
    assert glued["inf_latest_male"] == pytest.approx(kgz.loc[year, "male"])
    assert glued["inf_latest_gap"] == pytest.approx(kgz.loc[year, "male"] - kgz.loc[year, "female"])
    assert glued["inf_rate_2019"] == pytest.approx(kgz.loc[2019, "total"])


def test_break_year_comes_from_the_note_column(glued, ilo):
    k = ilo[ilo.country == "KGZ"]
    flagged = k[k.note == "Break in series: Methodology revised"]
    assert set(flagged.year) == {2018}
    assert set(flagged.sex) == {"total", "female", "male"}
    assert (flagged.status == "Break in series").all()
    assert glued["inf_break_year"] == 2018
    assert glued["inf_break_note"] == "Methodology revised"


def test_sex_gap_before_the_break(glued, kgz):
    pre = kgz[kgz.index < glued["inf_break_year"]]
    gap = pre.female - pre.male
    assert glued["inf_pre_women_above_n"] == (gap > 0).sum()
    assert glued["inf_pre_n"] == len(pre)
    assert glued["inf_pre_gap_max"] == pytest.approx(gap.max())
    assert glued["inf_pre_gap_max_year"] == gap.idxmax()


def test_implied_womens_share_of_informally_employed(glued, kgz):
    y = kgz.index.max()
    f, m, t = kgz.loc[y, "female"], kgz.loc[y, "male"], kgz.loc[y, "total"]
    s = (m - t) / (m - f)
    assert glued["inf_implied_emp_share"] == pytest.approx(s * 100)
    assert glued["inf_implied_inf_share"] == pytest.approx(s * f / t * 100)
    assert glued["inf_implied_inf_share"] < 50


def test_comparators_latest_year_ranking(glued, ilo):
    assert set(ilo.country) == {"KGZ", "ARM", "GEO", "MDA", "MNG", "RUS"}  # no national KAZ series
    tot = ilo[ilo.sex == "total"]
    latest = tot.loc[tot.groupby("country").year.idxmax()].sort_values("rate_pct",
                                                                     ascending=False)
    assert latest.iloc[0].country == "KGZ"
    others = latest[latest.country != "KGZ"]
    assert glued["inf_cmp_n"] == len(others) == 5
    assert glued["inf_cmp_high_name"] == others.iloc[0].country_name
    assert glued["inf_cmp_high_rate"] == pytest.approx(others.iloc[0].rate_pct)
    assert glued["inf_cmp_low_rate"] == pytest.approx(others.iloc[-1].rate_pct)
    same = tot[(tot.year == 2021) & (tot.country != "KGZ")]
    assert glued["inf_same_next_rate"] == pytest.approx(same.rate_pct.max())


def test_informal_sector_totals_and_womens_share(glued, by_sex):
    y0, y1 = by_sex.index.min(), by_sex.index.max()
    assert (y0, y1) == (2007, 2024)
    assert glued["inf_sec_first_year"] == y0 and glued["inf_sec_last_year"] == y1
    assert glued["inf_sec_last_total"] == pytest.approx(by_sex.loc[y1, "total"])
    assert glued["inf_sec_women_last"] == pytest.approx(by_sex.loc[y1, "female"])
    share = by_sex.female / by_sex.total * 100
    assert glued["inf_sec_women_share_last"] == pytest.approx(share.loc[y1])
    assert glued["inf_sec_women_share_min"] == pytest.approx(share.min())
    assert glued["inf_sec_women_share_max"] == pytest.approx(share.max())
    # women are about a third of informal-sector workers in every year, never a majority
    assert share.max() < 50


def test_activity_shares(glued, sector):
    act = sector[sector.sex == "total"].pivot(index="year", columns="activity",
                                              values="employed_thousands")
    for a in ("agriculture", "services"):
        for y, key in ((2007, "first"), (2024, "last")):
            assert glued[f"inf_sec_{a}_{key}"] == pytest.approx(act.loc[y, a])
            assert glued[f"inf_sec_{a}_share_{key}"] == pytest.approx(
                act.loc[y, a] / act.loc[y, "total"] * 100)


def test_informal_sector_parts_add_up(sector, by_sex):
    assert ((by_sex.female + by_sex.male - by_sex.total).abs() < 0.15).all()
    act = sector[sector.sex == "total"].pivot(index="year", columns="activity",
                                              values="employed_thousands")
    parts = act[["agriculture", "industry", "construction", "services"]].sum(axis=1)
    assert ((parts - act.total).abs() < 0.25).all()


def test_sector_share_of_employment_reproduces_the_718_claim(glued, by_sex, employed, claims):
    share = by_sex.total.reindex(employed.index) / employed * 100
    assert glued["inf_share_2019"] == pytest.approx(share.loc[2019])
    assert glued["inf_share_last"] == pytest.approx(share.loc[employed.index.max()])
    assert round(share.loc[2019], 1) == claims.loc["inf_sector_718_2019", "value"]


def test_net_job_growth_2018_2019(glued, by_sex, employed):
    d_inf = by_sex.loc[2019, "total"] - by_sex.loc[2018, "total"]
    d_tot = employed.loc[2019] - employed.loc[2018]
    assert glued["inf_net_inf"] == pytest.approx(d_inf)
    assert glued["inf_net_total"] == pytest.approx(d_tot)
    assert glued["inf_net_ratio"] == pytest.approx(d_inf / d_tot * 100)


def test_formal_shares(glued, by_sex, employed, kgz):
    y = employed.index.max()
    assert glued["inf_formal_share_nsc_last"] == pytest.approx(
        100 - by_sex.loc[y, "total"] / employed.loc[y] * 100)
    assert glued["inf_formal_share_ilo_latest"] == pytest.approx(
        100 - kgz.loc[kgz.index.max(), "total"])


def test_claim_values_glued(glued, claims):
    for cid, key in [("inf_sector_718_2019", "sector"), ("inf_value_added_2019", "va"),
                     ("inf_new_jobs_2019", "jobs"), ("inf_formal_24_sc", "formal"),
                     ("inf_women_60_sc", "women")]:
        assert glued[f"inf_claim_{key}"] == pytest.approx(claims.loc[cid, "value"])
    assert glued["inf_claims_n"] == len(claims)
    assert glued["inf_seed_claims_n"] == 5


def test_workshop_event(glued):
    ev = pd.read_csv(DATA / "inf_events.csv").set_index("event_id")
    ws = ev.loc["union_workshop_2022"]
    assert glued["inf_ws_participants"] == ws.participants == 35
    assert glued["inf_ws_dates"] == "17–18 March 2022"
    assert ws.start_date <= ws.end_date


# --- the claims table ----------------------------------------------------------------------

def test_claims_table_validates_and_holds_the_seed_claims(claims):
    load_table("claims")  # schema check (types, enums, patterns, unique ids)
    for cid, value in SEED_CLAIMS.items():
        assert claims.loc[cid, "value"] == pytest.approx(value)
    seeds = claims.loc[list(SEED_CLAIMS)]
    assert set(seeds.bibkey) == {"ilo_2022_workersorgs", "solidaritycenter_nd_kyrgyzstan"}
    sc = seeds[seeds.bibkey == "solidaritycenter_nd_kyrgyzstan"]
    assert sc.year.isna().all() and (sc.year_note == "no year given").all()
    assert claims.loc["inf_women_60_sc", "qualifier"] == "more than"
    ilo = seeds[seeds.bibkey == "ilo_2022_workersorgs"]
    assert (ilo.year == 2019).all() and (ilo.published == "2022-03-31").all()


def test_claim_bibkeys_exist():
    bib = (ROOT / "references.bib").read_text(encoding="utf-8")
    keys = set(re.findall(r"@\w+\{([^,]+),", bib))
    for name in ("claims", "inf_events", "inf_nsc_employment"):
        df = pd.read_csv(DATA / f"{name}.csv", keep_default_na=False)
        assert set(df.bibkey) <= keys


# --- chapter structure ------------------------------------------------------------------

def test_figures_exported_and_referenced(book):
    figs = declared_figures(CHAPTER)
    assert len(figs) >= 4
    assert all(f.startswith("fig-informality-") for f in figs)
    page = book.page(CHAPTER)
    text = (CHAPTERS / f"{CHAPTER}.md").read_text()
    for fig in figs:
        for ext in ("png", "svg", "pdf"):
            assert (FIGURES / fig / f"{fig}.en.{ext}").exists(), fig
        assert f"{{numref}}`{fig}`" in text
        assert f'id="{fig}"' in page


def test_glue_keys_are_prefixed(glued):
    assert glued and all(k.startswith("inf_") for k in glued)


def test_narrative_length_and_sections():
    text = (CHAPTERS / f"{CHAPTER}.md").read_text()
    prose = re.sub(r"```.*?```", "", text, flags=re.S).split("\n# ", 1)[1]
    prose = re.sub(r"\{(glue|cite|numref)[^}]*\}`[^`]*`", "X", prose)
    words = re.findall(r"[A-Za-z][A-Za-z'’-]*", prose)
    assert len(words) >= 1500
    assert ":::{admonition} Key findings" in text
    assert text.rstrip().split("\n## ")[-1].startswith("Data notes and limitations")
    assert text.count("**Observations.**") >= len(declared_figures(CHAPTER))
