"""WeasyPrint's names, imported with its native libraries found without the C compiler.

WeasyPrint loads GObject, Pango, HarfBuzz, fontconfig and the rest through ``cffi``, trying
up to six spellings of each name (those of Windows and macOS first). For every spelling the
dynamic loader does not take as it is, ``cffi`` asks :func:`ctypes.util.find_library`,
which on Linux reads ``ldconfig -p`` and, when the name is not there, runs ``gcc`` and
``ld`` to look for it: 86 processes and ~0.2 s before a command's first PDF (each
``doc`` command, each worker of ``doc render-all -j``).

Where the loader has its cache (glibc's ``/etc/ld.so.cache``) and no ``LD_LIBRARY_PATH``,
the compiler can find nothing ``cffi`` could load: it hands the name found to ``dlopen``,
which looks only in that cache and the loader's own folders. So while WeasyPrint loads,
``find_library`` answers from the cache alone (the standard library's first step, on one
reading of ``ldconfig -p``); anywhere else it is left as it is.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: ``ldconfig -p``'s name for this process's kind of library (as :mod:`ctypes.util` has it).
_ABI = {
    "x86_64-64": "libc6,x86-64",
    "ppc64-64": "libc6,64bit",
    "sparc64-64": "libc6,64bit",
    "s390x-64": "libc6,64bit",
    "ia64-64": "libc6,IA-64",
}


def _loader_cache() -> Callable[[str], str | None] | None:
    """:func:`ctypes.util.find_library`'s first step, on ``ldconfig -p`` read once: a
    name's soname in the loader's cache (None if it is not there); None where there is
    no such cache, or ``LD_LIBRARY_PATH`` adds folders to it."""
    if sys.platform != "linux" or os.environ.get("LD_LIBRARY_PATH"):
        return None
    if not os.path.exists("/etc/ld.so.cache"):
        return None
    try:
        listing = subprocess.run(
            ["/sbin/ldconfig", "-p"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={"LC_ALL": "C", "LANG": "C"},
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    machine = os.uname().machine + ("-64" if sys.maxsize > 2**32 else "-32")
    abi = _ABI.get(machine, "libc6").encode()

    def find(name: str) -> str | None:
        pattern = rb"\s+(lib%s\.[^\s]+)\s+\(%s" % (re.escape(os.fsencode(name)), abi)
        found = re.search(pattern, listing)
        return os.fsdecode(found.group(1)) if found else None

    return find


@contextmanager
def _found_in_the_loader_cache() -> Iterator[None]:
    """:func:`ctypes.util.find_library` without its compiler fallback, inside the block."""
    import ctypes.util

    find = _loader_cache()
    if find is None:
        yield
        return
    original = ctypes.util.find_library
    ctypes.util.find_library = find  # type: ignore[assignment]
    try:
        yield
    finally:
        ctypes.util.find_library = original


with _found_in_the_loader_cache():
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

__all__ = [
    "CSS",
    "HTML",
    "FatalURLFetchingError",
    "FontConfiguration",
    "URLFetcher",
    "URLFetcherResponse",
]
