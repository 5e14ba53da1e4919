"""The language of everything a user reads: Chinese (the source strings) or English.

Every user-facing string in the source is Chinese and wrapped in :func:`_`; the English
catalog ``mediation/locale/en/LC_MESSAGES/mediation.mo`` (compiled from ``mediation.po``
with Babel, see docs/i18n.md) translates them. :func:`_` looks the string up when it is
called, in the language current then: set by ``--lang zh|en`` (:func:`set_language`), else
by the environment (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``, the first one set;
English when it names ``en``, Chinese otherwise, ``C`` and ``POSIX`` included).

Only the standard library's :mod:`gettext` is used, and only when the language is English:
start-up time matters (``mediation --help`` ≤ 0.1 s).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import gettext

#: The gettext domain of our catalog.
DOMAIN = "mediation"
#: The folder holding ``<lang>/LC_MESSAGES/mediation.mo``.
LOCALE_DIR = os.path.join(os.path.dirname(__file__), "locale")
#: The languages offered: the source language first.
LANGUAGES = ("zh", "en")

_chosen: str | None = None
_catalogs: dict[str, gettext.NullTranslations] = {}


def language_from_env(environ: os._Environ[str] | dict[str, str] | None = None) -> str:
    """``MEDIATION_LANG`` if set, else ``en`` when the first locale variable set names
    English, else ``zh``."""
    env = os.environ if environ is None else environ
    chosen = env.get("MEDIATION_LANG", "")
    if chosen:
        try:
            return normalize(chosen)
        except ValueError:
            pass  # reported by the root option
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            first = value.split(":")[0].strip().lower()
            return "en" if first.startswith("en") else "zh"
    return "zh"


def normalize(value: str) -> str:
    """``zh`` or ``en`` for a ``--lang`` value (``zh_CN``, ``en-US``, ``中文`` ...).

    :raises ValueError: for a language not offered.
    """
    text = value.strip().lower().replace("-", "_")
    if text in ("中文", "汉语", "chinese") or text.startswith("zh"):
        return "zh"
    if text in ("english", "英文", "英语") or text.startswith("en"):
        return "en"
    raise ValueError(value)


def set_language(value: str | None) -> None:
    """Use ``value`` (``zh`` or ``en``) from now on; None goes back to the environment's."""
    global _chosen
    _chosen = None if value is None else normalize(value)


def choose_from_argv(argv: list[str]) -> None:
    """Use the language the root option ``--lang`` names in ``argv`` (the options before
    the first command), if any: called before the command modules are imported, since
    their help texts are translated when they are imported."""
    found = None
    for i, token in enumerate(argv):
        if token == "--lang" and i + 1 < len(argv):
            found = argv[i + 1]
        elif token.startswith("--lang="):
            found = token.split("=", 1)[1]
        elif not token.startswith("-") and (
            i == 0 or argv[i - 1] not in ("--lang", "--db", "--as", "--log-level")
        ):
            break
    if found is not None and found.strip().lower()[:2] in ("zh", "en"):
        set_language(found)  # (another value: the root option reports it)


def language() -> str:
    """The current language: ``zh`` or ``en``."""
    return _chosen or language_from_env()


def _catalog(lang: str) -> gettext.NullTranslations:
    found = _catalogs.get(lang)
    if found is None:
        import gettext

        found = gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[lang], fallback=True)
        _catalogs[lang] = found
    return found


def _(message: str) -> str:
    """``message`` (a Chinese source string) in the current language."""
    lang = language()
    if lang == "zh":
        return message
    return _catalog(lang).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the current language."""
    lang = language()
    if lang == "zh":
        return singular if n == 1 else plural
    return _catalog(lang).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it now (translated where it is
    shown, with :func:`_`)."""
    return message


#: What the operating system says of a failed file operation (``strerror``, which it gives
#: in English), for the errors a user meets with paths they typed.
_OS_ERRORS = {
    "ENOENT": N_("文件或文件夹不存在"),
    "EACCES": N_("没有权限"),
    "EPERM": N_("不允许此操作"),
    "EISDIR": N_("这是一个文件夹，不是文件"),
    "ENOTDIR": N_("路径中有一段不是文件夹"),
    "EEXIST": N_("文件已存在"),
    "ENOSPC": N_("磁盘空间不足"),
    "EROFS": N_("文件系统为只读"),
    "ELOOP": N_("符号链接过多或是符号链接"),
    "ENAMETOOLONG": N_("文件名过长"),
}


def os_error(exc: OSError) -> str:
    """Why a file operation failed, in the current language (the system's own words,
    in English, for an error not listed)."""
    import errno

    name = errno.errorcode.get(exc.errno or 0, "")
    message = _OS_ERRORS.get(name)
    if message is None:
        return exc.strerror or str(exc)
    return _(message) if language() == "zh" else (exc.strerror or _(message))
