"""One figure style for the whole book, the chart types it uses, and reproducible export.

Every chart is drawn on a 16:9 canvas with its title, a subtitle that states the unit,
and a source line on the image itself, so that a figure lifted into a slide still says
what it shows and where the numbers come from. Colours are colour-blind safe, have at
least 3:1 contrast on the white background, and are fixed per country and per sex;
each country also has a fixed marker so colour is never the only cue.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import FuncFormatter, MaxNLocator

from .data import ROOT

FIGURES_DIR = ROOT / "figures"
FIGSIZE = (10.0, 5.625)  # inches, 16:9
EXPORT_DPI = 300
FIGURE_ID = re.compile(r"^fig-[a-z0-9]+(-[a-z0-9]+)*$")

INK = "#1a1a1a"
MUTED = "#4d4d4d"  # 8.4:1 on white
GRID = "#d9d9d9"

COUNTRY_NAMES = {
    "KGZ": "Kyrgyzstan", "KAZ": "Kazakhstan", "TJK": "Tajikistan", "UZB": "Uzbekistan",
    "ARM": "Armenia", "GEO": "Georgia", "MDA": "Republic of Moldova", "MNG": "Mongolia",
    "RUS": "Russian Federation", "ECS": "Europe & Central Asia",
    "ECA": "Europe & Central Asia (excl. high income)", "LMC": "Lower-middle income",
    "WLD": "World",
}
COUNTRY_COLORS = {
    "KGZ": "#D55E00", "KAZ": "#0072B2", "TJK": "#007A5E", "UZB": "#A8518A",
    "ARM": "#332288", "GEO": "#B36B00", "MDA": "#8C510A", "MNG": "#1B7F79",
    "RUS": "#000000", "ECS": "#666666", "ECA": "#666666", "LMC": "#666666", "WLD": "#4d4d4d",
}
COUNTRY_MARKERS = {
    "KGZ": "o", "KAZ": "s", "TJK": "^", "UZB": "D", "ARM": "v", "GEO": "P", "MDA": "X",
    "MNG": "<", "RUS": ">", "ECS": None, "ECA": None, "LMC": None, "WLD": None,
}
AGGREGATE_STYLES = {"ECS": "--", "ECA": "-.", "LMC": ":", "WLD": (0, (5, 1, 1, 1))}
SEX_LABELS = {"total": "Total", "female": "Women", "male": "Men"}
SEX_COLORS = {"total": "#1a1a1a", "female": "#A8518A", "male": "#0072B2"}
SEX_MARKERS = {"total": "o", "female": "D", "male": "s"}
# A general qualitative sequence for categories that are not countries or sexes.
SEQUENCE = ["#0072B2", "#D55E00", "#007A5E", "#A8518A", "#332288", "#B36B00", "#8C510A",
            "#1B7F79", "#000000"]

STYLE = {
    "figure.figsize": FIGSIZE,
    "figure.dpi": 100,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "font.family": "DejaVu Sans",
    "font.size": 12,
    "axes.titlesize": 12,
    "axes.labelsize": 12,
    "axes.labelcolor": INK,
    "axes.edgecolor": MUTED,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": GRID,
    "grid.linewidth": 0.8,
    "xtick.color": INK,
    "ytick.color": INK,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.frameon": False,
    "legend.fontsize": 11,
    "lines.linewidth": 2.2,
    "lines.markersize": 5.5,
    "svg.hashsalt": "kgbook",
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
    "path.simplify": True,
}


def apply_style() -> None:
    """Set the book's matplotlib style (called on import)."""
    plt.rcParams.update(STYLE)


apply_style()


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width=width, break_long_words=False))


