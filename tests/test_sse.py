"""Chapter 'sse': its tables hold together, its dates are sound, its glued values match the data.

Every statistic is recomputed here from the CSV files with pandas, independently of the
chapter's own code.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from conftest import FIGURES, ROOT, declared_figures, toc_chapters

import kgbook
from kgbook.data import load_table

DATA = ROOT / "data"
TABLES = ["sse_events", "sse_definition", "sse_project_countries", "sse_legal_status"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"{name}.csv", dtype=str, keep_default_na=False)


def say(period: str) -> str:
    """English text of a stated date, day range or month, written out independently."""
    def day(text):
        y, m, d = (int(x) for x in text.split("-"))
        return y, m, d
    if "/" in period:
        (y1, m1, d1), (y2, m2, d2) = (day(p) for p in period.split("/"))
        assert (y1, m1) == (y2, m2), "day ranges across months are not used in this chapter"
        return f"{d1}–{d2} {MONTHS[m1 - 1]} {y1}"
    parts = period.split("-")
    if len(parts) == 3:
        return f"{int(parts[2])} {MONTHS[int(parts[1]) - 1]} {parts[0]}"
    return f"{MONTHS[int(parts[1]) - 1]} {parts[0]}"


def latest_day(published: str) -> pd.Timestamp:
    """Last day covered by a publication date given as YYYY, YYYY-MM or YYYY-MM-DD."""
    if len(published) == 4:
        return pd.Timestamp(f"{published}-12-31")
    if len(published) == 7:
        return pd.Timestamp(f"{published}-01") + pd.offsets.MonthEnd(0)
    return pd.Timestamp(published)


@pytest.fixture(scope="module")
def glued(book):
    return book.glued("sse")


# ---- tables ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", TABLES)
def test_table_validates_and_is_tidy(name):
    df = load_table(name)
    assert len(df) >= 2
    res = kgbook.resource(name)
    assert res["chapters"][0] == "sse" and set(res["chapters"]) <= {"sse", "synthesis"}
    raw = (DATA / res["path"]).read_bytes()
    assert b"\r" not in raw and not raw.startswith(b"\xef\xbb\xbf")
    assert raw.endswith(b"\n")
    for col in ("bibkey", "url", "fact_id"):
        assert df[col].notna().all(), f"{name}: {col} missing on some row"


@pytest.mark.parametrize("name", TABLES)
def test_bibkeys_exist_and_urls_match_the_bibliography(name):
    bib = (ROOT / "references.bib").read_text(encoding="utf-8")
    entries = dict(re.findall(r"@\w+\{([^,]+),(.*?)\n\}", bib, flags=re.S))
    df = read(name)
    for _, row in df.iterrows():
        assert row.bibkey in entries, f"{name}: {row.bibkey} not in references.bib"
        url = re.search(r"url\s*=\s*\{([^}]*)\}", entries[row.bibkey]).group(1)
        assert row.url == url, f"{name}: url of {row.bibkey} differs from references.bib"
    if "kickoff_bibkey" in df:
        assert set(df.kickoff_bibkey[df.kickoff_bibkey != ""]) <= set(entries)


# ---- events and dates --------------------------------------------------------------------

def test_every_event_date_parses_and_lies_within_its_sources_period():
    ev = read("sse_events")
    for _, row in ev.iterrows():
        start = pd.Timestamp(row.period_start)
        end = pd.Timestamp(row.period_end)
        assert start <= end, row.event_id
        stated = row.period.split("/")
        first = stated[0]
        if row.precision == "day":
            assert len(first) == 10 and row.date == first, row.event_id
            assert start == pd.Timestamp(first), row.event_id
            assert end == pd.Timestamp(stated[-1]), row.event_id
            assert start <= pd.Timestamp(row.date) <= end, row.event_id
        else:
            assert len(first) == 7 and len(stated) == 1 and row.date == "", row.event_id
            month_start = pd.Timestamp(first + "-01")
            month_end = month_start + pd.offsets.MonthEnd(0)
            assert start == month_start, row.event_id
            assert end <= month_end, row.event_id
        # an event cannot be later than the page that reports it
        assert end <= latest_day(row.source_published), row.event_id


def test_month_only_windows_end_at_month_end_or_publication():
    ev = read("sse_events")
    for _, row in ev[ev.precision == "month"].iterrows():
        month_end = pd.Timestamp(row.period + "-01") + pd.offsets.MonthEnd(0)
        expected = min(month_end, latest_day(row.source_published))
        assert pd.Timestamp(row.period_end) == expected, row.event_id


def test_policy_path_dates_match_the_sources():
    ev = read("sse_events").set_index("event_id")
    assert ev.loc["ilc110_resolution", "period"] == "2022-06"
    assert ev.loc["gb346_strategy", "period"].startswith("2022-11")
    assert ev.loc["kickoff_kgz", "date"] == "2022-12-08"
    assert ev.loc["unga_2023", "date"] == "2023-04-18"
    assert ev.loc["kgz_validation", "period"] == "2023-12"
    # the resolution precedes the strategy, which precedes the Kyrgyz kick-off and validation
    order = ["gb341_agenda", "ilc110_resolution", "gb346_strategy", "kickoff_kgz",
             "unga_2023", "kgz_validation"]
    starts = [pd.Timestamp(ev.loc[k, "period_start"]) for k in order]
    assert starts == sorted(starts)


def test_event_glues(glued):
    ev = read("sse_events")
    for _, row in ev.iterrows():
        assert glued[f"sse_when_{row.event_id}"] == say(row.period)
    assert glued["sse_n_events"] == len(ev)
    assert glued["sse_n_events_month_only"] == int((ev.precision == "month").sum())
    pos = ev.date.where(ev.date != "", None)
    mid = (pd.to_datetime(ev.period_start)
           + (pd.to_datetime(ev.period_end) - pd.to_datetime(ev.period_start)) / 2)
    pos = pd.to_datetime(pos).fillna(mid)
    assert glued["sse_first_event"] == say(ev.period[pos.idxmin()])
    assert glued["sse_last_event"] == say(ev.period[pos.idxmax()])
    k = ev.set_index("event_id")
    assert glued["sse_kickoff_news_date"] == say(k.loc["kickoff_kgz", "source_published"])
    assert glued["sse_gb346_month"] == say(k.loc["gb346_strategy", "period"][:7])
    kick = pd.Timestamp(k.loc["kickoff_kgz", "date"])
    val = pd.Timestamp(k.loc["kgz_validation", "period"] + "-01")
    assert glued["sse_months_kickoff_to_validation"] == (
        (val.year - kick.year) * 12 + val.month - kick.month)


# ---- definition ---------------------------------------------------------------------------

def test_definition_matches_the_ilc_text_counts(glued):
    df = read("sse_definition")
    counts = df.element_type.value_counts()
    # counts in the fact ledger (sse_def_principles, sse_def_values, sse_def_entities)
    assert counts["principle"] == 4
    assert counts["value"] == 6
    assert counts["entity type"] == 6
    assert glued["sse_n_principles"] == counts["principle"]
    assert glued["sse_n_values"] == counts["value"]
    assert glued["sse_n_entity_types"] == counts["entity type"]
    assert glued["sse_n_aspirations"] == counts["aspiration"]
    assert glued["sse_n_elements"] == len(df)
    assert glued["sse_n_element_types"] == df.element_type.nunique()
    assert "transition from the informal to the formal economy" in set(df.element)
    for _, part in df.groupby("element_type"):
        assert sorted(part.position.astype(int)) == list(range(1, len(part) + 1))


# ---- project countries ------------------------------------------------------------------

def test_project_countries(glued):
    df = read("sse_project_countries")
    project = df[df.in_2022_project == "true"]
    assert set(project.country) == {"KHM", "KGZ", "MNG", "THA", "VNM"}
    assert glued["sse_n_countries"] == len(project)
    assert glued["sse_n_planned_2021"] == int((df.in_2021_plan == "true").sum()) == 6
    dropped = df[(df.in_2021_plan == "true") & (df.in_2022_project == "false")]
    assert glued["sse_dropped_country"] == " and ".join(dropped.country_name)
    assert glued["sse_n_nacs"] == int((project.nac_established == "true").sum())
    assert glued["sse_n_subregions"] == project.subregion.nunique()
    names = list(project.country_name)
    assert glued["sse_countries_list"] == ", ".join(names[:-1]) + " and " + names[-1]
    dated = project[project.kickoff != ""]
    assert glued["sse_n_kickoffs_dated"] == len(dated)
    kgz = project.set_index("country").loc["KGZ", "kickoff"]
    assert glued["sse_n_kickoffs_before_kgz"] == int((dated.kickoff.str[:7] < kgz[:7]).sum())
    # the Kyrgyz kick-off date agrees with the events table
    ev = read("sse_events").set_index("event_id")
    assert kgz == ev.loc["kickoff_kgz", "date"]
    assert not (df.nac_established[df.in_2022_project == "false"] == "true").any()


# ---- legal status -------------------------------------------------------------------------

def test_legal_status(glued):
    df = read("sse_legal_status")
    assert not df.duplicated(["country", "aspect"]).any(), "side-by-side cells must be unique"
    assert set(df.country) == {"KGZ", "KAZ", "UZB"}
    assert glued["sse_n_legal_countries"] == df.country.nunique()
    # The Uzbek law is the consultant's remark only (SOURCES-PAGES, conflict 17)
    uzb = df[df.country == "UZB"]
    assert (uzb.evidence == "ILO consultant's remark, reported by the ILO").all()
    # Kyrgyzstan: no legal definition of a social enterprise
    kgz = df[(df.country == "KGZ") & (df.aspect == "se_law_reported")]
    assert len(kgz) == 1 and kgz.status.iloc[0].startswith("No legal definition")
    rows = df.set_index("row_id")
    reg = int(rows.loc["kaz_se_registered", "number"])
    est = int(rows.loc["kaz_se_estimated", "number"])
    assert glued["sse_kaz_registered"] == reg
    assert glued["sse_kaz_estimated"] == est
    assert glued["sse_kaz_registered_pct"] == pytest.approx(100 * reg / est)
    assert glued["sse_kaz_registered_year"] == int(rows.loc["kaz_se_registered", "period"])
    assert glued["sse_kaz_register_date"] == say(rows.loc["kaz_se_register", "period"])
    assert glued["sse_kgz_coop_law_date"] == say(rows.loc["kgz_coop_law", "period"])
    assert glued["sse_kgz_coop_union_year"] == int(rows.loc["kgz_coop_union", "period"])


def test_source_count(glued):
    keys = pd.concat([read(n).bibkey for n in TABLES])
    assert glued["sse_n_sources"] == keys.nunique()


# ---- page and figures ---------------------------------------------------------------------

def test_chapter_is_in_the_toc_after_migration():
    chapters = toc_chapters()
    assert "sse" in chapters
    if "migration" in chapters:
        assert chapters.index("migration") < chapters.index("sse")


def test_figures_exist_and_are_referenced(book):
    figs = declared_figures("sse")
    assert figs == ["fig-sse-timeline"]
    text = (ROOT / "chapters" / "sse.md").read_text(encoding="utf-8")
    html = book.page("sse")
    for fig in figs:
        for ext in ("png", "svg", "pdf"):
            assert (FIGURES / fig / f"{fig}.en.{ext}").stat().st_size > 0
        assert "{numref}`" + fig + "`" in text
        assert f'id="{fig}"' in html


def test_page_renders_glued_values_and_no_placeholders(book, glued):
    html = book.page("sse")
    assert "Key findings" in html
    assert "Data notes and limitations" in html
    for word in ("TODO", "lorem ipsum", "XXX"):
        assert word.lower() not in html.lower()
    assert glued["sse_when_kickoff_kgz"] in html
    assert f"{glued['sse_kaz_registered_pct']:.1f}" in html
    # the Uzbek law is presented as unverified
    assert "unverified" in html

