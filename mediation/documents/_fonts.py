"""The documents' typeface: one Song-style serif face, and which characters it can print.

Official documents are set in a Song/Ming-style serif (domain.md §5): Noto Serif CJK SC
(Debian ``fonts-noto-cjk``), found through fontconfig. That face has 65,535 glyphs, and
WeasyPrint embeds font subsets that keep the original glyph ids, so an embedded subset
carries an empty slot for every id below the highest one used: a full-width comma (id
58,960) alone adds ~110 KB to a PDF. We therefore print with a *document face*: the SC
face cut by HarfBuzz (hb-subset, ~0.2 s, once; kept in the font cache) to GB 2312 (the
6,763 hanzi and the symbols of everyday Chinese), ASCII and every character of our own
templates, so that ids stay below ~7,600. A character outside it — a rare name character
such as 䶮 or 𠈌 — falls back to the full SC face, which is then embedded as well.

Before a document is rendered, every character of its data is checked
(:func:`unprintable`): against the SC face's character map and, failing that, fontconfig's
list of installed fonts. A character no installed font has is refused rather than printed
as an empty box (WeasyPrint would draw ``.notdef``).

HarfBuzz and fontconfig are the libraries WeasyPrint itself loads (Pango depends on them);
they are reached through ``cffi``, a WeasyPrint dependency.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediation.errors import MediationError
from mediation.i18n import _

#: The family the documents' stylesheet asks for (the cut face, see the module docstring).
DOCUMENT_FAMILY = "Mediation Serif"
#: The installed face it is cut from, and the fallback for characters outside the cut.
SOURCE_FAMILY = "Noto Serif CJK SC"
TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
#: The URL the stylesheet's ``@font-face`` names for the document face (served from memory
#: by the renderer's fetcher).
FONT_URL = "mediation-font:document-face"

_CDEF = """
typedef struct hb_blob_t hb_blob_t;
typedef struct hb_face_t hb_face_t;
typedef struct hb_set_t hb_set_t;
typedef struct hb_subset_input_t hb_subset_input_t;
typedef uint32_t hb_codepoint_t;
typedef int hb_bool_t;
hb_blob_t *hb_blob_create_from_file_or_fail (const char *file_name);
void hb_blob_destroy (hb_blob_t *blob);
const char *hb_blob_get_data (hb_blob_t *blob, unsigned int *length);
hb_face_t *hb_face_create (hb_blob_t *blob, unsigned int index);
void hb_face_destroy (hb_face_t *face);
hb_blob_t *hb_face_reference_blob (hb_face_t *face);
hb_set_t *hb_set_create (void);
void hb_set_add (hb_set_t *set, hb_codepoint_t codepoint);
hb_bool_t hb_set_has (const hb_set_t *set, hb_codepoint_t codepoint);
void hb_face_collect_unicodes (hb_face_t *face, hb_set_t *out);
hb_subset_input_t *hb_subset_input_create_or_fail (void);
void hb_subset_input_destroy (hb_subset_input_t *input);
hb_set_t *hb_subset_input_unicode_set (hb_subset_input_t *input);
hb_set_t *hb_subset_input_set (hb_subset_input_t *input, int set_type);
void hb_subset_input_set_flags (hb_subset_input_t *input, unsigned value);
hb_face_t *hb_subset_or_fail (hb_face_t *source, const hb_subset_input_t *input);
const char *hb_version_string (void);

typedef int FcBool;
typedef unsigned char FcChar8;
typedef uint32_t FcChar32;
typedef struct _FcPattern FcPattern;
typedef struct _FcCharSet FcCharSet;
typedef struct _FcObjectSet FcObjectSet;
typedef struct _FcConfig FcConfig;
typedef struct _FcFontSet { int nfont; int sfont; FcPattern **fonts; } FcFontSet;
typedef enum { FcResultMatch, FcResultNoMatch, FcResultTypeMismatch, FcResultNoId,
               FcResultOutOfMemory } FcResult;
