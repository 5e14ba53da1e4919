"""WeasyPrint is loaded without running the C compiler (mediation.documents._weasy).

A ``gcc`` and an ``ld`` that only leave a mark stand first on ``PATH``: the standard
library's ``find_library`` would run them for every spelling of a library name the loader's
cache lacks (WeasyPrint tries the Windows and macOS ones first).
"""

from __future__ import annotations

import ctypes.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mediation.documents import _weasy

ROOT = Path(__file__).resolve().parents[2]
#: The libraries WeasyPrint loads, by the names it finds them under here, and names no
#: system has.
NAMES = ["gobject-2.0", "pango-1.0", "harfbuzz", "fontconfig", "pangoft2-1.0", "c"]
MISSING = ["libgobject-2.0-0", "gobject-2.0-0", "harfbuzz-vector", "libfoo-1.0.dll"]

on_glibc = pytest.mark.skipif(
    _weasy._loader_cache() is None, reason="no glibc loader cache on this machine"
)


@on_glibc
def test_the_lookup_finds_what_the_standard_library_finds() -> None:
    find = _weasy._loader_cache()
    assert find is not None
    for name in NAMES + MISSING:
        assert find(name) == ctypes.util.find_library(name), name
    assert find("gobject-2.0") == "libgobject-2.0.so.0"


@on_glibc
def test_loading_weasyprint_runs_no_compiler(tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("gcc", "cc", "ld"):
        script = tools / tool
        script.write_text(f'#!/bin/sh\necho {tool} >> "{marks}"\nexit 1\n')
        script.chmod(0o755)
    env = {**os.environ, "PATH": f"{tools}:{os.environ['PATH']}", "PYTHONPATH": str(ROOT)}
    code = (
        "import ctypes.util\n"
        "before = ctypes.util.find_library\n"
        "import mediation.documents._weasy\n"
        "assert ctypes.util.find_library is before, 'find_library was not put back'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert not marks.exists(), marks.read_text()
