"""The base of the API's result dataclasses: built from the engine's dictionaries, and
back to plain data for JSON."""

from __future__ import annotations

import dataclasses
from typing import Any, Self


class _Result:
    @classmethod
    def of(cls, data: dict[str, Any]) -> Self:
        """Build from the engine's dictionary (its keys are the fields)."""
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in data.items() if k in names})

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]
