"""The committee's electronic seal: drawn as a Chinese official seal.

A round red seal (42 mm across, the size of a people's mediation committee's seal) with a
ring, a five-pointed star in the middle, the committee's name arched along the upper part of
the ring reading clockwise (自左而右环行), and optionally a horizontal line of text under the
star (a seal's purpose, such as 合同专用章; the committee's own seal has none).

:func:`seal_svg` draws it as SVG: WeasyPrint does not lay text on a path, so each character
is placed and rotated on its own, computed here. :func:`seal_pdf` renders that SVG alone on a
page of the seal's size with the documents' own face (the name is then embedded in the
signed PDF as the document font), and :func:`stamp_style` makes it the appearance of the
signature field that :mod:`mediation.documents.signing` adds: the visible seal *is* the
PAdES signature's widget, drawn over the organisation's name and date of the 印章 line
(templates/doc_macros.html, ``seal``). The seal is composited with the page in *multiply*
mode, as ink: the printed name and date stay readable under it.
"""

from __future__ import annotations

import functools
import io
import math
from dataclasses import dataclass
from html import escape
from typing import Any

from mediation.documents import _fonts

#: The seal's diameter (millimetres): the round seal of a people's mediation committee.
SEAL_DIAMETER_MM = 42.0
#: Seal red, as CSS/SVG colour and as PDF RGB.
SEAL_RED = "#d00"
SEAL_RED_RGB = (0xDD / 255, 0.0, 0.0)

#: Geometry for a 42 mm seal (millimetres; everything scales with the diameter).
_RING = 1.1  #: stroke of the ring
_NAME_SIZE = 6.2  #: height of the name's characters
_NAME_GAP = 0.9  #: between the ring's inner edge and the characters' tops
_STAR = 7.0  #: outer radius of the star (a 14 mm star)
_PURPOSE_SIZE = 4.2  #: the horizontal text under the star
_PURPOSE_BASELINE = 11.5  #: its baseline below the centre
_MAX_SPAN = math.radians(250)  #: the longest arc a name may take
_MIN_SPAN = math.radians(150)  #: a short name is spread over at least this arc
_MIN_NARROW = 0.7  #: characters are narrowed down to this width, then made smaller
#: Where an ideograph's centre is above its baseline (fraction of the font size): the
#: CJK em box runs from 0.12 below the baseline to 0.88 above it.
_IDEOGRAPH_CENTRE = 0.38


@dataclass(frozen=True)
class Glyph:
    """One character of the arched name: its centre (mm from the seal's top-left
    corner), its rotation (degrees clockwise from upright), size and horizontal scale."""

    char: str
    x: float
    y: float
    angle: float
    size: float
    narrow: float


def name_glyphs(name: str, diameter: float = SEAL_DIAMETER_MM) -> list[Glyph]:
    """The characters of ``name`` placed on the upper arc of a seal ``diameter`` mm across,
    symmetric about the top, reading clockwise; long names are narrowed, then made
    smaller, so that they never take more than :data:`_MAX_SPAN` of the circle."""
    chars = [c for c in name if not c.isspace()]
    if not chars:
        return []
    k = diameter / SEAL_DIAMETER_MM
    centre = diameter / 2
    inner = centre - _RING * k
    size = _NAME_SIZE * k
    n = len(chars)

    def radius(size: float) -> float:
        return inner - _NAME_GAP * k - size / 2

    natural = size * 1.08 / radius(size)  # one character's width (and a little) as an angle
    step = natural
    if n > 1:
        if natural * (n - 1) > _MAX_SPAN:
            step = _MAX_SPAN / (n - 1)
        elif natural * (n - 1) < _MIN_SPAN:
            step = min(_MIN_SPAN / (n - 1), 2 * natural)

    def room(size: float) -> float:  # between neighbouring centres, in a straight line
        return 2 * radius(size) * math.sin(step / 2)

    narrow = min(1.0, room(size) / (size * 1.02))
    while narrow < _MIN_NARROW:  # still too crowded: smaller characters, a larger radius
        size *= 0.98
        narrow = min(1.0, room(size) / (size * 1.02))
    r = radius(size)
    first = -step * (n - 1) / 2
    glyphs = []
    for i, char in enumerate(chars):
        theta = first + i * step
        glyphs.append(
            Glyph(
                char,
                centre + r * math.sin(theta),
                centre - r * math.cos(theta),
                math.degrees(theta),
                size,
                narrow,
            )
        )
    return glyphs


def star_points(cx: float, cy: float, outer: float) -> list[tuple[float, float]]:
    """The ten corners of a five-pointed star centred on (cx, cy), one point up (y down)."""
    inner = outer * math.sin(math.radians(18)) / math.sin(math.radians(126))
    return [
        (
            cx + (outer if i % 2 == 0 else inner) * math.sin(math.pi * i / 5),
            cy - (outer if i % 2 == 0 else inner) * math.cos(math.pi * i / 5),
        )
        for i in range(10)
    ]


