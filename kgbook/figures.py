"""One figure style for the whole book, the chart types it uses, and reproducible export.

Every chart is drawn on a 16:9 canvas with its title, a subtitle that states the unit,
and a source line on the image itself, so that a figure lifted into a slide still says
what it shows and where the numbers come from. Colours are colour-blind safe, have at
least 3:1 contrast on the white background, and are fixed per country and per sex;
each country also has a fixed marker so colour is never the only cue.
"""

from __future__ import annotations

import copy
import functools
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import Formatter, FuncFormatter, MaxNLocator, StrMethodFormatter

from . import translate
from .translate import localize, t

FIGSIZE = (10.0, 5.625)  # inches, 16:9
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
    return "\n".join(textwrap.wrap(text, width=width, break_long_words=False,
                                   break_on_hyphens=False))


def new_figure(title: str, subtitle: str, source: str, *, note: str | None = None,
               height: float = FIGSIZE[1], legend_space: bool = True):
    """A figure with title, subtitle (state the unit) and source line; returns (fig, ax)."""
    if not title or not subtitle or not source:
        raise ValueError("every figure needs a title, a subtitle with the unit, and a source")
    title, subtitle, source, note = t(title), t(subtitle), _t_source(source), t(note)
    fig, ax = plt.subplots(figsize=(FIGSIZE[0], height))
    top_in = 1.25 if legend_space else 0.95  # inches reserved above the axes
    foot = _wrap_to_width(fig, source if note is None else f"{note} {source}", fontsize=9)
    bottom_in = 0.55 + 0.19 * foot.count("\n")
    fig.subplots_adjust(left=0.085, right=0.975, top=1 - top_in / height,
                        bottom=(bottom_in + 0.35) / height)
    head = fig.text(0.012, 1 - 0.12 / height, title, ha="left", va="top", fontsize=15,
                    fontweight="bold", color=INK)
    sub = fig.text(0.012, 1 - 0.48 / height, subtitle, ha="left", va="top", fontsize=12,
                   color=MUTED)
    for text, smallest in ((head, 11.5), (sub, 9.5)):
        _shrink_to_width(fig, text, smallest)
    fig.text(0.012, 0.1 / height, foot, ha="left", va="bottom", fontsize=9, color=MUTED,
             linespacing=1.3)
    return fig, ax


def _wrap_to_width(fig, text: str, fontsize: float, width: int = 135) -> str:
    """Wrap at ``width`` characters, or fewer if the lines are wider than the figure."""
    renderer = fig.canvas.get_renderer()
    room = fig.get_figwidth() * fig.dpi * (1 - 2 * 0.012)
    while True:
        wrapped = _wrap(text, width)
        probe = fig.text(0, 0, wrapped, fontsize=fontsize, linespacing=1.3)
        wide = probe.get_window_extent(renderer).width
        probe.remove()
        if wide <= room or width <= 60:
            return wrapped
        width -= 5


def _fit_inside(fig, texts) -> None:
    """Wrap any label that runs off the figure (long translations) onto more lines."""
    renderer = fig.canvas.get_renderer()
    width_px = fig.get_figwidth() * fig.dpi
    for text in texts:
        raw = text.get_text()
        width = len(raw)
        while width > 16:
            box = text.get_window_extent(renderer)
            if box.x0 >= 0.004 * width_px and box.x1 <= 0.996 * width_px:
                break
            width = int(width * 0.85)
            text.set_text(_wrap(raw, width))


def _t_source(source: str | None) -> str | None:
    """Translate a 'Source: A; B.' line citation by citation, so each has one table entry."""
    m = re.fullmatch(r"Sources?: (.+)\.", source or "", flags=re.S)
    if not m:
        return t(source)
    parts = m.group(1).split("; ")
    out = f"{t('Sources:' if len(parts) > 1 else 'Source:')} " + "; ".join(map(t, parts)) + "."
    return source if translate.current() == "en" else out


def _shrink_to_width(fig, text, smallest: float) -> None:
    """Reduce a heading's font size until it fits the figure width (longer translations)."""
    renderer = fig.canvas.get_renderer()
    room = fig.get_figwidth() * fig.dpi * (1 - 2 * 0.012)
    while text.get_window_extent(renderer).width > room and text.get_fontsize() > smallest:
        text.set_fontsize(text.get_fontsize() - 0.5)


