"""Personal data: resident ID numbers (GB 11643-1999) and masking (domain.md §6).

ID numbers and phone numbers are shown masked by default (110105********1234,
138****5678) and never written to logs.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from mediation.i18n import _

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def resident_id_problem(number: str) -> str | None:
    """Why ``number`` is not a valid 18-character resident ID number, or None."""
    if len(number) != 18:
        return f"应为18位，实为{len(number)}位"
    body, last = number[:17], number[17].upper()
    if not (body.isascii() and body.isdigit()) or last not in "0123456789X":
        return "前17位应为数字，最后一位为数字或X"
    try:
        birth = date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
    except ValueError:
        return f"出生日期 {body[6:14]} 不是有效日期"
    if birth.year < 1900:
        return f"出生日期 {birth} 不合理"
    expected = check_digit(body)
    if last != expected:
        return f"校验码应为 {expected}，实为 {last}（GB 11643 校验失败，请核对号码）"
    return None


def birth_date_of(number: str) -> date:
    """The birth date encoded in a valid resident ID number."""
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def mask_id(number: str | None) -> str:
    """110105********1234 style: keep the first 6 and last 4 characters."""
    if not number:
        return ""
    if len(number) <= 10:
        return number[:2] + "*" * max(len(number) - 2, 0)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(phone: str | None) -> str:
    """138****5678 style: keep the first 3 and last 4 digits."""
    if not phone:
        return ""
    if len(phone) <= 7:
        return phone[:1] + "*" * (len(phone) - 1)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_address(address: str | None) -> str:
    """Keep the region (the first six characters, or three of a short address); mask the
    rest with at most six asterisks."""
    if not address:
        return ""
    keep = 6 if len(address) > 9 else min(3, len(address) - 1)
    return address[:keep] + "*" * min(len(address) - keep, 6)


# ID numbers (18 characters, the last a digit or X) and mobile numbers, wherever they
# stand in a text: Chinese characters count as word characters, so no \b here.
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_PHONE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def mask_text(text: str) -> str:
    """``text`` with every ID number and mobile number in it masked."""
    text = _ID_IN_TEXT.sub(lambda m: mask_id(m.group()), text)
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group()), text)


class MaskingFilter(logging.Filter):
    """A logging filter that masks ID and mobile numbers in every record it passes: the
    second line of defence behind never logging them (and SQLAlchemy's hidden
    parameters)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[1] is not None:
            import traceback

            record.exc_text = mask_text("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None
        return True


def configure_logging(level: str) -> None:
    """Log to stderr at ``level`` (debug, info, warning, error), personal data masked."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        from mediation.errors import UsageError

        raise UsageError(
            _("没有日志级别 {level}").format(level=repr(level)),
            hint=_("请用 debug、info、warning 或 error"),
        )
    handler = logging.StreamHandler()
    handler.addFilter(MaskingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # SQL statements at debug; their parameters are hidden by the engine (hide_parameters).
    # Never below INFO: at DEBUG SQLAlchemy logs result rows (names, addresses, birth dates).
    logging.getLogger("sqlalchemy.engine").setLevel(max(numeric, logging.INFO))


def person_key(id_number: str | None, name: str, phone: str | None) -> str:
    """Who a party is, for repeat detection: the ID number, or else name and phone."""
    return id_number or f"{name}/{phone or ''}"


def party_key(parties: Iterable[Any], secret: bytes) -> str:
    """The dispute's parties as the statistics' ``repeats`` (mediation.reporting.stats)
    compare them: the size of the set of :func:`person_key` and its least and greatest
    member (exact for the two-party disputes that make up nearly all of them), as a
    32-digit HMAC-SHA256 under the installation's ``secret``
    (:func:`mediation.storage.secret.installation_secret`).

    Keyed, because the members are ID numbers: an unsalted digest of them was reversed by
    trying the 10^8-ish numbers a masked ID (110105********1234) leaves open. Without the
    secret the key says nothing; it is shown nowhere all the same. Stored on the dispute
    when it is registered (``dispute.party_key``), so repeats are found by index; parties
    are only ever added with their dispute, and a correction of their particulars
    (mediation.engine.parties) stores it again."""
    persons = [person_key(p.id_number, p.name, p.phone) for p in parties]
    text = "\x1f".join((str(len(persons)), min(persons), max(persons)))
    return hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()[:32]
