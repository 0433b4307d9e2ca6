"""Disability-related NSC series (national SDG indicator 1.3.1.c) for the disability chapter.

The NSC SDG files hold one disability-related series: the share of the population receiving
pensions and disability benefits (``_L_KG_010301_1F1``, Russian label «пенсии и пособия по
инвалидности»). No series in the files is broken down by disability status
(``DISABILITY_STATUS`` is ``_T`` on every row). Values are copied as published strings.
"""

from __future__ import annotations

import pandas as pd

from .common import read_source

NSC_LONG = "kgz-nsc-sdg/kgz_nsc_sdg_selected_long.csv"
SERIES = "_L_KG_010301_1F1"
# REF_AREA differs between the NSC files: 'KG' in most, the M49 code '417' in some (10.7.4,
# 17.3.2). Accept either for the national total, but refuse two rows for one year.
NATIONAL = {"KG", "417"}


def dis_nsc_benefits() -> pd.DataFrame:
    src = read_source(NSC_LONG)
    src = src[(src.sdg_file == "1.3.1.c") & (src.SERIES == SERIES)
              & src.REF_AREA.isin(NATIONAL)]
    totals = (src.SEX == "_T") & (src.AGE == "_T") & (src.DISABILITY_STATUS == "_T")
    src = src[totals]
    if src.empty:
        raise ValueError(f"no national rows for {SERIES} in {NSC_LONG}")
    if src.TIME_PERIOD.duplicated().any():
        raise ValueError(f"{SERIES}: more than one national value for a year")
    if set(src.UNIT_MEASURE) != {"PT"} or set(src.UNIT_MULT) != {"0"}:
        raise ValueError(f"{SERIES}: unexpected unit {set(src.UNIT_MEASURE)}")
    out = src.rename(columns={"SERIES": "series_code", "TIME_PERIOD": "year",
                              "OBS_VALUE": "pct_population", "OBS_STATUS": "obs_status"})
    out = out[["series_code", "year", "pct_population", "obs_status"]]
    return out.sort_values("year", key=lambda c: c.astype(int))


TABLES = {"dis_nsc_benefits": dis_nsc_benefits}