def _fit_labels(fig, labels: Sequence[str], width: int = 42) -> list[str]:
    """Wrap long category labels and widen the left margin so none is cut off.

    The margin is measured from the labels as rendered at tick size, not guessed.
    """
    wrapped = [_wrap(str(label), width) for label in labels]
    renderer = fig.canvas.get_renderer()
    size = plt.rcParams["ytick.labelsize"]
    widest = max(fig.text(0, 0, label, fontsize=size).get_window_extent(renderer).width
                 for label in wrapped)
    for txt in fig.texts[-len(wrapped):]:
        txt.remove()
    margin = (widest + 0.25 * fig.dpi) / (fig.get_figwidth() * fig.dpi)
    fig.subplots_adjust(left=min(0.5, max(0.085, margin)))
    return wrapped


def _legend_above(ax, ncol: int | None = None) -> None:
    """Legend in a row above the plot (labels already translated by the chart functions)."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    room = fig.get_figwidth() * fig.dpi * (1 - 0.012)
    size = plt.rcParams["legend.fontsize"]
    one_row = ncol or min(len(labels), 5)
    # Longer labels (translations) first get a slightly smaller font, then a second row,
    # then a smaller font again: never a legend cut off at the edge.
    tries = [(one_row, size - 0.5 * k) for k in range(4)]
    if ncol is None and len(labels) > 2:
        tries += [(-(-len(labels) // 2), size - 0.5 * k) for k in range(1, 7)]
    else:
        tries += [(one_row, size - 0.5 * k) for k in range(4, 7)]
    for cols, fontsize in tries:
        leg = ax.legend(handles, labels, loc="lower left", bbox_to_anchor=(0, 1.01),
                        ncol=cols, handlelength=2.2, borderaxespad=0.2, columnspacing=1.4,
                        fontsize=fontsize)
        if leg.get_window_extent(renderer).x1 <= room:
            return


def percent_axis(ax, axis: str = "y") -> None:
    fmt = FuncFormatter(lambda v, _: localize(f"{v:g}%"))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def _luminance(rgb) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def text_color(color, minimum: float = 4.5) -> str:
    """``color`` darkened just enough for text on white to reach ``minimum`` contrast
    (4.5:1, WCAG 2.1 AA for normal text). Lines, bars and markers keep the series colour
    (3:1 suffices for graphics); labels written in a series colour use this."""
    from matplotlib.colors import to_hex, to_rgb

    rgb = to_rgb(color)
    while 1.05 / (_luminance(rgb) + 0.05) < minimum:
        rgb = tuple(c * 0.97 for c in rgb)
    return to_hex(rgb)


def contrast_ratio(foreground, background="white") -> float:
    """WCAG 2.1 contrast ratio of two colours (1 to 21)."""
    from matplotlib.colors import to_rgb

    a, b = sorted((_luminance(to_rgb(foreground)), _luminance(to_rgb(background))))
    return (b + 0.05) / (a + 0.05)


def check_text_contrast(fig, where: str, minimum: float = 4.5) -> None:
    """Refuse a figure with any text below ``minimum`` contrast on its background.

    The background of a text is its own box when it has a filled one, else the white of the
    figure (figures are always saved on white). Raises ValueError naming figure and text."""
    from matplotlib.colors import to_hex
    from matplotlib.text import Text

    low = []
    for text in fig.findobj(Text):
        if not (text.get_visible() and text.get_text().strip()):
            continue
        box = text.get_bbox_patch()
        background = box.get_facecolor() if box is not None and box.get_fill() else "white"
        ratio = contrast_ratio(text.get_color(), background)
        if ratio < minimum:
            low.append(f"{text.get_text()[:40]!r} in {to_hex(text.get_color())} on "
                       f"{to_hex(background)} ({ratio:.2f}:1)")
    if low:
        raise ValueError(f"{where}: text below {minimum}:1 contrast (WCAG 2.1 AA); darken it "
                         "with kgbook.figures.text_color(): " + "; ".join(sorted(set(low))))


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
    """The display label of a data key, in the current figure language."""
    if labels and key in labels:
        return t(labels[key])
    return t(COUNTRY_NAMES.get(key, SEX_LABELS.get(key, str(key))))


def _date(d, fmt: str) -> str:
    """strftime with month abbreviations in the current figure language."""
    return d.strftime(fmt.replace("%b", translate.month_name(d.month)))


def _axis_format(axis, fmt: str | None) -> None:
    if fmt:
        axis.set_major_formatter(StrMethodFormatter(fmt))


class _LocalFormatter(Formatter):
    """Wraps a tick formatter so numbers and months come out in the figure's language."""

    def __init__(self, inner: Formatter, lang: str):
        self.inner, self.lang = inner, lang

    def __call__(self, x, pos=None):
        return localize(self.inner(x, pos), self.lang)

    def format_ticks(self, values):
        return [localize(s, self.lang) for s in self.inner.format_ticks(values)]

    def get_offset(self):
        return localize(self.inner.get_offset(), self.lang)

    def set_axis(self, axis):
        super().set_axis(axis)
        self.inner.set_axis(axis)


