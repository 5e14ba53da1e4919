"""Cells of the CSV files the program writes, safe to open in a spreadsheet.

A cell that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) is
taken by Excel, WPS and LibreOffice for a formula, which could fetch or run something when
the file is opened (CSV injection). Every CSV writer (the deadline reports, the statistics,
the intake error report) passes its cells through :func:`csv_cell`: such text gets a
leading ``'``, which spreadsheets show as text. Numbers are left alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """``value`` as a CSV cell a spreadsheet shows as text: never run as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    """A row of :func:`csv_cell`."""
    return [csv_cell(v) for v in values]