def new_figure(title: str, subtitle: str, source: str, *, note: str | None = None,
               height: float = FIGSIZE[1], legend_space: bool = True):
    """A figure with title, subtitle (state the unit) and source line; returns (fig, ax)."""
    if not title or not subtitle or not source:
        raise ValueError("every figure needs a title, a subtitle with the unit, and a source")
    fig, ax = plt.subplots(figsize=(FIGSIZE[0], height))
    top_in = 1.25 if legend_space else 0.95  # inches reserved above the axes
    foot = _wrap(source if note is None else f"{note} {source}", 135)
    bottom_in = 0.55 + 0.19 * foot.count("\n")
    fig.subplots_adjust(left=0.085, right=0.975, top=1 - top_in / height,
                        bottom=(bottom_in + 0.35) / height)
    fig.text(0.012, 1 - 0.12 / height, title, ha="left", va="top", fontsize=15,
             fontweight="bold", color=INK)
    fig.text(0.012, 1 - 0.48 / height, subtitle, ha="left", va="top", fontsize=12, color=MUTED)
    fig.text(0.012, 0.1 / height, foot, ha="left", va="bottom", fontsize=9, color=MUTED,
             linespacing=1.3)
    return fig, ax


def _fit_labels(fig, labels: Sequence[str], width: int = 42) -> list[str]:
    """Wrap long category labels and widen the left margin so none is cut off.

    The margin is measured from the labels as rendered at tick size, not guessed.
    """
    wrapped = [_wrap(str(label), width) for label in labels]
    renderer = fig.canvas.get_renderer()
    size = plt.rcParams["ytick.labelsize"]
    widest = max(fig.text(0, 0, label, fontsize=size).get_window_extent(renderer).width
                 for label in wrapped)
    for t in fig.texts[-len(wrapped):]:
        t.remove()
    margin = (widest + 0.25 * fig.dpi) / (fig.get_figwidth() * fig.dpi)
    fig.subplots_adjust(left=min(0.5, max(0.085, margin)))
    return wrapped


def _legend_above(ax, ncol: int | None = None) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    ax.legend(handles, labels, loc="lower left", bbox_to_anchor=(0, 1.01),
              ncol=ncol or min(len(labels), 5), handlelength=2.2, borderaxespad=0.2,
              columnspacing=1.4)


def percent_axis(ax, axis: str = "y") -> None:
    fmt = FuncFormatter(lambda v, _: f"{v:g}%")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def _style_for(key: str, colors: Mapping | None, markers: Mapping | None, i: int):
    if colors and key in colors:
        color = colors[key]
    elif key in COUNTRY_COLORS:
        color = COUNTRY_COLORS[key]
    elif key in SEX_COLORS:
        color = SEX_COLORS[key]
    else:
        color = SEQUENCE[i % len(SEQUENCE)]
    if markers and key in markers:
        marker = markers[key]
    else:
        marker = COUNTRY_MARKERS.get(key, SEX_MARKERS.get(key, "o"))
    return color, marker, AGGREGATE_STYLES.get(key, "-")


def _label_for(key, labels: Mapping | None) -> str:
    if labels and key in labels:
        return labels[key]
    return COUNTRY_NAMES.get(key, SEX_LABELS.get(key, str(key)))


