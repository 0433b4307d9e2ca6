"""Shared code for the book: load validated tables, draw figures in one style, glue values.

Chapters import from here, so no loading or plotting code is repeated in notebooks.
"""

from .book import date_text, glue, markdown_table, receipt, show_table
from .data import (
    DataError,
    files_read,
    load_table,
    package,
    resource,
    source_note,
    table_path,
    units,
)
from .figures import (
    COUNTRY_NAMES,
    bar_chart,
    dumbbell_chart,
    line_chart,
    new_figure,
    panel_bar_chart,
    save_figure,
    stacked_bar_chart,
    timeline_chart,
)

__all__ = [
    "COUNTRY_NAMES", "DataError", "files_read", "date_text", "bar_chart", "dumbbell_chart", "glue",
    "line_chart",
    "load_table", "markdown_table", "receipt", "new_figure", "package", "panel_bar_chart",
    "resource", "save_figure",
    "show_table", "source_note", "stacked_bar_chart", "table_path", "timeline_chart", "units",
]
