"""Social protection extracts from the NSC national SDG files (1.3.1, 1.3.1.a, 1.3.1.d, 1.a.2).

Values are the exact strings published in the flattened copy of the SDMX files. The national
rows use REF_AREA ``KG`` in these four files (not the M49 code ``417`` used in 17.3.2).
Series 1.3.1.c (pensions and disability benefits) belongs to the disability chapter and is
not derived here.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pandas as pd

from .common import SHARED, read_source, wide

NSC_LONG = "kgz-nsc-sdg/kgz_nsc_sdg_selected_long.csv"
AREA_TYPES = {"KG": "country", "KG11": "city", "KG21": "city"}  # all other KGnn: oblast


def _nsc(sdg_file: str, series: list[str], *, national_only: bool = True) -> pd.DataFrame:
    src = read_source(NSC_LONG)
    src = src[(src.sdg_file == sdg_file) & src.SERIES.isin(series)]
    totals = ["SEX", "AGE", "URBANISATION", "ACTIVITY", "DISABILITY_STATUS"]
    if not (src[totals] == "_T").all().all():
        raise ValueError(f"{sdg_file}: unexpected breakdowns besides area")
    if set(src.UNIT_MEASURE) != {"PT"} or set(src.UNIT_MULT) != {"0"}:
        raise ValueError(f"{sdg_file}: unit is not plain percent")
    if national_only:
        src = src[src.REF_AREA == "KG"]
    if src.empty:
        raise ValueError(f"{sdg_file}: no rows for {series}")
    return src


def _obs_comments(sdg_file: str) -> dict[tuple[str, str], str]:
    """COMMENT_OBS by (REF_AREA, TIME_PERIOD) from the raw SDMX file (dropped in the CSV)."""
    root = ET.parse(SHARED / "kgz-nsc-sdg" / "raw" / f"{sdg_file}.xml").getroot()
    out = {}
    for series in root.iter("Series"):
        for obs in series.iter("Obs"):
            out[(series.get("REF_AREA"), obs.get("TIME_PERIOD"))] = obs.get("COMMENT_OBS", "")
    return out


def _by_year(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(_y=df.year.astype(int)).sort_values("_y").drop(columns="_y")


def sp_coverage() -> pd.DataFrame:
    src = _nsc("1.3.1", ["SI_COV_BENFTS"], national_only=False)
    names = read_source("kgz-nsc-sdg/codelists_subset.csv")
    names = names[names.codelist == "CL_AREA"].set_index("code")["name_en"]
    comments = _obs_comments("1.3.1")
    out = pd.DataFrame({
        "area_code": src.REF_AREA,
        "area_name": src.REF_AREA.map(names),
        "area_type": src.REF_AREA.map(lambda c: AREA_TYPES.get(c, "oblast")),
        "year": src.TIME_PERIOD,
        "covered_pct_national_pop": src.OBS_VALUE,
        "obs_comment": [comments[(a, t)] for a, t in zip(src.REF_AREA, src.TIME_PERIOD)],
    })
    if out.area_name.isna().any():
        raise ValueError("area code without a name in CL_AREA")
    order = {"country": 0, "oblast": 1, "city": 2}
    out = out.assign(_t=out.area_type.map(order), _y=out.year.astype(int))
    return out.sort_values(["_t", "area_name", "_y"]).drop(columns=["_t", "_y"])


def sp_benefits() -> pd.DataFrame:
    codes = {"_L_KG_010301_1C1": "low_income_allowance_pct_pop",
             "_L_KG_010301_1C2": "social_benefits_pct_pop",
             "_L_KG_010301_1G2": "pensioners_below_msl_pct_pop",
             "_L_KG_010301_1G3": "pensioners_below_msl_pct_pensioners"}
    src = pd.concat([_nsc("1.3.1.a", list(codes)[:2]), _nsc("1.3.1.d", list(codes)[2:])])
    src = src.rename(columns={"TIME_PERIOD": "year"})
    return _by_year(wide(src, ["year"], "SERIES", "OBS_VALUE", codes))


def sp_spending() -> pd.DataFrame:
    codes = {"SG_XPD_PROT": "social_protection_pct", "SG_XPD_HLTH": "health_pct",
             "SD_XPD_ESED": "education_pct", "_L_KG_010A02_1": "essential_services_pct"}
    src = _nsc("1.a.2", list(codes)).rename(columns={"TIME_PERIOD": "year"})
    return _by_year(wide(src, ["year"], "SERIES", "OBS_VALUE", codes))


TABLES = {
    "sp_coverage": sp_coverage,
    "sp_benefits": sp_benefits,
    "sp_spending": sp_spending,
}
