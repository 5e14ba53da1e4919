"""Rendering results for the terminal: aligned text for people, JSON for programs.

Library code returns data; only the CLI prints, through these helpers.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from mediation.domain.clock import BUSINESS_TZ


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(BUSINESS_TZ).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "__dataclass_fields__"):
        return {k: getattr(value, k) for k in value.__dataclass_fields__ if not k.startswith("_")}
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


def to_json(data: Any) -> str:
    """JSON with dates in ISO 8601 (business time zone) and Chinese kept readable."""
    return json.dumps(data, ensure_ascii=False, indent=2, default=_default)


def when(value: datetime | date | None) -> str:
    """A timestamp as a mediator reads it: business time, to the minute."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def width(text: str) -> int:
    """Display width in a terminal: CJK characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, cols: int) -> str:
    return text + " " * max(cols - width(text), 0)


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """A plain, aligned text table."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(width(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def fields(pairs: Sequence[tuple[str, Any]]) -> str:
    """Label: value lines with the labels aligned."""
    cols = max((width(k) for k, _ in pairs), default=0)
    return "\n".join(f"{pad(k, cols)}  {'' if v is None else v}" for k, v in pairs)