typedef enum { FcMatchPattern, FcMatchFont, FcMatchScan } FcMatchKind;
FcBool FcInit (void);
FcPattern *FcNameParse (const FcChar8 *name);
FcPattern *FcPatternCreate (void);
void FcPatternDestroy (FcPattern *p);
FcBool FcConfigSubstitute (FcConfig *config, FcPattern *p, FcMatchKind kind);
void FcDefaultSubstitute (FcPattern *pattern);
FcPattern *FcFontMatch (FcConfig *config, FcPattern *p, FcResult *result);
FcResult FcPatternGetString (const FcPattern *p, const char *object, int n, FcChar8 **s);
FcResult FcPatternGetInteger (const FcPattern *p, const char *object, int n, int *i);
FcCharSet *FcCharSetCreate (void);
FcBool FcCharSetAddChar (FcCharSet *fcs, FcChar32 ucs4);
void FcCharSetDestroy (FcCharSet *fcs);
FcBool FcPatternAddCharSet (FcPattern *p, const char *object, const FcCharSet *c);
FcObjectSet *FcObjectSetCreate (void);
FcBool FcObjectSetAdd (FcObjectSet *os, const char *object);
void FcObjectSetDestroy (FcObjectSet *os);
FcFontSet *FcFontList (FcConfig *config, FcPattern *p, FcObjectSet *os);
void FcFontSetDestroy (FcFontSet *s);
"""
_HB_SUBSET_FLAGS_NO_HINTING = 0x1
_HB_SUBSET_SETS_DROP_TABLE_TAG = 3
#: Tables the documents do not need: layout (CJK is set without kerning or ligatures),
#: vertical metrics, signatures.
_DROP_TABLES = ("GSUB", "GPOS", "BASE", "JSTF", "VORG", "vhea", "vmtx", "DSIG")


class FontMissing(MediationError):
    """The Song-style serif is not installed."""


@dataclass(frozen=True)
class _Libraries:
    ffi: Any
    hb: Any
    fc: Any


@functools.cache
def _libraries() -> _Libraries:
    import cffi  # type: ignore[import-untyped]

    ffi = cffi.FFI()
    ffi.cdef(_CDEF)
    hb = _dlopen(ffi, "libharfbuzz-subset.so.0", "harfbuzz-subset", "libharfbuzz-subset-0")
    fc = _dlopen(ffi, "libfontconfig.so.1", "fontconfig-1", "fontconfig", "libfontconfig-1")
    fc.FcInit()
    return _Libraries(ffi, hb, fc)


def _dlopen(ffi: Any, *names: str) -> Any:
    for name in names:
        try:
            return ffi.dlopen(name)
        except OSError:
            continue
    raise FontMissing(
        f"cannot load {names[0]}",
        hint=_("请安装：apt-get install libharfbuzz-subset0 fontconfig（见 setup.sh）"),
    )


@dataclass(frozen=True)
class Face:
    """One face of an installed font file (``index`` within a .ttc collection)."""

    path: Path
    index: int


@functools.cache
def source_face(family: str = SOURCE_FAMILY) -> Face:
    """The installed file and face index of ``family``, as fontconfig resolves it.

    :raises FontMissing: when fontconfig has no face of that family (it would otherwise
        answer with whatever font it likes best).
    """
    libs = _libraries()
    ffi, fc = libs.ffi, libs.fc
    pattern = fc.FcNameParse(f"{family}:style=Regular".encode())
    try:
        fc.FcConfigSubstitute(ffi.NULL, pattern, fc.FcMatchPattern)
        fc.FcDefaultSubstitute(pattern)
        result = ffi.new("FcResult *")
        match = fc.FcFontMatch(ffi.NULL, pattern, result)
    finally:
        fc.FcPatternDestroy(pattern)
    if match == ffi.NULL:
        raise _missing(family)
    try:
        text = ffi.new("FcChar8 **")
        families = []
        n = 0
        while fc.FcPatternGetString(match, b"family", n, text) == fc.FcResultMatch:
            families.append(ffi.string(text[0]).decode())
            n += 1
        if family not in families:
            raise _missing(family)
        fc.FcPatternGetString(match, b"file", 0, text)
        path = Path(ffi.string(text[0]).decode())
        index = ffi.new("int *")
        if fc.FcPatternGetInteger(match, b"index", 0, index) != fc.FcResultMatch:
            index[0] = 0
        return Face(path, index[0])
    finally:
        fc.FcPatternDestroy(match)


def _missing(family: str) -> FontMissing:
    return FontMissing(
        _("没有安装字体 {family}，文书需用它排版").format(family=repr(family)),
        hint=_("请安装中文字体：apt-get install fonts-noto-cjk（见 setup.sh）"),
    )


class _Coverage:
    """The characters one face maps (HarfBuzz set, queried in place)."""

    def __init__(self, face: Face) -> None:
        libs = _libraries()
        hb = libs.hb
        blob = hb.hb_blob_create_from_file_or_fail(str(face.path).encode())
        if blob == libs.ffi.NULL:
            raise FontMissing(f"cannot read {face.path}", hint=_("请检查字体安装"))
        hb_face = hb.hb_face_create(blob, face.index)
        self._set = hb.hb_set_create()
        hb.hb_face_collect_unicodes(hb_face, self._set)
        hb.hb_face_destroy(hb_face)
        hb.hb_blob_destroy(blob)
        self._hb = hb

    def __contains__(self, char: str) -> bool:
        return bool(self._hb.hb_set_has(self._set, ord(char)))


@functools.cache
def _coverage() -> _Coverage:
    return _Coverage(source_face())


@functools.cache
def _installed_font_has(codepoint: int) -> bool:
    """Whether any font fontconfig knows maps ``codepoint`` (Pango falls back to it)."""
    libs = _libraries()
    ffi, fc = libs.ffi, libs.fc
    pattern = fc.FcPatternCreate()
    charset = fc.FcCharSetCreate()
    objects = fc.FcObjectSetCreate()
    try:
        fc.FcCharSetAddChar(charset, codepoint)
        fc.FcPatternAddCharSet(pattern, b"charset", charset)
        fc.FcObjectSetAdd(objects, b"file")
        found = fc.FcFontList(ffi.NULL, pattern, objects)
        if found == ffi.NULL:
            return False
        count = int(found.nfont)
        fc.FcFontSetDestroy(found)
        return count > 0
    finally:
        fc.FcObjectSetDestroy(objects)
        fc.FcCharSetDestroy(charset)
        fc.FcPatternDestroy(pattern)


def unprintable(text: str) -> list[str]:
    """The distinct characters of ``text`` that no installed font can print, in order."""
    coverage = _coverage()
    seen: dict[str, None] = {}
    for char in text:
        if char in seen or char.isspace() or char in coverage:
            continue
        if not _installed_font_has(ord(char)):
            seen[char] = None
    return list(seen)


def _gb2312() -> Iterable[str]:
    """Every character of GB 2312: symbols (rows 1-9) and both levels of hanzi."""
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                yield bytes((high, low)).decode("gb2312")
            except UnicodeDecodeError:
                continue


def document_charset() -> set[str]:
    """The characters of the document face: GB 2312, ASCII and our templates' text."""
    chars = set(_gb2312())
    chars.update(chr(c) for c in range(0x20, 0x7F))
    for path in (*TEMPLATES_DIR.glob("doc_*.html"), *TEMPLATES_DIR.glob("assets/*.css")):
        chars.update(path.read_text(encoding="utf-8"))
    return {c for c in chars if not c.isspace() or c == " "}