def localize_ticks(fig) -> None:
    """Tick labels in the current figure language (decimal comma, Russian months)."""
    lang = translate.current()
    if lang == "en":
        return
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            fmt = axis.get_major_formatter()
            if not isinstance(fmt, _LocalFormatter):
                axis.set_major_formatter(_LocalFormatter(fmt, lang))


CHARTS: dict = {}


def chart(func):
    """Register a chart function and record each call on the figure it returns.

    The record (function, arguments and a copy of the data) lets :func:`save_figure` draw
    the same chart again in another language, through exactly the same code.
    """
    CHARTS[func.__name__] = func

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        def keep(v):
            return v.copy(deep=True) if isinstance(v, pd.DataFrame) else copy.deepcopy(v)

        call = (func.__name__, [keep(a) for a in args], {k: keep(v) for k, v in kwargs.items()})
        fig, ax = func(*args, **kwargs)
        localize_ticks(fig)
        fig._kgbook_call = call
        return fig, ax

    return wrapper


def redraw(fig, lang: str):
    """Draw the chart recorded on ``fig`` again, in ``lang``; returns (figure, labels used)."""
    call = getattr(fig, "_kgbook_call", None)
    if call is None:
        raise ValueError("this figure was not drawn by a kgbook chart function "
                         f"({', '.join(sorted(CHARTS))}), so it cannot be redrawn in another "
                         "language; draw it with one of them (add options there if needed)")
    name, args, kwargs = call
    new = None
    try:
        with translate.language(lang) as used:
            new, _ = CHARTS[name](*args, **kwargs)
            localize_ticks(new)
    except Exception:
        if new is not None:
            plt.close(new)
        raise
    return new, used


@chart
def line_chart(data: pd.DataFrame, *, x: str, y: str, group: str, title: str, subtitle: str,
               source: str, order: Sequence | None = None, labels: Mapping | None = None,
               colors: Mapping | None = None, markers: Mapping | None = None,
               percent: bool = False, ylim: tuple | None = None, note: str | None = None,
               breaks: Iterable[tuple] = (), thresholds: Iterable[tuple] = (),
               ylabel: str | None = None, end_labels: bool = False,
               axis_format: str | None = None, legend: bool = True,
               legend_ncol: int | None = None):
    """Lines over time, one per group, with optional vertical breaks and horizontal thresholds.

    ``breaks`` is a list of ``(x, text)`` marking a series break; ``thresholds`` a list of
    ``(y, text)`` reference levels. ``axis_format`` formats the value axis (e.g.
    ``"{x:,.0f}"``); ``legend=False`` drops the legend; ``legend_ncol`` sets its columns.
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
                        textcoords="offset points", va="center", fontsize=10.5,
                        color=text_color(color))
    for xb, text in breaks:
        ax.axvline(xb, color=MUTED, linestyle=":", linewidth=1.4, zorder=2)
        ax.annotate(t(text), (xb, 1), xycoords=("data", "axes fraction"), xytext=(4, -4),
                    textcoords="offset points", va="top", fontsize=10, color=MUTED)
    for yt, text in thresholds:
        ax.axhline(yt, color=INK, linestyle="--", linewidth=1.2, zorder=2)
        ax.annotate(t(text), (0, yt), xycoords=("axes fraction", "data"), xytext=(4, 4),
                    textcoords="offset points", fontsize=10, color=INK)
    if ylim:
        ax.set_ylim(*ylim)
    if percent:
        percent_axis(ax)
    if ylabel:
        ax.set_ylabel(t(ylabel))
    _axis_format(ax.yaxis, axis_format)
    if pd.api.types.is_integer_dtype(data[x]):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=10))
    if not end_labels and legend:
        _legend_above(ax, legend_ncol)
    return fig, ax


@chart
def bar_chart(data: pd.DataFrame, *, category: str, value: str, title: str, subtitle: str,
              source: str, labels: Mapping | None = None, colors: Mapping | str | None = None,
              highlight: str | None = None, horizontal: bool = True, sort: bool = True,
              value_format: str = "{:.1f}", references: Iterable[tuple] = (),
              percent: bool = False, note: str | None = None, xlim: tuple | None = None,
              axis_format: str | None = None):
    """Ranked bars with value labels; ``highlight`` gives one category the accent colour.

    ``references`` is a list of ``(value, text)`` reference lines across the bars;
    ``axis_format`` formats the value axis (e.g. ``"{x:,.0f}"``).
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
    ax.bar_label(bars, labels=[localize(value_format.format(v)) for v in vals], padding=3,
                 fontsize=10.5, color=INK)
    _axis_format(ax.xaxis if horizontal else ax.yaxis, axis_format)
    box = {"facecolor": "white", "edgecolor": "none", "alpha": 0.9, "pad": 1.5}
    for ref, text in references:
        text = t(text)
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


