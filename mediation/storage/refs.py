"""Finding a case by what users call it: its case number or its internal id.

Kept apart from the engine so that read-only commands do not load it.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, bindparam, or_, select

from mediation.errors import NotFoundError
from mediation.i18n import _
from mediation.storage._sql import Prepared
from mediation.storage._tables import proceeding_table

#: The brackets people type around a case number's year, for the full-width ones the
#: number is issued with (domain.md §5: （2026）X人调字第N号).
_BRACKETS = str.maketrans(
    {
        "(": "（",
        ")": "）",
        "〔": "（",
        "〕": "）",
        "[": "（",
        "]": "）",
        "［": "（",
        "］": "）",
        "【": "（",
        "】": "）",
        "﹝": "（",
        "﹞": "）",
        **{chr(0xFF10 + d): str(d) for d in range(10)},  # full-width digits
    }
)
_SERIAL = re.compile(r"第0*(\d+)号$")
_SPACES = re.compile(r"\s+")


def canonical_case_number(text: str) -> str:
    """``text`` written as case numbers are issued: full-width parentheses around the
    year, ASCII digits, no spaces, no leading zeros in the serial. ``(2026)桥头人调字第01号``,
    ``〔2026〕桥头人调字第1号`` and ``（2026）桥头人调字第1号`` are the same case."""
    text = _SPACES.sub("", text).translate(_BRACKETS)
    return _SERIAL.sub(r"第\1号", text)


_CASE = select(proceeding_table.c.id, proceeding_table.c.version)
#: A case by id, or by number (every command on one case starts with one of these).
_BY_ID = Prepared(_CASE.where(proceeding_table.c.id == bindparam("id")))
_BY_NUMBER = Prepared(
    _CASE.where(
        or_(
            proceeding_table.c.case_number == bindparam("given"),
            proceeding_table.c.case_number == bindparam("canonical"),
        )
    )
)


def resolve(conn: Connection, ref: str | int) -> tuple[int, int]:
    """(proceeding id, version) of a case given by case number (however its brackets and
    serial are typed: :func:`canonical_case_number`) or internal id.

    :raises NotFoundError: naming what was looked for.
    """
    ref_text = str(ref).strip()
    if ref_text.isascii() and ref_text.isdigit() and len(ref_text) <= 15:
        row = _BY_ID(conn, {"id": int(ref_text)}).first()
    else:
        # The number as given, and as case numbers are issued: a committee code is
        # matched as it was registered.
        given = {"given": ref_text, "canonical": canonical_case_number(ref_text)}
        row = _BY_NUMBER(conn, given).first()
    if row is None:
        hidden = (
            "；PostgreSQL 上，不属于您的调委会、也未指派给您的案件，对您的数据库登录不可见"
            "（行级安全）"
            if conn.dialect.name == "postgresql"
            else ""
        )
        raise NotFoundError(
            _("没有案件 {ref}").format(ref=repr(ref_text)),
            hint=_("请给出案号，如（2026）城关人调字第1号，或 `mediation case list` 中的 id")
            + hidden,
        )
    return row.id, row.version