def line_chart(data: pd.DataFrame, *, x: str, y: str, group: str, title: str, subtitle: str,
               source: str, order: Sequence | None = None, labels: Mapping | None = None,
               colors: Mapping | None = None, markers: Mapping | None = None,
               percent: bool = False, ylim: tuple | None = None, note: str | None = None,
               breaks: Iterable[tuple] = (), thresholds: Iterable[tuple] = (),
               ylabel: str | None = None, end_labels: bool = False):
    """Lines over time, one per group, with optional vertical breaks and horizontal thresholds.

    ``breaks`` is a list of ``(x, text)`` marking a series break; ``thresholds`` a list of
    ``(y, text)`` reference levels.
    """
    fig, ax = new_figure(title, subtitle, source, note=note)
    keys = list(order) if order is not None else list(dict.fromkeys(data[group]))
    for i, key in enumerate(keys):
        part = data[data[group] == key].sort_values(x)
        if part.empty:
            raise ValueError(f"line_chart: no rows for {group}={key!r}")
        color, marker, ls = _style_for(key, colors, markers, i)
        ax.plot(part[x], part[y], color=color, marker=marker, linestyle=ls,
                label=_label_for(key, labels), zorder=3)
        if end_labels:
            last = part.iloc[-1]
            ax.annotate(_label_for(key, labels), (last[x], last[y]), xytext=(6, 0),
                        textcoords="offset points", va="center", fontsize=10.5, color=color)
    for xb, text in breaks:
        ax.axvline(xb, color=MUTED, linestyle=":", linewidth=1.4, zorder=2)
        ax.annotate(text, (xb, 1), xycoords=("data", "axes fraction"), xytext=(4, -4),
                    textcoords="offset points", va="top", fontsize=10, color=MUTED)
    for yt, text in thresholds:
        ax.axhline(yt, color=INK, linestyle="--", linewidth=1.2, zorder=2)
        ax.annotate(text, (0, yt), xycoords=("axes fraction", "data"), xytext=(4, 4),
                    textcoords="offset points", fontsize=10, color=INK)
    if ylim:
        ax.set_ylim(*ylim)
    if percent:
        percent_axis(ax)
    if ylabel:
        ax.set_ylabel(ylabel)
    if pd.api.types.is_integer_dtype(data[x]):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=10))
    if not end_labels:
        _legend_above(ax)
    return fig, ax


def bar_chart(data: pd.DataFrame, *, category: str, value: str, title: str, subtitle: str,
              source: str, labels: Mapping | None = None, colors: Mapping | str | None = None,
              highlight: str | None = None, horizontal: bool = True, sort: bool = True,
              value_format: str = "{:.1f}", references: Iterable[tuple] = (),
              percent: bool = False, note: str | None = None, xlim: tuple | None = None):
    """Ranked bars with value labels; ``highlight`` gives one category the accent colour.

    ``references`` is a list of ``(value, text)`` reference lines across the bars.
    """
    df = data.sort_values(value, ascending=horizontal) if sort else data.iloc[::-1 if horizontal
                                                                              else 1]
    n = len(df)
    cats = [str(_label_for(c, labels)) for c in df[category]]
    if horizontal:
        cats = [_wrap(c, 42) for c in cats]
        lines = max(c.count("\n") + 1 for c in cats)
        height = max(FIGSIZE[1], 2.3 + n * (0.24 + 0.18 * lines))
    else:
        height = FIGSIZE[1]
    fig, ax = new_figure(title, subtitle, source, note=note, height=height,
                         legend_space=False)
    if horizontal:
        cats = _fit_labels(fig, cats)
    cols = []
    for i, c in enumerate(df[category]):
        if isinstance(colors, str):
            cols.append(colors)
        elif colors and c in colors:
            cols.append(colors[c])
        elif highlight is not None:
            cols.append(COUNTRY_COLORS["KGZ"] if c == highlight else "#5a5a5a")
        else:
            cols.append(_style_for(c, None, None, i)[0])
    vals = df[value].to_numpy()
    if horizontal:
        bars = ax.barh(cats, vals, color=cols, zorder=3, height=0.65)
        ax.grid(axis="x")
        ax.grid(axis="y", visible=False)
        if percent:
            percent_axis(ax, "x")
        if xlim:
            ax.set_xlim(*xlim)
    else:
        bars = ax.bar(cats, vals, color=cols, zorder=3, width=0.65)
        if percent:
            percent_axis(ax, "y")
    ax.bar_label(bars, labels=[value_format.format(v) for v in vals], padding=3, fontsize=10.5,
                 color=INK)
    box = {"facecolor": "white", "edgecolor": "none", "alpha": 0.9, "pad": 1.5}
    for ref, text in references:
        line = ax.axvline if horizontal else ax.axhline
        line(ref, color=INK, linestyle="--", linewidth=1.2, zorder=4)
        if horizontal:
            ax.annotate(text, (ref, 1), xycoords=("data", "axes fraction"), xytext=(3, 2),
                        textcoords="offset points", fontsize=10, color=INK, va="bottom",
                        bbox=box, zorder=6)
        else:
            ax.annotate(text, (0, ref), xycoords=("axes fraction", "data"), xytext=(3, 3),
                        textcoords="offset points", fontsize=10, color=INK, ha="left",
                        bbox=box, zorder=6)
    ax.margins(x=0.12) if horizontal else ax.margins(y=0.12)
    return fig, ax


