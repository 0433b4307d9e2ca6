"""Remittance and GDP extracts (World Bank WDI releases and the NSC SDG 17.3.2 series)."""

from __future__ import annotations

import pandas as pd

from .common import read_source, wide

WDI_DDF = "wdi-extract-ddf/wdi_selected_kgz_comparators_long.csv"


def wdi_remittances() -> pd.DataFrame:
    src = read_source(WDI_DDF)
    src = src[src.indicator_code.isin(["BX.TRF.PWKR.DT.GD.ZS", "BX.TRF.PWKR.CD.DT"])]
    out = wide(src.rename(columns={"iso3": "country"}), ["country", "year"], "indicator_code",
               "value", {"BX.TRF.PWKR.DT.GD.ZS": "remittances_pct_gdp",
                         "BX.TRF.PWKR.CD.DT": "remittances_usd"})
    return out.sort_values(["country", "year"], key=_sort_key)


def wdi_remittances_apr2026() -> pd.DataFrame:
    src = read_source("wdi-remittances-ca/remittances.csv")
    src = src[src.remit_gdp != ""]  # the pull has no KGZ rows for 2023-2024 (empty cells)
    out = src.drop(columns="country").rename(
        columns={"iso3c": "country", "remit_gdp": "remittances_pct_gdp"})
    return out[["country", "year", "remittances_pct_gdp"]].sort_values(
        ["country", "year"], key=_sort_key)


def nsc_remittances() -> pd.DataFrame:
    src = read_source("kgz-nsc-sdg/kgz_nsc_sdg_selected_long.csv")
    # REF_AREA is the M49 code of Kyrgyzstan (417) in this file
    src = src[(src.sdg_file == "17.3.2") & (src.SERIES == "BX_TRF_PWKR") & (src.REF_AREA == "417")]
    out = src.rename(columns={"TIME_PERIOD": "year", "OBS_VALUE": "remittances_pct_gdp"})
    return out[["year", "remittances_pct_gdp"]].sort_values("year", key=_sort_key)


def wdi_gdp() -> pd.DataFrame:
    src = read_source("wdi-gdp-relatoscondatos/wdi_gdp_selected_long.csv")
    src = src.rename(columns={"Country Code": "country"})
    out = wide(src, ["country", "year"], "Indicator Code", "value",
               {"NY.GDP.MKTP.CD": "gdp_usd", "NY.GDP.PCAP.CD": "gdp_per_capita_usd",
                "NY.GDP.MKTP.KD.ZG": "gdp_growth_pct"})
    return out.sort_values(["country", "year"], key=_sort_key)


def _sort_key(col: pd.Series) -> pd.Series:
    return col.astype(int) if col.name == "year" else col


TABLES = {
    "wdi_remittances": wdi_remittances,
    "wdi_remittances_apr2026": wdi_remittances_apr2026,
    "nsc_remittances": nsc_remittances,
    "wdi_gdp": wdi_gdp,
}
