"""Spreadsheet files the program writes and reads: CSV cells safe to open in a
spreadsheet, Excel workbooks (``.xlsx``) written and read.

A cell that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) is
taken by Excel, WPS and LibreOffice for a formula, which could fetch or run something when
the file is opened (CSV injection). Every CSV writer (the deadline reports, the statistics,
the intake error report) passes its cells through :func:`csv_cell`: such text gets a
leading ``'``, which spreadsheets show as text. Numbers are left alone. CSV files are
written in UTF-8 with a BOM (:data:`CSV_ENCODING`): without it Excel on Chinese Windows
reads them as GBK and shows every Chinese character garbled.

In a workbook (:func:`xlsx_bytes`) every text cell is stored as text, never as a formula,
and text that a person typing it would have to start with ``'`` carries Excel's "quote
prefix" (the same thing, without a visible quote). Reading (:func:`xlsx_rows`) looks at
the unpacked size before parsing anything, so a small file that unpacks to gigabytes is
refused, and gives cell values only (a formula's last computed value, never its text).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time
from typing import Any

from mediation.errors import FieldProblem, ValidationError

#: How the program writes CSV: UTF-8 with a BOM, which Excel needs to see UTF-8.
CSV_ENCODING = "utf-8-sig"

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """``value`` as a CSV cell a spreadsheet shows as text: never run as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    """A row of :func:`csv_cell`."""
    return [csv_cell(v) for v in values]


def csv_bytes(text: str) -> bytes:
    """CSV text as the bytes of a file Excel opens correctly (:data:`CSV_ENCODING`)."""
    return text.encode(CSV_ENCODING)


#: The most a workbook read may unpack to (its XML is several times its CSV's size).
MAX_XLSX_UNPACKED_BYTES = 400 * 1024 * 1024


def xlsx_bytes(
    rows: Iterable[Sequence[Any]], *, sheet: str, widths: Sequence[int] | None = None
) -> bytes:
    """A one-sheet workbook: the first row is the header (bold, frozen), dates are shown
    as YYYY-MM-DD, and no text is ever a formula.

    :param sheet: the sheet's name (at most 31 characters, as Excel allows).
    :param widths: column widths in characters (a CJK character counts two).
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet[:31])
    ws.freeze_panes = "A2"
    for i, w in enumerate(widths or (), 1):
        ws.column_dimensions[get_column_letter(i)].width = w
    bold = Font(bold=True)
    for n, values in enumerate(rows):
        cells = []
        for value in values:
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # openpyxl takes "=..." for a formula otherwise
                if value.startswith(_FORMULA_STARTS):
                    cell.quotePrefix = True
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            if n == 0:
                cell.font = bold
            cells.append(cell)
        ws.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def looks_like_xlsx(raw: bytes) -> bool:
    """Whether ``raw`` is a ZIP archive (an ``.xlsx`` is one), whatever the file's name."""
    return raw.startswith(b"PK\x03\x04")


def looks_like_xls(raw: bytes) -> bool:
    """Whether ``raw`` is an old binary Excel workbook (``.xls``, an OLE2 compound file)."""
    return raw.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")


def xlsx_rows(raw: bytes, *, source: str) -> Iterator[list[str]]:
    """The rows of a workbook's first sheet as text (numbers without a trailing ``.0``,
    dates and times in ISO 8601, empty cells as ``""``); rows with nothing in them are
    yielded as empty lists, so that row numbers stay those Excel shows.

    :raises ValidationError: when it is not a workbook, or unpacks to more than
        :data:`MAX_XLSX_UNPACKED_BYTES`.
    """
    from openpyxl import load_workbook

    def refused(problem: str, fix: str) -> ValidationError:
        return ValidationError([FieldProblem("(file)", problem, fix)], source=source)

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise refused(
            f"不是有效的 Excel 工作簿：{str(exc)[:100]}", "请在 Excel 中另存为 .xlsx 或 CSV UTF-8"
        ) from None
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise refused(
            f"工作簿解压后过大（{unpacked // (1024 * 1024)} MiB，"
            f"上限 {MAX_XLSX_UNPACKED_BYTES // (1024 * 1024)} MiB），未读取",
            "请检查是否选错了文件；大批量数据请拆分为多个文件",
        )
    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises KeyError, ValueError, XML errors ...
        raise refused(
            f"不是有效的 Excel 工作簿：{type(exc).__name__}",
            "请在 Excel 中另存为 .xlsx 或 CSV UTF-8",
        ) from None
    try:
        ws = book.worksheets[0] if book.worksheets else None
        if ws is None:
            return
        for values in ws.iter_rows(values_only=True):
            cells = [_cell_text(v) for v in values]
            while cells and cells[-1] == "":
                cells.pop()
            yield cells
    finally:
        book.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone number typed as a number: 13812345678.0
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()  # a date cell: Excel stores dates as datetimes
        return value.isoformat(timespec="seconds")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value).strip()