def stacked_bar_chart(data: pd.DataFrame, *, x: str, y: str, stack: str, title: str,
                      subtitle: str, source: str, order: Sequence | None = None,
                      labels: Mapping | None = None, colors: Mapping | None = None,
                      note: str | None = None, ylabel: str | None = None,
                      horizontal: bool = False, total_format: str | None = None):
    """Bars split into stacked parts; ``order`` fixes the stacking order (bottom first)."""
    fig, ax = new_figure(title, subtitle, source, note=note)
    wide = data.pivot(index=x, columns=stack, values=y)
    keys = list(order) if order is not None else list(wide.columns)
    if wide[keys].isna().any().any():
        gaps = wide[keys][wide[keys].isna().any(axis=1)].index.tolist()
        raise ValueError(f"stacked_bar_chart: missing parts for {x} = {gaps}")
    base = pd.Series(0.0, index=wide.index)
    pos = [str(_label_for(v, labels)) for v in wide.index]
    if horizontal:
        pos = _fit_labels(fig, pos)
    for i, key in enumerate(keys):
        color = _style_for(key, colors, None, i)[0]
        if horizontal:
            ax.barh(pos, wide[key], left=base, color=color, label=_label_for(key, labels),
                    zorder=3, edgecolor="white", linewidth=0.6)
        else:
            ax.bar(pos, wide[key], bottom=base, color=color, label=_label_for(key, labels),
                   zorder=3, edgecolor="white", linewidth=0.6)
        base = base + wide[key]
    if total_format:
        for p, t in zip(pos, base):
            if horizontal:
                ax.annotate(total_format.format(t), (t, p), xytext=(4, 0),
                            textcoords="offset points", va="center", fontsize=10.5)
            else:
                ax.annotate(total_format.format(t), (p, t), xytext=(0, 3),
                            textcoords="offset points", ha="center", fontsize=10)
    if horizontal:
        ax.grid(axis="x")
        ax.grid(axis="y", visible=False)
        ax.invert_yaxis()
    elif len(pos) > 12:
        for lab in ax.get_xticklabels():
            lab.set_rotation(90)
    if ylabel:
        (ax.set_xlabel if horizontal else ax.set_ylabel)(ylabel)
    _legend_above(ax)
    return fig, ax


