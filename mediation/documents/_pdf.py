"""HTML to PDF with WeasyPrint, set up once per process.

- **One** :class:`weasyprint.text.fonts.FontConfiguration` per process, with the document
  face registered once, and the stylesheet parsed once: a new configuration per document
  takes a process from ~200 MB to ~850 MB over a batch, and re-parsing costs time.
- **A restricted URL fetcher** (:class:`RestrictedFetcher`). WeasyPrint's default fetcher
  follows any URL a document names: it embeds local files such as ``/etc/passwd`` as PDF
  attachments (``<link rel=attachment>``) and makes HTTP requests to any host. Ours serves
  only files inside the package's ``templates`` folder (the URL's path is percent-decoded
  and resolved *before* it is checked, so ``..%2F`` cannot climb out), the document face,
  and inline PNG/JPEG images (scanned signatures); anything else stops the rendering.
- Every page A4 and ``lang="zh-CN"`` (without it, fontconfig prefers Japanese glyph forms
  for shared Han characters); WeasyPrint's ``.notdef`` warning (a character no font has)
  is turned into an error, as a backstop to the up-front check in :mod:`._fonts`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import re
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from mediation.documents import _fonts
from mediation.documents._weasy import (
    CSS,
    HTML,
    FatalURLFetchingError,
    FontConfiguration,
    URLFetcher,
    URLFetcherResponse,
)
from mediation.errors import MediationError
from mediation.i18n import _

TEMPLATES_DIR = _fonts.TEMPLATES_DIR
TEMPLATES_URL = TEMPLATES_DIR.as_uri() + "/"
FONT_URL = _fonts.FONT_URL
_IMAGE_TYPES = ("image/png", "image/jpeg")
_DATA_URL = re.compile(r"data:(?P<type>[\w/+.-]+)(?P<params>(;[\w=.-]+)*?)(?P<b64>;base64)?,", re.I)
_CONTENT_TYPES = {
    ".css": "text/css",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".svg": "image/svg+xml",
}


class ResourceRefused(MediationError):
    """A document asked for a resource outside the package."""


class RestrictedFetcher(URLFetcher):
    """Serves the package's templates and assets, the document face, and inline images.

    Everything else — other local files, any network URL — is refused, and the refusal
    stops the rendering (``fail_on_errors``). ``refused`` lists what was asked for.
    """

    def __init__(self) -> None:
        super().__init__(fail_on_errors=True, allow_redirects=False, allowed_protocols=())
        self.refused: list[str] = []
        self._root = TEMPLATES_DIR.resolve()

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if url == FONT_URL:
            return URLFetcherResponse(
                url, body=_fonts.document_face(), headers={"Content-Type": "font/otf"}
            )
        scheme = url.split(":", 1)[0].lower()
        if scheme == "data":
            return self._data(url)
        if scheme == "file":
            return self._file(url)
        raise self._refuse(url, "only the package's own templates and assets may be loaded")

    def _refuse(self, url: str, why: str) -> ValueError:
        self.refused.append(url)
        return ValueError(f"refused {url[:200]!r}: {why}")

    def _data(self, url: str) -> URLFetcherResponse:
        match = _DATA_URL.match(url)
        if match is None or match["type"].lower() not in _IMAGE_TYPES or not match["b64"]:
            raise self._refuse(url, "inline data must be a base64 PNG or JPEG image")
        try:
            body = base64.b64decode(url[match.end() :], validate=True)
        except ValueError:
            raise self._refuse(url, "bad base64") from None
        return URLFetcherResponse(url, body=body, headers={"Content-Type": match["type"]})

    def _file(self, url: str) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise self._refuse(url, "no remote files")
        # Decode first, then resolve, then check: the order that defeats ..%2F and links.
        decoded = url2pathname(unquote(parts.path))
        if "\x00" in decoded:
            raise self._refuse(url, "NUL in path")
        path = Path(decoded).resolve()
        if not path.is_relative_to(self._root) or not path.is_file():
            raise self._refuse(url, "outside the package's templates")
        content_type = _CONTENT_TYPES.get(path.suffix.lower())
        if content_type is None:
            raise self._refuse(url, "not a stylesheet or image")
        return URLFetcherResponse(
            path.as_uri(), body=path.read_bytes(), headers={"Content-Type": content_type}
        )


class GlyphMissing(MediationError):
    """WeasyPrint drew ``.notdef`` boxes: a character no installed font has."""


class _NotdefWatch(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.chars: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if ".notdef" in message:
            self.chars.append(message.rsplit(":", 1)[-1].strip())


@contextmanager
def _watch_notdef() -> Iterator[_NotdefWatch]:
    watch = _NotdefWatch()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(watch)
    try:
        yield watch
    finally:
        logger.removeHandler(watch)


#: How many renderings a renderer keeps (the newest), by their HTML's digest, and how many
#: bytes of PDF at most (a bound volume of a case file is large, and seldom met again).
_KEPT_RENDERINGS = 16
_KEPT_BYTES = 32 * 2**20


class Renderer:
    """WeasyPrint for one process: fonts, fetcher and stylesheet built once, reused.

    The same HTML gives the same PDF, byte for byte: the output depends on the HTML, the
    stylesheet and the fonts, and the last two are fixed for a renderer. So :meth:`pdf`
    keeps the newest renderings and lays out a document met again unchanged (rendered,
    then sealed; rendered again by a second request) only once.
    """

    def __init__(self, stylesheet: str) -> None:
        self.font_config = FontConfiguration()
        self.fetcher = RestrictedFetcher()
        self.stylesheet = CSS(
            string=stylesheet,
            base_url=TEMPLATES_URL,
            url_fetcher=self.fetcher,
            font_config=self.font_config,
        )
        self.documents = 0
        self._recent: OrderedDict[bytes, tuple[bytes, int]] = OrderedDict()
        self._kept_bytes = 0

    def pdf(self, html: str) -> tuple[bytes, int]:
        """``html`` as PDF bytes, and its number of pages (laid out again only if this
        renderer has not rendered the same HTML lately).

        :raises ResourceRefused: when the HTML names a resource outside the package.
        :raises GlyphMissing: when a character had to be drawn as an empty box.
        """
        key = hashlib.sha256(html.encode("utf-8", "surrogatepass")).digest()
        found = self._recent.get(key)
        if found is not None:
            self._recent.move_to_end(key)
            return found
        rendered = self.render(html)
        if len(rendered[0]) <= _KEPT_BYTES // 4:
            self._recent[key] = rendered
            self._kept_bytes += len(rendered[0])
        while len(self._recent) > _KEPT_RENDERINGS or self._kept_bytes > _KEPT_BYTES:
            self._kept_bytes -= len(self._recent.popitem(last=False)[1][0])
        return rendered

    def render(self, html: str) -> tuple[bytes, int]:
        """``html`` laid out and written as PDF now (:meth:`pdf` without its memory):
        (PDF bytes, pages).

        :raises ResourceRefused: when the HTML names a resource outside the package.
        :raises GlyphMissing: when a character had to be drawn as an empty box.
        """
        self.fetcher.refused.clear()
        try:
            with _watch_notdef() as watch:
                document = HTML(
                    string=html, base_url=TEMPLATES_URL, url_fetcher=self.fetcher
                ).render(stylesheets=[self.stylesheet], font_config=self.font_config)
                pdf: bytes = document.write_pdf()
        except FatalURLFetchingError as exc:
            refused = self.fetcher.refused[-1] if self.fetcher.refused else str(exc)
            raise ResourceRefused(
                f"the document asked for {refused[:200]!r}, outside the package's templates",
                hint=_("文书只能引用 mediation/templates 及其 assets 中的文件"),
            ) from None
        if watch.chars:
            raise GlyphMissing(
                f"no installed font has {'、'.join(watch.chars)}",
                hint=_("请安装含有这些字的字体（fonts-noto-cjk 覆盖大多数姓名用字）"),
            )
        self.documents += 1
        return pdf, len(document.pages)


@functools.cache
def renderer(stylesheet: str) -> Renderer:
    """The process's renderer for ``stylesheet`` (built on first use, then reused)."""
    return Renderer(stylesheet)