@chart
def stacked_bar_chart(data: pd.DataFrame, *, x: str, y: str, stack: str, title: str,
                      subtitle: str, source: str, order: Sequence | None = None,
                      labels: Mapping | None = None, colors: Mapping | None = None,
                      note: str | None = None, ylabel: str | None = None,
                      horizontal: bool = False, total_format: str | None = None,
                      ylim: tuple | None = None):
    """Bars split into stacked parts; ``order`` fixes the stacking order (bottom first).

    ``ylim`` sets the value axis limits.
    """
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
        for p, tot in zip(pos, base):
            if horizontal:
                ax.annotate(localize(total_format.format(tot)), (tot, p), xytext=(4, 0),
                            textcoords="offset points", va="center", fontsize=10.5)
            else:
                ax.annotate(localize(total_format.format(tot)), (p, tot), xytext=(0, 3),
                            textcoords="offset points", ha="center", fontsize=10)
    if horizontal:
        ax.grid(axis="x")
        ax.grid(axis="y", visible=False)
        ax.invert_yaxis()
    elif len(pos) > 12:
        for lab in ax.get_xticklabels():
            lab.set_rotation(90)
    if ylabel:
        (ax.set_xlabel if horizontal else ax.set_ylabel)(t(ylabel))
    if ylim:
        (ax.set_xlim if horizontal else ax.set_ylim)(*ylim)
    _legend_above(ax)
    return fig, ax


@chart
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
    notes = []
    for i, row in ev.iterrows():
        d = dates[i]
        text = f"{_date(d, date_format)}: {t(row[label])}"
        right = d <= mid
        notes.append(ax.annotate(text, (d, n - 1 - i), xytext=(8 if right else -8, 0),
                                 textcoords="offset points", ha="left" if right else "right",
                                 va="center", fontsize=10.5, color=INK))
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
    _fit_inside(fig, notes)
    if group:
        _legend_above(ax)
    return fig, ax


