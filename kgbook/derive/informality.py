"""Informality extracts: ILOSTAT harmonised informal employment rate and NSC informal-sector count.

Two different concepts, kept in separate tables:

- ``inf_ilostat_rates``: ILO harmonised *informal employment* rate by sex (EMP_NIFL_SEX_RT_A,
  ILOSTAT bulk download of July 2024), Kyrgyzstan and the comparators that have the series.
  ILOSTAT's status and note columns are kept, so the 2018 methodology break travels with the
  values.
- ``inf_nsc_sector``: the National Statistical Committee's count of persons employed in the
  informal *sector* (national SDG series 8.3.1.1, ``_L_KG_080301_1``), thousand persons, by
  sex and by broad activity.

Kazakhstan's national SDG 8.3.1 series is a different national definition and is not used.
"""

from __future__ import annotations

import pandas as pd

from .common import read_source

ILOSTAT = "ilostat-informality/EMP_NIFL_SEX_RT_A_selected_countries.csv"
NSC = "kgz-nsc-sdg/kgz_nsc_sdg_selected_long.csv"

ISO3 = {"Kyrgyzstan": "KGZ", "Armenia": "ARM", "Georgia": "GEO", "Republic of Moldova": "MDA",
        "Mongolia": "MNG", "Russian Federation": "RUS"}
SEX = {"Sex: Total": "total", "Sex: Female": "female", "Sex: Male": "male"}
NSC_SEX = {"_T": "total", "F": "female", "M": "male"}
# In this file ISIC4_S is used for all services (the four activities add up to the total),
# although the NSC code list labels ISIC4_S "Other service activities".
NSC_ACTIVITY = {"_T": "total", "ISIC4_A": "agriculture", "ISIC4_BTE": "industry",
                "ISIC4_F": "construction", "ISIC4_S": "services"}
KGZ_AREAS = {"KG", "417"}  # ISO alpha-2 or M49 code, depending on the NSC file


def inf_ilostat_rates() -> pd.DataFrame:
    src = read_source(ILOSTAT)
    unknown = set(src["ref_area.label"]) - set(ISO3)
    if unknown:
        raise ValueError(f"unexpected countries in {ILOSTAT}: {sorted(unknown)}")
    out = pd.DataFrame({
        "country": src["ref_area.label"].map(ISO3),
        "country_name": src["ref_area.label"],
        "sex": src["sex.label"].map(SEX),
        "year": src["time"],
        "rate_pct": src["obs_value"],
        "survey": src["source.label"],
        "status": src["obs_status.label"],
        "note": src["note_indicator.label"],
        "note_source": src["note_source.label"],
    })
    if out.sex.isna().any():
        raise ValueError("unexpected sex label in the ILOSTAT file")
    if out.duplicated(["country", "sex", "year"]).any():
        raise ValueError("duplicate country/sex/year in the ILOSTAT file")
    order = {"total": 0, "female": 1, "male": 2}
    out = out.assign(_y=out.year.astype(int), _s=out.sex.map(order))
    return out.sort_values(["country", "_y", "_s"]).drop(columns=["_y", "_s"])


def inf_nsc_sector() -> pd.DataFrame:
    src = read_source(NSC)
    src = src[(src.sdg_file == "8.3.1.1") & (src.SERIES == "_L_KG_080301_1")]
    areas = set(src.REF_AREA)
    if not areas <= KGZ_AREAS:
        raise ValueError(f"8.3.1.1: unexpected REF_AREA codes {sorted(areas - KGZ_AREAS)}")
    src = src[(src.AGE == "_T") & (src.URBANISATION == "_T")]
    by_sex = src[src.ACTIVITY == "_T"]
    by_activity = src[(src.SEX == "_T") & (src.ACTIVITY != "_T")]
    sel = pd.concat([by_sex, by_activity])
    if set(sel.UNIT_MEASURE) != {"NUMBER"} or set(sel.UNIT_MULT) != {"3"}:
        raise ValueError("8.3.1.1: expected UNIT_MEASURE NUMBER with UNIT_MULT 3 (thousands)")
    out = pd.DataFrame({
        "year": sel.TIME_PERIOD,
        "sex": sel.SEX.map(NSC_SEX),
        "activity": sel.ACTIVITY.map(NSC_ACTIVITY),
        "sex_code": sel.SEX,
        "activity_code": sel.ACTIVITY,
        "employed_thousands": sel.OBS_VALUE,
    })
    if out.isna().any().any():
        raise ValueError("8.3.1.1: unexpected SEX or ACTIVITY code")
    if out.duplicated(["year", "sex", "activity"]).any():
        raise ValueError("8.3.1.1: several REF_AREA codes give the same observation")
    s_order = {"total": 0, "female": 1, "male": 2}
    a_order = {"total": 0, "agriculture": 1, "industry": 2, "construction": 3, "services": 4}
    out = out.assign(_y=out.year.astype(int), _s=out.sex.map(s_order),
                     _a=out.activity.map(a_order))
    return out.sort_values(["_y", "_a", "_s"]).drop(columns=["_y", "_s", "_a"])


TABLES = {
    "inf_ilostat_rates": inf_ilostat_rates,
    "inf_nsc_sector": inf_nsc_sector,
}
