"""Command-line values converted without pydantic.

typer (0.29, pinned) builds a pydantic ``TypeAdapter`` for every parameter of the command
being run, which imports pydantic (~0.1 s) on every invocation. The command's parameters
are all plain: ``str``, ``int`` (with ``min``/``max``), ``bool``, ``Path``, those or
``None``, and ``list[str]``. :func:`install` converts those directly, with messages in
Chinese, and leaves any other annotation to typer.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

_PLAIN = (str, int, bool, Path)


def _plain(annotation: Any) -> tuple[type, bool] | None:
    """(the type, whether it is a list) for an annotation this module converts."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) != 1:
            return None
        annotation = args[0]
    if get_origin(annotation) is list:
        (inner,) = get_args(annotation) or (None,)
        return (inner, True) if inner in _PLAIN else None
    return (annotation, False) if annotation in _PLAIN else None


def install() -> None:
    """Replace typer's runtime coercion for plain annotations (idempotent)."""
    from typer import _coercion, core
    from typer._click.exceptions import BadParameter

    if getattr(_coercion, "_mediation_fast", False):
        return
    original = _coercion.build_runtime_param

    class PlainRuntimeParam(_coercion.RuntimeParam):
        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            kind, is_list = _plain(self.annotation)  # type: ignore[misc]
            if is_list:
                return [self._one(kind, v, param, ctx) for v in value]
            return self._one(kind, value, param, ctx)

        def _one(self, kind: type, value: Any, param: Any, ctx: Any) -> Any:
            if kind is bool or (isinstance(value, kind) and kind is not int):
                return value
            if kind is int:
                if isinstance(value, bool):
                    raise BadParameter(f"{value!r} 不是整数", ctx=ctx, param=param)
                try:
                    number = value if isinstance(value, int) else int(str(value).strip())
                except ValueError:
                    raise BadParameter(f"{value!r} 不是整数", ctx=ctx, param=param) from None
                low, high = self.parameter_info.min, self.parameter_info.max
                if low is not None and number < low:
                    raise BadParameter(f"应不小于 {low}（给出的是 {number}）", ctx=ctx, param=param)
                if high is not None and number > high:
                    raise BadParameter(
                        f"应不大于 {high}（给出的是 {number}）", ctx=ctx, param=param
                    )
                return number
            return kind(value)

    def build_runtime_param(descriptor: Any) -> Any:
        if descriptor.file_annotation is None and _plain(descriptor.annotation) is not None:
            return PlainRuntimeParam(
                annotation=descriptor.annotation, parameter_info=descriptor.parameter_info
            )
        return original(descriptor)

    _coercion.build_runtime_param = build_runtime_param
    core.build_runtime_param = build_runtime_param  # imported by name there
    _coercion._mediation_fast = True  # type: ignore[attr-defined]
