"""The migration chapter's glued numbers equal values recomputed here from data/."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from conftest import ROOT

DATA = ROOT / "data"


@pytest.fixture(scope="module")
def glued(book):
    return book.glued("migration")


@pytest.fixture(scope="module")
def kgz():
    wdi = pd.read_csv(DATA / "wdi_remittances.csv")
    return wdi[wdi.country == "KGZ"].set_index("year")


def test_peak_and_latest(glued, kgz):
    assert glued["mig_peak_year"] == kgz.remittances_pct_gdp.idxmax() == 2021
    assert glued["mig_peak_share"] == pytest.approx(kgz.remittances_pct_gdp.max())
    assert glued["mig_latest_year"] == kgz.index.max()
    assert glued["mig_latest_share"] == pytest.approx(kgz.remittances_pct_gdp.iloc[-1])
    assert glued["mig_latest_usd_bn"] == pytest.approx(kgz.remittances_usd.iloc[-1] / 1e9)
    assert glued["mig_usd_peak_year"] == kgz.remittances_usd.idxmax()


def test_threshold_years(glued, kgz):
    above = [y for y, v in kgz.remittances_pct_gdp.items() if v > 25]
    assert (glued["mig_above_first"], glued["mig_above_last"]) == (min(above), max(above))
    assert glued["mig_above_count"] == len(above) == max(above) - min(above) + 1
    assert glued["mig_low_since"] == max(above) + 1


def test_2023_two_releases(glued, kgz):
    gdp = pd.read_csv(DATA / "wdi_gdp.csv").set_index(["country", "year"])
    nsc = pd.read_csv(DATA / "nsc_remittances.csv").set_index("year")
    recomputed = kgz.loc[2023, "remittances_usd"] / gdp.loc[("KGZ", 2023), "gdp_usd"] * 100
    assert glued["mig_2023_recomputed"] == pytest.approx(recomputed)
    assert recomputed == pytest.approx(nsc.loc[2023, "remittances_pct_gdp"], abs=1e-4)
    assert glued["mig_2023_nsc"] == pytest.approx(nsc.loc[2023, "remittances_pct_gdp"])
    assert glued["mig_2023_wdi2025"] == pytest.approx(kgz.loc[2023, "remittances_pct_gdp"])
    assert glued["mig_gdp2023_revision_pct"] > 0


def test_claims_and_estimates(glued):
    claims = pd.read_csv(DATA / "claims.csv")
    mig = claims[claims.chapter == "migration"]
    assert glued["mig_claims_n"] == len(mig)
    assert glued["mig_claims_undated"] == mig.year.isna().sum()
    est = pd.read_csv(DATA / "migrant_estimates.csv")
    allc = est[est.destination == "all countries"]
    assert glued["mig_est_all_min"] == allc.value.min()
    assert glued["mig_est_all_max"] == allc.value.max()
    assert glued["mig_est_n"] == len(est)


def test_page_shows_glued_numbers(book, glued):
    html = re.sub(r"<[^>]+>", "", book.page("migration"))
    assert f"{glued['mig_peak_share']:.1f}%" in html
    assert f"{glued['mig_latest_usd_bn']:.2f}" in html
    assert "12 August 2015" in html  # a date glued from mig_events.csv