def timeline_chart(events: pd.DataFrame, *, date: str, label: str, title: str, subtitle: str,
                   source: str, group: str | None = None, labels: Mapping | None = None,
                   colors: Mapping | None = None, note: str | None = None,
                   date_format: str = "%b %Y"):
    """Dated events, one row each in date order, labelled with the date and a short text."""
    ev = events.sort_values(date, kind="stable").reset_index(drop=True)
    n = len(ev)
    height = max(FIGSIZE[1], 2.4 + 0.45 * n)
    fig, ax = new_figure(title, subtitle, source, note=note, height=height,
                         legend_space=group is not None)
    dates = pd.to_datetime(ev[date])
    lo, hi = dates.min(), dates.max()
    span = max((hi - lo).days, 60)
    mid = lo + (hi - lo) / 2
    groups = list(dict.fromkeys(ev[group])) if group else [None]
    for gi, g in enumerate(groups):
        sel = ev[group] == g if group else pd.Series(True, index=ev.index)
        color = _style_for(g, colors, None, gi)[0] if group else COUNTRY_COLORS["KGZ"]
        ax.scatter(dates[sel], (n - 1 - ev.index[sel]), s=60, color=color, zorder=3,
                   label=_label_for(g, labels) if group else None)
    for i, row in ev.iterrows():
        d = dates[i]
        text = f"{d.strftime(date_format)}: {row[label]}"
        right = d <= mid
        ax.annotate(text, (d, n - 1 - i), xytext=(8 if right else -8, 0),
                    textcoords="offset points", ha="left" if right else "right",
                    va="center", fontsize=10.5, color=INK)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x")
    pad = pd.Timedelta(days=int(span * 0.04) + 15)
    ax.set_xlim(lo - pad, hi + pad)
    locator = mdates.AutoDateLocator(minticks=4, maxticks=9)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    if group:
        _legend_above(ax)
    return fig, ax


def dumbbell_chart(data: pd.DataFrame, *, category: str, start: str, end: str, title: str,
                   subtitle: str, source: str, start_label: str, end_label: str,
                   note: str | None = None, value_format: str = "{:.1f}",
                   percent: bool = False, start_color: str = "#5a5a5a",
                   end_color: str = "#D55E00", missing_text: str = "no series"):
    """Two values per row joined by a line (e.g. a published claim against a series).

    A missing ``end`` value is drawn as the start value alone, labelled ``missing_text``.
    """
    df = data.reset_index(drop=True)
    n = len(df)
    height = max(FIGSIZE[1], 2.6 + 0.55 * n)
    fig, ax = new_figure(title, subtitle, source, note=note, height=height)
    ys = list(range(n - 1, -1, -1))
    for yv, (_, row) in zip(ys, df.iterrows()):
        a, b = row[start], row[end]
        if pd.notna(b):
            ax.plot([a, b], [yv, yv], color="#9a9a9a", linewidth=2, zorder=2)
            ax.annotate(value_format.format(b), (b, yv), xytext=(0, 8),
                        textcoords="offset points", ha="center", fontsize=10, color=end_color)
        else:
            ax.annotate(missing_text, (a, yv), xytext=(10, 0), textcoords="offset points",
                        va="center", fontsize=10, color=MUTED, style="italic")
        ax.annotate(value_format.format(a), (a, yv), xytext=(0, -15),
                    textcoords="offset points", ha="center", fontsize=10, color=start_color)
    ax.scatter(df[start], ys, s=70, color=start_color, zorder=3, label=start_label,
               marker="s")
    ok = df[end].notna().to_numpy()
    ax.scatter(df[end][ok], [y for y, k in zip(ys, ok) if k], s=70, color=end_color,
               zorder=4, label=end_label)
    ax.set_yticks(ys)
    ax.set_yticklabels([_wrap(str(c), 34) for c in df[category]], fontsize=10.5)
    ax.set_ylim(-0.8, n - 0.2)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x")
    if percent:
        percent_axis(ax, "x")
    ax.margins(x=0.08)
    fig.subplots_adjust(left=0.3)
    _legend_above(ax, ncol=2)
    return fig, ax


def save_figure(fig, figure_id: str, *, directory: Path | None = None) -> None:
    """Write ``figures/<figure_id>.png`` (300 dpi), ``.svg`` and ``.pdf``, byte-reproducibly.

    No timestamps, software versions or random ids are written, so the same data and code
    give the same bytes on every run. Returns nothing, so that the figure stays the cell's
    only output (myst-nb wraps every output of a figure cell in the figure).
    """
    if not FIGURE_ID.match(figure_id):
        raise ValueError(f"figure id {figure_id!r} must look like 'fig-some-name' "
                         "(lowercase letters, digits and hyphens)")
    out = Path(directory or FIGURES_DIR)
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "png": {"Software": None},
        "svg": {"Date": None, "Creator": None},
        "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
    }
    for ext, md in meta.items():
        fig.savefig(out / f"{figure_id}.{ext}", format=ext, dpi=EXPORT_DPI, metadata=md,
                    facecolor="white")


