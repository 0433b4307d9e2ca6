"""Country context extracts: WDI employment by sector and ILO modelled participation, and the
NSC national labour-force-survey series (unemployment, employment rate, youth NEET)."""

from __future__ import annotations

import pandas as pd

from .common import read_source

WDI_DDF = "wdi-extract-ddf/wdi_selected_kgz_comparators_long.csv"
NSC_SDG = "kgz-nsc-sdg/kgz_nsc_sdg_selected_long.csv"

SECTORS = {"SL.AGR.EMPL.ZS": "agriculture", "SL.IND.EMPL.ZS": "industry",
           "SL.SRV.EMPL.ZS": "services"}
PARTICIPATION = {"SL.TLF.CACT.FE.ZS": "female", "SL.TLF.CACT.MA.ZS": "male"}
SEX = {"_T": "total", "F": "female", "M": "male"}
URBANISATION = {"_T": "total", "U": "urban", "R": "rural"}
# NSC SDG file -> (series code, book's short name). REF_AREA is "KG" for these series
# (the file uses the M49 code "417" only for 17.3.2); AGE is _T except NEET (Y15T24).
NSC_SERIES = {"8.5.2": ("SL_TLF_UEM", "unemployment_rate"),
              "8.5.2.2": ("_L_KG_080502_2", "employment_rate"),
              "8.6.1": ("SL_TLF_NEET", "youth_neet_rate")}


def _sort(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    return df.sort_values(cols, key=lambda c: c.astype(int) if c.name == "year" else c,
                          kind="stable").reset_index(drop=True)


def _wdi_by(codes: dict[str, str], countries: list[str], label: str,
            value: str) -> pd.DataFrame:
    """WDI rows for ``codes`` and ``countries``, one row per country, year and code label."""
    src = read_source(WDI_DDF)
    src = src[src.indicator_code.isin(codes) & src.iso3.isin(countries)]
    out = pd.DataFrame({"country": src.iso3, "year": src.year,
                        label: src.indicator_code.map(codes),
                        "indicator": src.indicator_code, value: src.value})
    return _sort(out, ["country", "year", label])


def ctx_employment_sector() -> pd.DataFrame:
    return _wdi_by(SECTORS, ["KGZ"], "sector", "employment_share_pct")


def ctx_participation() -> pd.DataFrame:
    return _wdi_by(PARTICIPATION, ["KGZ", "KAZ"], "sex", "participation_rate_pct")


def ctx_nsc_labour() -> pd.DataFrame:
    src = read_source(NSC_SDG)
    parts = []
    for sdg_file, (code, name) in NSC_SERIES.items():
        part = src[(src.sdg_file == sdg_file) & (src.SERIES == code) & (src.REF_AREA == "KG")]
        if sdg_file == "8.5.2":  # national rate only: no age groups, no regions
            part = part[part.AGE == "_T"]
        parts.append(part.assign(series=name))
    src = pd.concat(parts)
    out = pd.DataFrame({
        "series": src.series, "sdg_indicator": src.sdg_file, "series_code": src.SERIES,
        "sex": src.SEX.map(SEX), "age": src.AGE.map({"_T": "total", "Y15T24": "15-24"}),
        "urbanisation": src.URBANISATION.map(URBANISATION), "year": src.TIME_PERIOD,
        "value_pct": src.OBS_VALUE})
    if out.isna().any().any():
        raise ValueError("unexpected code in the NSC file (sex, age or urbanisation)")
    return _sort(out, ["series", "sex", "urbanisation", "year"])


TABLES = {
    "ctx_employment_sector": ctx_employment_sector,
    "ctx_participation": ctx_participation,
    "ctx_nsc_labour": ctx_nsc_labour,
}
