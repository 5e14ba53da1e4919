"""Reading a JSON or TOML file into a dict, with problems reported as a ValidationError.

Pure and small on purpose: intake records (:mod:`mediation.domain.intake`) and year
calendars (:mod:`mediation.domain.calendar`) both read their files with it.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from mediation.errors import FieldProblem, ValidationError


def read_file(path: Path) -> dict[str, Any]:
    """Parse a JSON or TOML file (by its suffix) whose top level is an object.

    :raises ValidationError: when it cannot be read or parsed.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problem = FieldProblem(str(path), f"无法读取：{exc.strerror}", "check the path")
        raise ValidationError([problem], source=str(path)) from exc
    try:
        if path.suffix.lower() == ".toml":
            data = tomllib.loads(raw.decode("utf-8-sig"))  # a BOM, as Notepad saves it
        else:
            data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, tomllib.TOMLDecodeError, RecursionError) as exc:
        # ValueError: JSON syntax, or an integer too long to read; RecursionError: nesting.
        kind = "TOML" if path.suffix.lower() == ".toml" else "JSON"
        why = "嵌套过深" if isinstance(exc, RecursionError) else str(exc)[:200]
        problem = FieldProblem(
            "(file)", f"不是有效的 UTF-8 {kind}：{why}", f"fix the {kind} syntax"
        )
        raise ValidationError([problem], source=str(path)) from None
    if not isinstance(data, dict):
        problem = FieldProblem("(file)", "顶层应为对象/表", "see data/examples/intake.toml")
        raise ValidationError([problem], source=str(path))
    return data