@functools.cache
def document_face() -> bytes:
    """The document face as OpenType bytes: cut once and kept in the font cache
    (:func:`mediation.documents.fonts.cache_dir`, beside the seals' cut fonts) under a name
    derived from all it is cut from — the source file (path, size, modification time), the
    face, the characters, the cut's settings and HarfBuzz's version — so that a later
    process reads it instead of cutting again (~0.2 s of each command that renders). A
    cache that cannot be written only costs that time."""
    import contextlib
    import hashlib

    face = source_face()
    chars = "".join(sorted(document_charset()))
    libs = _libraries()
    stat = face.path.stat()
    made_from = "\0".join(
        (
            str(face.path.resolve()),
            str(stat.st_size),
            str(stat.st_mtime_ns),
            str(face.index),
            libs.ffi.string(libs.hb.hb_version_string()).decode(),
            ",".join(_DROP_TABLES),
            str(_HB_SUBSET_FLAGS_NO_HINTING),
            chars,
        )
    )
    key = hashlib.sha256(made_from.encode()).hexdigest()[:20]
    from mediation.documents.fonts import cache_dir, write_atomically

    # The name ends with the digest of the bytes: a file damaged since is cut again.
    folder, stem = cache_dir(), f"{DOCUMENT_FAMILY.replace(' ', '')}-{key}"
    with contextlib.suppress(OSError):
        for kept in folder.glob(f"{stem}-*.otf"):
            data = kept.read_bytes()
            if kept.stem.endswith(hashlib.sha256(data).hexdigest()[:16]):
                return data
    data = _cut(face, chars)
    with contextlib.suppress(OSError):
        write_atomically(folder / f"{stem}-{hashlib.sha256(data).hexdigest()[:16]}.otf", data)
    return data


def _cut(face: Face, chars: str) -> bytes:
    """``face`` cut by hb-subset to ``chars``, without hinting or the dropped tables."""
    libs = _libraries()
    ffi, hb = libs.ffi, libs.hb
    blob = hb.hb_blob_create_from_file_or_fail(str(face.path).encode())
    if blob == ffi.NULL:
        raise FontMissing(f"cannot read {face.path}", hint=_("请检查字体安装"))
    source = hb.hb_face_create(blob, face.index)
    subset_input = hb.hb_subset_input_create_or_fail()
    try:
        unicodes = hb.hb_subset_input_unicode_set(subset_input)
        for char in chars:
            hb.hb_set_add(unicodes, ord(char))
        drop = hb.hb_subset_input_set(subset_input, _HB_SUBSET_SETS_DROP_TABLE_TAG)
        for tag in _DROP_TABLES:
            hb.hb_set_add(drop, int.from_bytes(tag.encode("ascii"), "big"))
        hb.hb_subset_input_set_flags(subset_input, _HB_SUBSET_FLAGS_NO_HINTING)
        cut = hb.hb_subset_or_fail(source, subset_input)
        if cut == ffi.NULL:
            raise FontMissing(f"cannot cut {face.path}", hint=_("请检查字体安装"))
        out = hb.hb_face_reference_blob(cut)
        length = ffi.new("unsigned int *")
        data = bytes(ffi.buffer(hb.hb_blob_get_data(out, length), length[0]))
        hb.hb_blob_destroy(out)
        hb.hb_face_destroy(cut)
        return data
    finally:
        hb.hb_subset_input_destroy(subset_input)
        hb.hb_face_destroy(source)
        hb.hb_blob_destroy(blob)
