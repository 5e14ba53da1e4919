"""Personal data: resident ID numbers (GB 11643-1999) and masking (domain.md §6).

ID numbers and phone numbers are shown masked by default (110105********1234,
138****5678) and never written to logs.
"""

from __future__ import annotations

from datetime import date

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