def seal_svg(name: str, purpose: str = "", *, diameter: float = SEAL_DIAMETER_MM) -> str:
    """The seal of ``name`` as an SVG element, ``diameter`` mm across (user units are mm)."""
    k = diameter / SEAL_DIAMETER_MM
    c = diameter / 2
    family = f'font-family="{_fonts.DOCUMENT_FAMILY}, {_fonts.SOURCE_FAMILY}"'
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{diameter:g}mm" '
        f'height="{diameter:g}mm" viewBox="0 0 {diameter:g} {diameter:g}">',
        f'<circle cx="{c:g}" cy="{c:g}" r="{c - _RING * k / 2:.3f}" fill="none" '
        f'stroke="{SEAL_RED}" stroke-width="{_RING * k:.3f}"/>',
        '<polygon points="'
        + " ".join(f"{x:.3f},{y:.3f}" for x, y in star_points(c, c, _STAR * k))
        + f'" fill="{SEAL_RED}"/>',
    ]
    for g in name_glyphs(name, diameter):
        parts.append(
            f'<g transform="translate({g.x:.3f} {g.y:.3f}) rotate({g.angle:.2f}) '
            f'scale({g.narrow:.3f} 1)"><text x="{-g.size / 2:.3f}" '
            f'y="{_IDEOGRAPH_CENTRE * g.size:.3f}" font-size="{g.size:.3f}" {family} '
            f'fill="{SEAL_RED}">{escape(g.char)}</text></g>'
        )
    purpose = purpose.strip()
    if purpose:
        baseline = _PURPOSE_BASELINE * k
        room = 2 * math.sqrt((c - 2 * _RING * k) ** 2 - baseline**2)  # the chord there
        size = min(_PURPOSE_SIZE * k, room * 0.85 / len(purpose))
        parts.append(
            f'<text x="{c - size * len(purpose) / 2:.3f}" y="{c + baseline:.3f}" '
            f'font-size="{size:.3f}" {family} fill="{SEAL_RED}">{escape(purpose)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _stylesheet(diameter: float) -> str:
    return (
        f'@font-face {{ font-family: "{_fonts.DOCUMENT_FAMILY}"; src: url("{_fonts.FONT_URL}"); }}\n'
        f"@page {{ size: {diameter:g}mm {diameter:g}mm; margin: 0; }}\n"
        "html, body { margin: 0; padding: 0; }\n"
        "svg { display: block; }\n"
    )


@functools.lru_cache(maxsize=16)
def seal_pdf(name: str, purpose: str = "", *, diameter: float = SEAL_DIAMETER_MM) -> bytes:
    """A one-page PDF, ``diameter`` mm square, with the seal alone on it (the document
    face embedded, cut to the characters used)."""
    from mediation.documents._pdf import renderer

    html = f'<!DOCTYPE html><html lang="zh-CN"><body>{seal_svg(name, purpose, diameter=diameter)}</body></html>'
    pdf, _ = renderer(_stylesheet(diameter)).pdf(html)
    return pdf


def stamp_style(name: str, purpose: str = "") -> Any:
    """The pyHanko stamp style that draws the seal of ``name`` as the signature's
    appearance, centred in the signature field's box, in multiply mode."""
    from pyhanko.pdf_utils import content, generic, layout
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.stamp import StaticStampStyle
    from pyhanko.stamp.static import StaticContentStamp

    data = seal_pdf(name, purpose)

    class SealPage(content.PdfContent):
        """The seal's page, imported as a form XObject (pyHanko's ImportedPdfPage reads
        a file; this one is in memory)."""

        def render(self) -> bytes:
            xobj = self._ensure_writer.import_page_as_xobject(PdfFileReader(io.BytesIO(data)))
            self.resources.xobject["/Seal"] = xobj
            x1, y1, x2, y2 = xobj.get_object()["/BBox"]
            self.box = layout.BoxConstraints(width=abs(x2 - x1), height=abs(y2 - y1))
            return b"/Seal Do"

    class SealStamp(StaticContentStamp):
        def _render_background(self) -> bytes:
            command: bytes = super()._render_background()
            # Ink, not paint: multiply with what is printed underneath.
            state = self._resources[content.ResourceType.EXT_G_STATE]["/BackgroundGS"]
            state[generic.pdf_name("/BM")] = generic.pdf_name("/Multiply")
            return command

    @dataclass(frozen=True)
    class SealStampStyle(StaticStampStyle):
        def create_stamp(self, writer: Any, box: Any, text_params: dict[str, Any]) -> Any:
            return SealStamp(writer=writer, style=self, box=box)

    return SealStampStyle(
        background=SealPage(),
        background_opacity=1.0,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins.uniform(0),
        ),
        border_width=0,
    )


__all__ = [
    "SEAL_DIAMETER_MM",
    "SEAL_RED",
    "SEAL_RED_RGB",
    "Glyph",
    "name_glyphs",
    "seal_pdf",
    "seal_svg",
    "stamp_style",
    "star_points",
]
