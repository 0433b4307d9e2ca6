"""Social protection chapter: the training counts, the glued numbers and the tables."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import declared_figures, glue_keys_used

import kgbook
from kgbook.data import DataError, load_table

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
CHAPTER = "social-protection"
TABLES = ["sp_coverage", "sp_benefits", "sp_spending", "sp_trainings", "sp_training_totals",
          "sp_events", "sp_ratifications", "sp_published_figures", "sp_abnd_priorities"]
# The record's per-training counts, as printed (first two trainings reported jointly).
TRAININGS_AS_PRINTED = {"t1_t2": (40, None, None), "t3": (21, 6, 15), "t4": (14, 3, 11),
                        "t5": (12, 1, 11), "t6": (20, 5, 15)}


def csv(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"{name}.csv")


# ---- tables ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", TABLES)
def test_table_validates_and_belongs_to_chapter(name):
    res = kgbook.resource(name)
    assert CHAPTER in res["chapters"]
    df = load_table(name)
    assert len(df) >= 2
    for field in res["schema"]["fields"]:
        if field["type"] in ("number", "integer") and field["name"] != "year":
            assert field.get("unit"), f"{name}.{field['name']} has no unit"


def test_training_counts_add_up_to_the_stated_total():
    tr = csv("sp_trainings")
    totals = csv("sp_training_totals").set_index("total_id")
    stated = totals.loc["participants_stated", "value"]
    assert stated == 107
    assert tr.participants.sum() == stated
    assert tr.trainings.sum() == totals.loc["trainings_stated", "value"] == 6


def test_training_rows_are_exactly_as_printed():
    """Fails if any row of the training table changes (count, split or a row added/lost)."""
    tr = csv("sp_trainings").set_index("group_id")
    assert set(tr.index) == set(TRAININGS_AS_PRINTED)
    for gid, (total, men, women) in TRAININGS_AS_PRINTED.items():
        row = tr.loc[gid]
        assert row.participants == total, gid
        if men is None:
            assert pd.isna(row.men) and pd.isna(row.women), gid
        else:
            assert (row.men, row.women) == (men, women), gid
            assert row.men + row.women == row.participants, gid


def test_training_period_inconsistency_is_in_the_data():
    tr = csv("sp_trainings")
    period = csv("sp_training_totals").set_index("total_id").loc[
        "participants_stated", "period_as_stated"]
    start, end = period.split("/")
    assert tr.month.min() == start
    late = tr[tr.month > end]
    assert list(late.group_id) == ["t6"] and late.month.iloc[0] == "2016-06"
    assert "fifth" in late.note.iloc[0]
    # without the late training the counts fall short of the stated total
    assert tr[tr.month <= end].participants.sum() < 107


def test_sex_split_missing_only_for_first_two_trainings():
    tr = csv("sp_trainings")
    missing = tr[tr.men.isna() | tr.women.isna()]
    assert list(missing.training_numbers) == ["1;2"]


def test_events_dates_agree_with_months():
    ev = csv("sp_events")
    for _, row in ev.iterrows():
        for col in ("start_date", "end_date"):
            if isinstance(row[col], str):
                assert row[col][:7] == row.month, row.event_id
        if isinstance(row.end_date, str):
            assert row.end_date >= row.start_date
        assert pd.isna(row.participants) == pd.isna(row.participants_qualifier)


def test_trainings_fall_inside_the_abnd():
    ev = csv("sp_events").set_index("event_id")
    tr = csv("sp_trainings")
    assert tr.month.min() >= ev.loc["abnd_launch", "month"]
    assert tr.month.max() <= ev.loc["abnd_report", "month"]


def test_ratification_status_is_consistent():
    rat = csv("sp_ratifications").set_index("instrument")
    assert rat.loc["C102", "status"] == "not ratified"
    assert rat.loc["C183", "status"] == "not ratified"
    assert rat.loc["R202", "kind"] == "recommendation"
    ratified = rat.status == "ratified"
    assert rat.ratified_year[ratified].notna().all()
    assert rat.ratified_year[~ratified].isna().all()
    assert (rat.ratified_year[ratified] >= rat.adopted[ratified]).all()


def test_regional_coverage_adds_up_to_national():
    cov = csv("sp_coverage")
    nat = cov[cov.area_code == "KG"].set_index("year").covered_pct_national_pop
    reg = cov[cov.area_code != "KG"].groupby("year").covered_pct_national_pop.sum()
    assert (reg - nat).abs().max() < 0.25
    assert cov.groupby("year").size().eq(10).all()


def test_spending_parts_add_up_to_essential_services():
    sp = csv("sp_spending")
    parts = sp.social_protection_pct + sp.health_pct + sp.education_pct
    assert (parts - sp.essential_services_pct).abs().max() <= 0.11


def test_no_disability_series_derived():
    from kgbook.derive import social_protection
    text = Path(social_protection.__file__).read_text()
    assert "_L_KG_010301_1F1" not in text
    assert "sp_disability" not in " ".join(social_protection.TABLES)


def test_bad_training_count_is_refused(tmp_path):
    path = tmp_path / "bad.csv"
    text = (DATA / "sp_trainings.csv").read_text(encoding="utf-8")
    path.write_text(text.replace(",21,6,15,", ",twenty-one,6,15,"), encoding="utf-8")
    with pytest.raises(DataError, match="participants"):
        load_table("sp_trainings", path=path)


# ---- glued values ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def glued(book):
    return book.glued(CHAPTER)


def expected() -> dict:
    tr = csv("sp_trainings")
    split = tr[tr.men.notna()]
    share = split.women / split.participants * 100
    totals = csv("sp_training_totals").set_index("total_id")
    cov = csv("sp_coverage")
    nat = cov[cov.area_code == "KG"].set_index("year").covered_pct_national_pop
    areas = cov[(cov.area_code != "KG") & (cov.year == 2024)].sort_values(
        "covered_pct_national_pop", ascending=False)
    ben = csv("sp_benefits").set_index("year")
    pen = ben.pensioners_below_msl_pct_pensioners
    sp = csv("sp_spending").set_index("year")
    pub = csv("sp_published_figures").set_index("figure_id").value
    ev = csv("sp_events").set_index("event_id")
    rat = csv("sp_ratifications")
    return {
        "sp_train_sum": tr.participants.sum(),
        "sp_train_stated": totals.loc["participants_stated", "value"],
        "sp_train_n": tr.trainings.sum(),
        "sp_train_split_total": split.participants.sum(),
        "sp_train_men": split.men.sum(),
        "sp_train_women": split.women.sum(),
        "sp_train_women_share": 100 * split.women.sum() / split.participants.sum(),
        "sp_train_nosplit": tr[tr.men.isna()].participants.sum(),
        "sp_train_nosplit_share": 100 * tr[tr.men.isna()].participants.sum() / 107,
        "sp_train_wshare_min": share.min(),
        "sp_train_wshare_max": share.max(),
        "sp_train_late_n": tr[tr.month > "2016-05"].participants.sum(),
        "sp_train_in_period": tr[tr.month <= "2016-05"].participants.sum(),
        "sp_abnd_launch_n": ev.loc["abnd_launch", "participants"],
        "sp_abnd_r1_n": ev.loc["abnd_round1", "participants"],
        "sp_abnd_r2_n": ev.loc["abnd_round2", "participants"],
        "sp_abnd_growth": 100 * ev.loc["abnd_round2", "participants"]
        / ev.loc["abnd_launch", "participants"] - 100,
        "sp_ws_n": ev.loc["workers_workshop", "participants"],
        "sp_c102_review_n": ev.loc["c102_review", "participants"],
        "sp_c183_consult_n": ev.loc["c183_roadmap", "participants"],
        "sp_abnd_n_priorities": len(csv("sp_abnd_priorities")),
        "sp_rat_n": len(rat),
        "sp_rat_n_ratified": (rat.status == "ratified").sum(),
        "sp_rat_n_not": (rat.status == "not ratified").sum(),
        "sp_ilo_cov": pub["ilo_effective_coverage"],
        "sp_ilo_spend_gdp": pub["ilo_spending_gdp"],
        "sp_ilo_spend_gdp_xh": pub["ilo_spending_gdp_excl_health"],
        "sp_leave_days": pub["maternity_leave_before"] + pub["maternity_leave_after"],
        "sp_mat_benefit_msl_pct": 100 * pub["maternity_benefit_flat"] / pub["msl_2025q2"],
        "sp_cov_first": nat[2007],
        "sp_cov_last": nat[2024],
        "sp_cov_max": nat[2007],  # the prose says the first and last years are the extremes
        "sp_cov_min": nat[2024],
        "sp_cov_ilo_ratio": pub["ilo_effective_coverage"] / nat[2024],
        "sp_cov_top2_share": 100 * areas.covered_pct_national_pop.head(2).sum() / nat[2024],
        "sp_lia_first": ben.low_income_allowance_pct_pop[2007],
        "sp_lia_last": ben.low_income_allowance_pct_pop[2024],
        "sp_lia_recent_peak": ben.low_income_allowance_pct_pop[2021],
        "sp_lia_recent_peak_year": 2021,
        "sp_pen_first": pen[2007],
        "sp_pen_min": pen.min(),
        "sp_pen_min_year": pen.idxmin(),
        "sp_pen_jump_year": 2021,
        "sp_pen_before_jump": pen[2020],
        "sp_pen_after_jump": pen[2021],
        "sp_pen_last": pen[2024],
        "sp_spend_first": sp.social_protection_pct[2007],
        "sp_spend_jump_year": 2010,
        "sp_spend_before_jump": sp.social_protection_pct[2009],
        "sp_spend_after_jump": sp.social_protection_pct[2010],
        "sp_spend_max": sp.social_protection_pct.max(),
        "sp_spend_max_year": sp.social_protection_pct.idxmax(),
        "sp_spend_last": sp.social_protection_pct[2024],
    }


def test_glued_numbers_equal_recomputed(glued):
    exp = expected()
    missing = [k for k in exp if k not in glued]
    assert not missing
    for key, value in exp.items():
        assert glued[key] == pytest.approx(float(value)), key


def test_glued_text(glued):
    assert glued["sp_train_period_end"] == "May 2016"
    assert glued["sp_train_last_month"] == "June 2016"
    assert glued["sp_abnd_launch_date"] == "4 December 2014"
    assert glued["sp_ws_dates"] == "17–18 March 2022"
    assert glued["sp_abnd_report_month"] == "May 2017"
    assert glued["sp_cov_top2_names"] == "Jalal-Abad and Osh"


def test_every_glue_key_is_prefixed_and_resolved(glued, book):
    used = glue_keys_used(CHAPTER)
    assert used, "the chapter glues nothing"
    assert all(k.startswith("sp_") for k in glued)
    assert used <= set(glued)


def test_figures_declared_referenced_and_written(book):
    text = (ROOT / "chapters" / f"{CHAPTER}.md").read_text()
    figs = declared_figures(CHAPTER)
    assert len(figs) >= 4
    for fig in figs:
        assert fig.startswith("fig-social-protection-")
        assert f"{{numref}}`{fig}`" in text
        for ext in ("png", "svg", "pdf"):
            assert (ROOT / "figures" / fig / f"{fig}.en.{ext}").exists()
    html = book.page(CHAPTER)
    assert html.count("<figure") >= len(figs)


def test_page_has_no_unresolved_glue_or_placeholders(book):
    html = book.page(CHAPTER)
    assert "glue:" not in html
    assert not re.search(r"\bTODO\b|lorem ipsum", html, flags=re.I)
