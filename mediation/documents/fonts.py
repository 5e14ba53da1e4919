"""Fonts for what we draw into PDFs ourselves: one OpenType face, cut to the characters used.

The system's Noto CJK fonts come as ``.ttc`` collections (JP, KR, SC, TC, HK faces in one
file). WeasyPrint reads those through fontconfig, but pyHanko's stamp renderer needs a
single-face OTF, and loading the full 16 MiB face for a dozen characters costs time and
file size. :func:`subset_font` extracts the Simplified Chinese face and keeps only the
characters asked for (plus digits and date punctuation, so that one seal's font serves
every date), and caches the result on disk under a name derived from its inputs.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from mediation.errors import MediationError
from mediation.i18n import _

#: Noto Serif CJK (Debian/Ubuntu package ``fonts-noto-cjk``): a Song/Ming-style serif.
DEFAULT_CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")
#: The face to take from a collection, by family name.
DEFAULT_FAMILY = "Noto Serif CJK SC"
#: Always kept, so that the dates on a seal do not each need a font of their own.
ALWAYS = "0123456789-:./年月日 "


def font_source() -> Path:
    """The CJK font file: ``MEDIATION_CJK_FONT`` or Noto Serif CJK.

    :raises MediationError: when the file is missing.
    """
    path = Path(os.environ.get("MEDIATION_CJK_FONT") or DEFAULT_CJK_FONT)
    if not path.is_file():
        raise MediationError(
            _("{path} 没有中文字体").format(path=path),
            hint=_(
                "请安装 fonts-noto-cjk（apt-get install fonts-noto-cjk），或将 MEDIATION_CJK_FONT 设为一个 .otf/.ttc 字体文件"
            ),
        )
    return path


def cache_dir() -> Path:
    """Where cut fonts are kept: ``MEDIATION_FONT_CACHE`` or the user's cache directory."""
    given = os.environ.get("MEDIATION_FONT_CACHE")
    if given:
        return Path(given)
    from platformdirs import user_cache_path

    return user_cache_path("mediation", appauthor=False) / "fonts"


def face_index(source: Path, family: str = DEFAULT_FAMILY) -> int:
    """The index of ``family`` in a ``.ttc`` collection (0 for a single-face file).

    :raises MediationError: when the collection has no such face.
    """
    if source.suffix.lower() not in (".ttc", ".otc"):
        return 0
    from fontTools.ttLib import TTCollection

    collection = TTCollection(str(source), lazy=True)
    try:
        names = [font["name"].getDebugName(1) for font in collection.fonts]
    finally:
        collection.close()
    if family not in names:
        raise MediationError(
            _("{source} 中没有字体 {family}（它有：{names}）").format(
                source=source, family=repr(family), names="、".join(map(str, names))
            ),
            hint=_("请将 MEDIATION_CJK_FONT 设为含简体中文字形的字体文件"),
        )
    return names.index(family)


def subset_font(text: str, *, family: str = DEFAULT_FAMILY, source: Path | None = None) -> Path:
    """A single-face OTF holding the glyphs of ``text`` (and :data:`ALWAYS`), cached.

    The cache key covers the source file (path, size, modification time), the face and the
    characters, so a changed font or new text gets a new file; writes are atomic, so two
    processes cutting the same font at once both end up with a whole file.
    """
    source = source or font_source()
    chars = "".join(sorted(set(text + ALWAYS) - {"\n", "\r", "\t"}))
    stat = source.stat()
    key = hashlib.sha256(
        f"{source.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\0{family}\0{chars}".encode()
    ).hexdigest()[:20]
    target = cache_dir() / f"{family.replace(' ', '')}-{key}.otf"
    if target.is_file():
        return target
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(source), fontNumber=face_index(source, family), lazy=False)
    options = subset.Options()
    options.layout_features = ["*"]  # vertical forms and the like, for the shaper
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)
    try:
        write_atomically(target, font.save)
    finally:
        font.close()
    return target


def write_atomically(target: Path, content: bytes | Callable[[BinaryIO], object]) -> None:
    """Write ``content`` (bytes, or a function writing to a binary file) to ``target``
    through a temporary file beside it, renamed into place: two processes writing the same
    cached font at once both leave a whole file, and a reader never sees half of one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".otf.tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            if isinstance(content, bytes):
                out.write(content)
            else:
                content(out)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
