"""Errors the library raises, each mapped to one documented CLI exit code.

Every error carries a message that says what is wrong and a hint that says how to fix it.
"""

from __future__ import annotations

from enum import IntEnum

from mediation.i18n import _


class ExitCode(IntEnum):
    """Exit codes of the ``mediation`` command (documented in docs/reference/exit-codes.md)."""

    OK = 0  #: success (for reports: nothing to report)
    ERROR = 1  #: unexpected failure
    USAGE = 2  #: wrong command-line usage
    INVALID_INPUT = 3  #: an intake or data file failed validation; nothing was written
    NOT_FOUND = 4  #: no such case, dispute, organisation or flow
    NOT_ALLOWED = 5  #: the trigger is not allowed in the case's state, or a guard failed
    CONFLICT = 6  #: another user changed the case at the same moment; nothing was written
    SCHEMA = 7  #: the database is missing or its schema is out of date
    FOUND_OVERDUE = 8  #: ``report overdue --fail-if-any`` found overdue deadlines
    PERMISSION = 9  #: the acting user lacks the role the command needs
    TAMPERED = 10  #: ``audit verify`` or ``doc verify`` found a change, deletion or bad signature


class MediationError(Exception):
    """Base class: ``message`` says what is wrong, ``hint`` how to fix it."""

    exit_code = ExitCode.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  → {self.hint}"


class UsageError(MediationError):
    exit_code = ExitCode.USAGE


class FieldProblem:
    """One problem with one field of an input file."""

    __slots__ = ("field", "fix", "problem")

    def __init__(self, field: str, problem: str, fix: str) -> None:
        self.field, self.problem, self.fix = field, problem, fix

    def __str__(self) -> str:
        return f"{self.field}: {self.problem}（{self.fix}）"


class ValidationError(MediationError):
    """Input failed validation; ``problems`` names each field and its fix."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, problems: list[FieldProblem], *, source: str = "输入") -> None:
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"{source} 有 {len(problems)} 处错误，未写入任何数据:\n{lines}",
            hint=_("改正上面列出的字段后重新运行命令"),
        )
        self.problems = problems


class NotFoundError(MediationError):
    exit_code = ExitCode.NOT_FOUND


class TransitionNotAllowed(MediationError):
    """The trigger is not valid now, or a guard refused it."""

    exit_code = ExitCode.NOT_ALLOWED


class ConflictError(MediationError):
    """Another transaction changed the case between reading and writing it."""

    exit_code = ExitCode.CONFLICT


class PermissionDenied(MediationError):
    """The acting user may not do this (wrong role, or another organisation's case)."""

    exit_code = ExitCode.PERMISSION


class TamperedError(MediationError):
    """A record or a signed document is not what was written."""

    exit_code = ExitCode.TAMPERED


class SchemaError(MediationError):
    exit_code = ExitCode.SCHEMA


class FlowDefinitionError(MediationError):
    """A flow module fails validation when loaded."""
