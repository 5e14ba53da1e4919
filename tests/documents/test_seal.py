# ruff: noqa: F811  (the signing tests' fixtures are imported by name)
"""The committee's electronic seal looks like a Chinese official seal (issue 15, Documents):
round and red, the committee's name arched clockwise over a five-pointed star, stamped over
the organisation's name and date of the 印章 line, its name set in the embedded document face.

The sealed agreement is made through the real CLI (``doc sign``), its last page rasterised
by poppler at 72 dpi (one pixel per point) and looked at pixel by pixel; the PNG is left in
the test's ``tmp_path`` (``seal-page.png``) for a person to look at.
"""

from __future__ import annotations

import itertools
import math
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mediation.documents.seal import SEAL_DIAMETER_MM, name_glyphs, seal_pdf, seal_svg
from tests.documents.test_signing import (  # noqa: F401  (fixtures)
    ORG_NAME,
    Cli,
    cli,
    db,
    env,
    font_cache,
    signed_agreement,
    stored_document,
)

PT_PER_MM = 72 / 25.4


def _is_red(pixel: tuple[int, int, int]) -> bool:
    r, g, b = pixel
    return r > 150 and g < 90 and b < 90


def _last_page_png(pdf: Path, pages: int, out: Path) -> Any:
    from PIL import Image

    render = ["pdftoppm", "-png", "-r", "72", "-singlefile", "-f", str(pages), "-l", str(pages)]
    subprocess.run([*render, str(pdf), str(out.with_suffix(""))], check=True)
    return Image.open(out).convert("RGB")


def _words(pdf: Path, page: int) -> list[tuple[float, float, float, float, str]]:
    """(x1, y1, x2, y2, text) of each word on ``page``, y from the top (as the raster)."""
    html = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pattern = r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<'
    return [
        (float(a), float(b), float(c), float(d), text)
        for a, b, c, d, text in re.findall(pattern, html)
    ]


def _seal_rect(pdf: Path) -> tuple[float, float, float, float]:
    """The signature widget's rectangle (x1, y1, x2, y2 in points, y from the top)."""
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    page = reader.pages[-1]
    height = float(page.mediabox.height)
    for ref in page.get("/Annots") or []:
        annot = ref.get_object()
        if annot.get("/FT") == "/Sig":
            x1, y1, x2, y2 = (float(v) for v in annot["/Rect"])
            return x1, height - y2, x2, height - y1
    raise AssertionError("no signature widget on the last page")


def _fonts(pdf: Path) -> list[str]:
    listing = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    return listing.stdout.splitlines()[2:]