def panel_bar_chart(data: pd.DataFrame, *, panel: str, category: str, value: str, title: str,
                    subtitle: str, source: str, kind: str | None = None,
                    colors: Mapping | None = None, hatches: Mapping | None = None,
                    text: str | None = None, panel_order: Sequence | None = None,
                    value_format: str = "{:,.0f}", note: str | None = None,
                    label_width: int = 40):
    """Horizontal bars in stacked panels, each panel with its own value axis.

    For amounts that must not share an axis (different currencies or reference years): one
    panel per value of ``panel``, bars in data order, top to bottom. ``kind`` colours (and,
    with ``hatches``, patterns) bars by a category column and adds a legend; ``text`` names a
    column with the bar labels (default: the value formatted with ``value_format``).
    """
    panels = list(panel_order) if panel_order is not None else list(dict.fromkeys(data[panel]))
    parts = [data[data[panel] == p] for p in panels]
    empty = [p for p, part in zip(panels, parts, strict=True) if part.empty]
    if empty:
        raise ValueError(f"panel_bar_chart: no rows for {panel} = {empty}")
    n_bars = sum(len(p) for p in parts)
    height = max(FIGSIZE[1], 2.2 + 0.36 * n_bars + 0.55 * len(panels))
    fig, ax0 = new_figure(title, subtitle, source, note=note, height=height,
                          legend_space=kind is not None)
    box = ax0.get_position()
    ax0.remove()
    top = box.y1 - (0.5 if kind else 0.3) / height
    gap_in = 0.55
    avg_in = ((top - box.y0) * height - gap_in * (len(panels) - 1)) / len(panels)
    grid = fig.add_gridspec(len(panels), 1, left=0.36, right=box.x1, bottom=box.y0, top=top,
                            height_ratios=[len(p) for p in parts], hspace=gap_in / avg_in)
    kinds = list(dict.fromkeys(data[kind])) if kind else []
    styles = {k: _style_for(k, colors, None, i)[0] for i, k in enumerate(kinds)}
    axes = []
    for gi, (name, part) in enumerate(zip(panels, parts, strict=True)):
        ax = fig.add_subplot(grid[gi])
        cats = [_wrap(str(c), label_width) for c in part[category]]
        ys = list(range(len(part)))
        for y, (_, row) in zip(ys, part.iterrows(), strict=True):
            k = row[kind] if kind else None
            ax.barh(y, row[value], height=0.62, zorder=3,
                    color=styles.get(k, COUNTRY_COLORS["KGZ"]),
                    hatch=(hatches or {}).get(k), edgecolor="white", linewidth=0.6)
            label = row[text] if text else value_format.format(row[value])
            ax.annotate(label, (row[value], y), xytext=(4, 0), textcoords="offset points",
                        va="center", fontsize=10.5, color=INK)
        ax.set_yticks(ys)
        ax.set_yticklabels(cats, fontsize=10.5)
        ax.set_ylim(len(part) - 0.5, -0.5)
        ax.set_xlim(0, part[value].max() * 1.3)
        ax.grid(axis="y", visible=False)
        ax.grid(axis="x")
        ax.set_title(str(name), loc="left", fontsize=11.5, fontweight="bold", color=INK, pad=4)
        axes.append(ax)
    if kind:
        from matplotlib.patches import Patch
        handles = [Patch(facecolor=styles[k], hatch=(hatches or {}).get(k), edgecolor="white",
                         label=str(k)) for k in kinds]
        fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.012, 1 - 0.72 / height),
                   ncol=min(len(kinds), 3), frameon=False, handlelength=1.6, columnspacing=1.2)
    return fig, axes
