"""Reading a JSON or TOML file into a dict, with problems reported as a ValidationError.

Pure and small on purpose: intake records (:mod:`mediation.domain.intake`) and year
calendars (:mod:`mediation.domain.calendar`) both read their files with it, and the bulk
import (:mod:`mediation.engine.imports`) decodes its text with :func:`decode_text`.

**Encodings.** Files are UTF-8 (with or without the BOM Notepad and Excel write). Excel on
Chinese Windows saves "CSV" and "Unicode text" in the ANSI code page (GBK, code page 936)
or UTF-16, and Notepad used to as well; such files are read too. Anything else is refused
with the advice to save the file as UTF-8, never with a codec error.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from mediation.errors import FieldProblem, ValidationError
from mediation.i18n import _, os_error

MiB = 1024 * 1024
#: The largest intake record, trigger data or calendar file read (one case's worth of text
#: is a few kilobytes).
MAX_DATA_FILE_BYTES = 10 * MiB
#: The largest bulk import (``mediation intake import``, CSV or JSON): ~100,000 rows.
MAX_IMPORT_FILE_BYTES = 50 * MiB


def read_bounded(path: Path, limit: int) -> bytes:
    """The bytes of ``path``, refused before reading (and parsing) when larger than
    ``limit``; a device or pipe that keeps giving is cut off at ``limit`` too.

    :raises ValidationError: when it cannot be read, or is too large.
    """
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            raw = f.read(limit + 1) if size <= limit else b""
    except OSError as exc:
        problem = FieldProblem(str(path), f"无法读取：{os_error(exc)}", _("请检查路径"))
        raise ValidationError([problem], source=str(path)) from exc
    if size > limit or len(raw) > limit:
        shown = f"{size / MiB:.1f} MiB" if size > limit else f"超过 {limit // MiB} MiB"
        problem = FieldProblem(
            str(path),
            f"文件过大（{shown}，上限 {limit // MiB} MiB），未读取",
            "请检查是否选错了文件；大批量数据请拆分为多个文件",
        )
        raise ValidationError([problem], source=str(path))
    return raw


#: What to do about a file in an encoding that cannot be read.
SAVE_AS_UTF8 = (
    "请另存为 UTF-8（Excel：文件 → 另存为 → “CSV UTF-8（逗号分隔）”；记事本：编码选 UTF-8）"
)


def decode_text(raw: bytes, *, source: str) -> str:
    """The text of a file saved as UTF-8 (a BOM is dropped), UTF-16 with a BOM, or GBK /
    GB18030 (what Excel and Notepad save on Chinese Windows).

    A file that is none of these (a GB18030 reading that lands in the private-use area is
    taken for a wrong guess: Big5, say, or a binary file) is refused.

    :raises ValidationError: naming the file, with :data:`SAVE_AS_UTF8` as the fix.
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")  # the codec reads the BOM and drops it
        except UnicodeDecodeError:
            pass
    else:
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            pass
        else:
            if "\x00" not in text and not any("\ue000" <= c <= "\uf8ff" for c in text):
                return text
    problem = FieldProblem(
        "(file)", "文件编码无法识别（不是 UTF-8，也不是 GBK/GB18030）", SAVE_AS_UTF8
    )
    raise ValidationError([problem], source=source)


def read_file(path: Path, *, limit: int = MAX_DATA_FILE_BYTES) -> dict[str, Any]:
    """Parse a JSON or TOML file (by its suffix) whose top level is an object; a file
    larger than ``limit`` bytes is refused before it is read.

    :raises ValidationError: when it cannot be read or parsed, or is too large.
    """
    raw = read_bounded(path, limit)
    text = decode_text(raw, source=str(path))
    import tomllib  # here: ~2 ms of every command's start-up otherwise

    try:
        if path.suffix.lower() == ".toml":
            data = tomllib.loads(text)
        else:
            data = json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError, RecursionError) as exc:
        # ValueError: JSON syntax, or an integer too long to read; RecursionError: nesting.
        kind = "TOML" if path.suffix.lower() == ".toml" else "JSON"
        why = "嵌套过深" if isinstance(exc, RecursionError) else str(exc)[:200]
        problem = FieldProblem(
            "（文件）", f"不是有效的 {kind}：{why}", _("请改正 {kind} 语法").format(kind=kind)
        )
        raise ValidationError([problem], source=str(path)) from None
    if not isinstance(data, dict):
        problem = FieldProblem("（文件）", "顶层应为对象/表", _("参见 data/examples/intake.toml"))
        raise ValidationError([problem], source=str(path))
    return data