def test_the_sealed_agreement_shows_a_round_red_seal_over_the_name_and_date(
    cli: Cli, tmp_path: Path
) -> None:
    _, out = signed_agreement(cli, tmp_path)
    pages = stored_document(cli.db).pages
    page = _last_page_png(out, pages, tmp_path / "seal-page.png")

    x1, y1, x2, y2 = _seal_rect(out)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    ring = (SEAL_DIAMETER_MM / 2 - 0.55) * PT_PER_MM  # the middle of the ring's stroke

    # A ring: every point sampled on the circle (or a pixel beside it) is red.
    def red_near(x: float, y: float, within: int = 1) -> bool:
        return any(
            _is_red(page.getpixel((round(x) + dx, round(y) + dy)))
            for dx in range(-within, within + 1)
            for dy in range(-within, within + 1)
        )

    on_ring = [
        red_near(cx + ring * math.cos(a), cy + ring * math.sin(a))
        for a in (2 * math.pi * i / 72 for i in range(72))
    ]
    assert all(on_ring), [i * 5 for i, red in enumerate(on_ring) if not red]
    # Round, not a square: inside the widget's corners, outside the ring, nothing is red.
    for corner_x, corner_y in ((x1, y1), (x2, y1), (x1, y2), (x2, y2)):
        assert not red_near(cx + (corner_x - cx) * 0.9, cy + (corner_y - cy) * 0.9, within=2)
    # A filled star in the middle: red pixels around the centre, its top point above it.
    centre = [
        _is_red(page.getpixel((round(cx) + dx, round(cy) + dy)))
        for dx in range(-6, 7)
        for dy in range(-6, 7)
    ]
    assert sum(centre) > 40, sum(centre)
    assert red_near(cx, cy - 5.5 * PT_PER_MM)  # the star's top point (7 mm up)
    # The name along the upper arc: red between the ring and the star, above the centre.
    upper = sum(
        _is_red(page.getpixel((x, y)))
        for x in range(round(cx - ring), round(cx + ring))
        for y in range(round(cy - ring) + 4, round(cy - 8 * PT_PER_MM))
    )
    assert upper > 300, upper
    # Nothing red anywhere else on the page.
    red_elsewhere = [
        (x, y)
        for x in range(page.width)
        for y in range(page.height)
        if math.hypot(x - cx, y - cy) > ring + 4 and _is_red(page.getpixel((x, y)))
    ]
    assert red_elsewhere == []

    # Stamped over the organisation's name and date of the 印章 line (盖章处).
    words = _words(out, pages)
    at = next(i for i, w in enumerate(words) if w[4] == f"{ORG_NAME}（印章）")
    name, date = words[at], words[at + 1]
    assert date[4].startswith("2026年3月9日"), date
    for wx1, wy1, wx2, wy2, text in (name, date):
        nearest = math.hypot(max(wx1 - cx, 0, cx - wx2), max(wy1 - cy, 0, cy - wy2))
        assert nearest < ring - 10, (text, nearest)  # well inside the seal's circle
    assert date[0] < cx < date[2] and name[0] < cx < name[2]  # across the seal's centre
    assert name[3] <= date[1] + 1  # the date under the name

    # The seal's characters are the document face, embedded (pdffonts lists the widget's).
    fonts = _fonts(out)
    assert fonts and all(" yes yes " in line for line in fonts), fonts
    unsigned = tmp_path / "unsigned.pdf"  # the file before pyHanko's incremental update
    unsigned.write_bytes(out.read_bytes()[: out.read_bytes().index(b"%%EOF") + 5])
    assert len(fonts) == len(_fonts(unsigned)) + 1
    assert all("Mediation-Serif" in line for line in fonts)


def test_the_name_reads_clockwise_over_the_top_and_long_names_fit() -> None:
    for name in ("调委会", ORG_NAME, "青山县城关镇桥头村某某物业纠纷人民调解委员会"):
        glyphs = name_glyphs(name)
        assert "".join(g.char for g in glyphs) == name
        angles = [g.angle for g in glyphs]
        assert angles == sorted(angles)  # clockwise, left to right
        assert angles[0] == pytest.approx(-angles[-1])  # centred on the top
        assert -126 < angles[0] < -40 and 40 < angles[-1] < 126  # the upper part only
        centre = SEAL_DIAMETER_MM / 2
        for g in glyphs:
            # Inside the ring (1.1 mm), not over the star (7 mm).
            reach = math.hypot(g.x - centre, g.y - centre)
            assert 7 + g.size / 2 < reach <= centre - 1.1 - g.size / 2
        if len(name) >= len(ORG_NAME):
            assert angles[-1] - angles[0] > 200  # a name takes most of the circle
        for a, b in itertools.pairwise(glyphs):
            assert math.hypot(a.x - b.x, a.y - b.y) >= a.size * a.narrow  # no overlap


def test_the_seal_alone_holds_the_name_and_an_optional_purpose(tmp_path: Path) -> None:
    svg = seal_svg(ORG_NAME, "合同专用章")
    assert svg.count("<circle") == 1 and svg.count("<polygon") == 1
    assert svg.count("<text") == len(ORG_NAME) + 1
    assert "合同专用章</text>" in svg and "合同专用章" not in seal_svg(ORG_NAME)
    path = tmp_path / "seal.pdf"
    path.write_bytes(seal_pdf(ORG_NAME, "合同专用章"))
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "合同专用章" in text and all(ch in text for ch in ORG_NAME)
    assert all("Mediation-Serif" in line and " yes yes " in line for line in _fonts(path))
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info.stdout)
    assert size and float(size[1]) == pytest.approx(SEAL_DIAMETER_MM * PT_PER_MM, abs=0.5)
