"""The disability chapter: glued numbers equal values recomputed here from data/, ratios only
compare amounts of one currency and year, project events lie within the project period, and
the chapter's tables validate."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from conftest import CHAPTERS, FIGURES, ROOT, declared_figures, glue_keys_used

from kgbook.data import load_table

DATA = ROOT / "data"
TABLES = ["dis_amounts", "dis_events", "dis_milestones", "dis_counts", "dis_benchmarks",
          "dis_quota", "dis_nsc_benefits"]
# (glue key, numerator amount_id, denominator amount_id): every ratio glued by the chapter
RATIOS = [
    ("dis_usd_benefit_msl_pct", "ilo_benefit_usd", "ilo_msl_usd"),
    ("dis_usd_benefit_avg_pct", "ilo_benefit_usd", "ilo_avgwage_usd"),
    ("dis_usd_minwage_avg_pct", "ilo_minwage_usd", "ilo_avgwage_usd"),
    ("dis_usd_minwage_msl_pct", "ilo_minwage_usd", "ilo_msl_usd"),
    ("dis_mw2017_avg_pct", "minwage_2017", "avgsalary_2017"),
    ("dis_mw2017_msl_pct", "minwage_2017", "msl_workingage_2017q1"),
    ("dis_mw2019_msl_pct", "minwage_2019", "msl_workingage_2019q2"),
    ("dis_g1_after_before_pct", "group1_after_2022", "group1_before_2022"),
    ("dis_msb_top_msl_pct", "msb_top_2025", "msl_percapita_2025q2"),
    ("dis_msb_top_mslwa_pct", "msb_top_2025", "msl_workingage_2025q2"),
    ("dis_mw2026_msl_pct", "minwage_2026", "msl_2026_projection"),
]


@pytest.fixture(scope="module")
def glued(book):
    return book.glued("disability")


def csv(name, **kw):
    return pd.read_csv(DATA / f"{name}.csv", keep_default_na=False, na_values=[""], **kw)


@pytest.fixture(scope="module")
def amounts():
    return csv("dis_amounts").set_index("amount_id")


@pytest.fixture(scope="module")
def events():
    return csv("dis_events", dtype={"start": str, "end": str}).set_index("event_id")


@pytest.mark.parametrize("name", TABLES)
def test_tables_validate(name):
    assert len(load_table(name)) >= 2


def test_every_glue_key_is_prefixed_and_resolved(glued):
    used = glue_keys_used("disability")
    assert used, "the chapter glues nothing"
    assert all(k.startswith("dis_") for k in glued)
    assert used <= set(glued), used - set(glued)


@pytest.mark.parametrize("key,num,den", RATIOS)
def test_ratios_compare_one_currency_and_year(glued, amounts, key, num, den):
    a, b = amounts.loc[num], amounts.loc[den]
    assert (a.currency, a.year) == (b.currency, b.year)
    assert glued[key] == pytest.approx(100 * a.amount / b.amount)


def test_benefit_against_subsistence_and_c102(glued, amounts):
    bench = csv("dis_benchmarks").set_index("benchmark_id")
    c102 = bench.loc["c102_invalidity", "value"]
    avg = amounts.loc["ilo_avgwage_usd", "amount"]
    benefit = amounts.loc["ilo_benefit_usd", "amount"]
    assert glued["dis_c102_pct"] == pytest.approx(c102) == 40
    assert glued["dis_c102_usd"] == pytest.approx(c102 / 100 * avg)
    assert glued["dis_usd_benefit_c102_pct"] == pytest.approx(100 * benefit / (c102 / 100 * avg))
    assert glued["dis_usd_benefit_msl_pct"] == pytest.approx(41 / 62 * 100)
    assert glued["dis_usd_benefit"] < glued["dis_usd_msl"]  # below subsistence before 2022
    assert glued["dis_g1_rise_pct"] == pytest.approx(
        100 * amounts.loc["group1_after_2022", "amount"]
        / amounts.loc["group1_before_2022", "amount"] - 100)
    assert glued["dis_need_rise_pct"] == bench.loc["msl_gap_2022", "value"]


def test_amounts_state_currency_and_year(amounts):
    assert amounts.currency.isin(["KGS", "USD"]).all()
    assert amounts.year.notna().all() and amounts.period.str.len().gt(0).all()
    # the US dollar amounts all come from one page and one (approximate) year
    usd = amounts[amounts.currency == "USD"]
    assert usd.bibkey.nunique() == 1 and usd.year.nunique() == 1


def _period(text: str, end: bool) -> pd.Timestamp:
    if len(text) == 10:
        return pd.Timestamp(text)
    month = pd.Period(text, "M")
    return month.end_time.normalize() if end else month.start_time


def test_events_lie_within_project_period(glued, events):
    p = events.loc["project_period"]
    lo, hi = _period(p.start, False), _period(p.end, True)
    acts = events[~events.kind.isin(["project period", "publication"])]
    assert len(acts) >= 10
    for eid, e in acts.iterrows():
        s, t = _period(e.start, False), _period(e.end, True)
        assert lo <= s <= t <= hi, f"{eid} ({e.start}-{e.end}) outside {p.start}-{p.end}"
    assert glued["dis_project_start"] == "March 2022"
    assert glued["dis_project_end"] == "September 2023"
    assert glued["dis_project_months"] == (pd.Period(p.end, "M") - pd.Period(p.start, "M")).n + 1
    # two rows date the same three October sessions, from two sources: counted once
    same = acts.loc[["design_sessions_oct", "focus_groups_oct"]]
    assert same.end.nunique() == 1 and set(same.kind) == {"workshop"}
    assert all("Three" in label for label in same.label)
    distinct = acts.drop(index="design_sessions_oct")
    assert glued["dis_n_activities"] == len(distinct)
    assert glued["dis_n_activities_2022"] == (distinct.start.str[:4] == "2022").sum() == 8


def test_event_participants_and_dates(glued, events):
    assert glued["dis_quota_people"] == events.loc["quota_discussion", "participants"]
    assert glued["dis_idpd_people"] == events.loc["idpd_event", "participants"]
    assert glued["dis_quota_date"] == "23 September 2022"
    # the two sources disagree on the first October session: both dates are kept
    assert glued["dis_dt_seed_first"] == "16 October 2022"
    assert glued["dis_dt_news_first"] == "14 October 2022"


def test_crpd_dates(glued):
    ms = csv("dis_milestones", dtype={"start": str, "end": str}).set_index("milestone_id")
    deposit = pd.Timestamp(ms.loc["crpd_ratification_hrc", "start"])
    force = pd.Timestamp(ms.loc["crpd_entry_into_force", "start"])
    assert (force - deposit).days == glued["dis_crpd_gap_days"] == 30  # CRPD article 45(2)
    assert glued["dis_crpd_force"] == "15 June 2019"
    assert glued["dis_crpd_hrc"] == "16 May 2019"
    assert glued["dis_rise_people"] == ms.loc["benefit_increases_2022", "persons"] == 203000


def test_national_series(glued):
    nsc = csv("dis_nsc_benefits").sort_values("year")
    assert list(nsc.year) == list(range(2007, 2025))
    assert glued["dis_nsc_first"] == pytest.approx(nsc.pct_population.iloc[0])
    assert glued["dis_nsc_last"] == pytest.approx(nsc.pct_population.iloc[-1])
    assert glued["dis_nsc_change_pp"] == pytest.approx(
        nsc.pct_population.iloc[-1] - nsc.pct_population.iloc[0])
    repeats = (nsc.pct_population.diff() == 0).sum()
    assert glued["dis_nsc_repeats"] == repeats == 4
    flat = nsc[nsc.pct_population == nsc.set_index("year").pct_population[2021]]
    assert (glued["dis_nsc_flat_first"], glued["dis_nsc_flat_last"]) == (2020, 2023)
    assert glued["dis_nsc_flat_years"] == len(flat)


def test_counts(glued):
    c = csv("dis_counts")
    people = c[~c.concept.str.contains("reached by")]
    assert glued["dis_counts_n"] == len(c)
    assert glued["dis_count_low"] == people.persons.min()
    assert glued["dis_count_high"] == people.persons.max()
    assert glued["dis_count_high_year"] == people.loc[people.persons.idxmax(), "year"]


def test_quota(glued):
    q = csv("dis_quota").set_index("rule_id")
    assert glued["dis_quota_pct"] == q.loc["quota_share", "value"] == 5
    assert glued["dis_quota_staff"] == q.loc["quota_min_staff", "value"] == 20


def _prose():
    text = (CHAPTERS / "disability.md").read_text(encoding="utf-8")
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"\{[\w:-]+\}`[^`]*`", "N", text)


def test_prose_length_and_people_first_language():
    words = re.findall(r"[A-Za-z][\w'’-]*", _prose())
    assert len(words) >= 1200, len(words)
    # the official title of Convention No. 159 is quoted as it stands
    titled = _prose().replace("Employment (Disabled Persons) Convention", "")
    bad = re.findall(r"\b(?:the disabled|disabled (?:people|persons|workers|children)|"
                     r"handicapped|wheelchair-bound|suffer(?:s|ing)? from|invalids?)\b",
                     titled, flags=re.I)
    assert not bad, bad


def test_figures_exist_and_are_referenced():
    figs = declared_figures("disability")
    assert len(figs) >= 3 and all(f.startswith("fig-disability-") for f in figs)
    text = (CHAPTERS / "disability.md").read_text(encoding="utf-8")
    for fig in figs:
        assert f"{{numref}}`{fig}`" in text
        for ext in ("png", "svg", "pdf"):
            assert (FIGURES / fig / f"{fig}.en.{ext}").exists()