@chart
def dumbbell_chart(data: pd.DataFrame, *, category: str, start: str, end: str, title: str,
                   subtitle: str, source: str, start_label: str, end_label: str,
                   note: str | None = None, value_format: str = "{:.1f}",
                   percent: bool = False, start_color: str = "#5a5a5a",
                   end_color: str = "#D55E00", missing_text: str = "no series"):
    """Two values per row joined by a line (e.g. a published claim against a series).

    A missing ``end`` value is drawn as the start value alone, labelled ``missing_text``.
    """
    df = data.reset_index(drop=True)
    start_label, end_label, missing_text = t(start_label), t(end_label), t(missing_text)
    n = len(df)
    cats = [_wrap(t(str(c)), 34) for c in df[category]]
    lines = max(c.count("\n") + 1 for c in cats)
    height = max(FIGSIZE[1], 2.6 + n * max(0.55, 0.19 * lines + 0.12))
    fig, ax = new_figure(title, subtitle, source, note=note, height=height)
    ys = list(range(n - 1, -1, -1))
    for yv, (_, row) in zip(ys, df.iterrows()):
        a, b = row[start], row[end]
        if pd.notna(b):
            ax.plot([a, b], [yv, yv], color="#9a9a9a", linewidth=2, zorder=2)
            ax.annotate(localize(value_format.format(b)), (b, yv), xytext=(0, 8),
                        textcoords="offset points", ha="center", fontsize=10,
                        color=text_color(end_color))
        else:
            ax.annotate(missing_text, (a, yv), xytext=(10, 0), textcoords="offset points",
                        va="center", fontsize=10, color=MUTED, style="italic")
        ax.annotate(localize(value_format.format(a)), (a, yv), xytext=(0, -15),
                    textcoords="offset points", ha="center", fontsize=10, color=start_color)
    ax.scatter(df[start], ys, s=70, color=start_color, zorder=3, label=start_label,
               marker="s")
    ok = df[end].notna().to_numpy()
    ax.scatter(df[end][ok], [y for y, k in zip(ys, ok) if k], s=70, color=end_color,
               zorder=4, label=end_label)
    ax.set_yticks(ys)
    ax.set_yticklabels(cats, fontsize=10.5)
    ax.set_ylim(-0.8, n - 0.2)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x")
    if percent:
        percent_axis(ax, "x")
    ax.margins(x=0.08)
    renderer = fig.canvas.get_renderer()
    widest = max(lab.get_window_extent(renderer).width for lab in ax.get_yticklabels())
    margin = (widest + 0.25 * fig.dpi) / (fig.get_figwidth() * fig.dpi)
    fig.subplots_adjust(left=min(0.5, max(0.3, margin)))
    _legend_above(ax, ncol=2)
    return fig, ax


def save_figure(fig, figure_id: str, *, unit: str | None = None,
                directory: Path | None = None) -> None:
    """Write the figure's bundle, ``figures/<figure_id>/``, in English and Russian.

    PNG (300 dpi), SVG, PDF and a 1920 x 1080 slide in each language, the data slice as CSV
    and a metadata JSON with the citation (see :mod:`kgbook.bundles`). Byte-reproducible: no
    timestamps, software versions or random ids. ``unit`` names the unit of the values when
    the data package does not give it. Returns nothing, so that the figure stays the cell's
    only output (myst-nb wraps every output of a figure cell in the figure).
    """
    if not FIGURE_ID.match(figure_id):
        raise ValueError(f"figure id {figure_id!r} must look like 'fig-some-name' "
                         "(lowercase letters, digits and hyphens)")
    from .bundles import write_bundle
    write_bundle(fig, figure_id, unit=unit, directory=directory)


@chart
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
        cats = [_wrap(t(str(c)), label_width) for c in part[category]]
        ys = list(range(len(part)))
        for y, (_, row) in zip(ys, part.iterrows(), strict=True):
            k = row[kind] if kind else None
            ax.barh(y, row[value], height=0.62, zorder=3,
                    color=styles.get(k, COUNTRY_COLORS["KGZ"]),
                    hatch=(hatches or {}).get(k), edgecolor="white", linewidth=0.6)
            label = t(row[text]) if text else localize(value_format.format(row[value]))
            ax.annotate(label, (row[value], y), xytext=(4, 0), textcoords="offset points",
                        va="center", fontsize=10.5, color=INK)
        ax.set_yticks(ys)
        ax.set_yticklabels(cats, fontsize=10.5)
        ax.set_ylim(len(part) - 0.5, -0.5)
        ax.set_xlim(0, part[value].max() * 1.3)
        ax.grid(axis="y", visible=False)
        ax.grid(axis="x")
        ax.set_title(t(str(name)), loc="left", fontsize=11.5, fontweight="bold", color=INK, pad=4)
        axes.append(ax)
    if kind:
        from matplotlib.patches import Patch
        handles = [Patch(facecolor=styles[k], hatch=(hatches or {}).get(k), edgecolor="white",
                         label=t(str(k))) for k in kinds]
        fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.012, 1 - 0.72 / height),
                   ncol=min(len(kinds), 3), frameon=False, handlelength=1.6, columnspacing=1.2)
    return fig, axes
