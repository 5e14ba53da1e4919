"""The statistics charts never cut a label off (issue 15, Documents): a long label wraps or
the drawing grows, in the SVG as drawn by WeasyPrint (the renderer of the report's PDF).

Each chart is rendered alone on a page exactly the size of its drawing (one SVG user unit
= one CSS pixel), and poppler's ``pdftotext -bbox`` says where every word landed: each
label is there in full, and inside the page, that is inside the drawing.
"""

from __future__ import annotations

import itertools
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from mediation.reporting import charts

#: A dispute type nobody listed (an old record's own wording): printed as it is.
LONG_TYPE = "农村土地承包经营流转纠纷"  # 12 characters
LONGER_TYPE = "城中村改造征收补偿安置及过渡期费用纠纷"  # 19: wraps in the legend

Word = tuple[float, float, float, float, str]


def _drawn(svg: str, tmp_path: Path) -> tuple[list[Word], float, float]:
    """The words of ``svg`` as WeasyPrint draws it, and the drawing's size (points)."""
    from weasyprint import HTML

    viewbox = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg)
    assert viewbox, svg[:200]
    width, height = float(viewbox[1]), float(viewbox[2])
    page = (
        f"<!DOCTYPE html><html lang='zh-CN'><head><style>@page {{ size: {width}px {height}px;"
        " margin: 0 } body { margin: 0 } svg { display: block }</style></head>"
        f"<body>{svg}</body></html>"
    )
    path = tmp_path / "chart.pdf"
    path.write_bytes(HTML(string=page).write_pdf())
    out = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = len(re.findall(r"<page ", out))
    assert pages == 1, f"the drawing ran onto {pages} pages"
    pattern = r'xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">([^<]*)<'
    words = [
        (float(a), float(b), float(c), float(d), t) for a, b, c, d, t in re.findall(pattern, out)
    ]
    return words, width * 0.75, height * 0.75


def _inside(words: list[Word], width: float, height: float) -> None:
    outside = [
        w for w in words if w[0] < -0.5 or w[1] < -0.5 or w[2] > width + 0.5 or w[3] > height + 0.5
    ]
    assert outside == [], (outside, width, height)


def _text(words: list[Word]) -> str:
    return "".join(w[4] for w in words)


def test_a_long_dispute_type_with_the_longest_bar_is_shown_in_full(tmp_path: Path) -> None:
    volume = {
        "2026-01": Counter({LONG_TYPE: 480, "neighbourhood": 12}),
        "2026-02": Counter({LONG_TYPE: 950, "marriage_family": 30, LONGER_TYPE: 4}),
        "2026-03": Counter({"neighbourhood": 8}),
    }
    svg = charts.volume_by_type(volume)
    assert LONG_TYPE in svg
    words, width, height = _drawn(svg, tmp_path)
    assert LONG_TYPE in [w[4] for w in words]  # one line, whole
    assert LONGER_TYPE in _text(words)  # wrapped onto lines, every character drawn, in order
    assert {"邻里", "婚姻家庭", "26-01", "26-03", "1,000"} <= {w[4] for w in words}
    _inside(words, width, height)


def test_every_label_of_every_chart_stays_inside_the_drawing(tmp_path: Path) -> None:
    levels = {
        "village": (123_456, 234_567),
        "township": (98_765, 98_765),
        "county": (1_234, 5_678),
        "city": (7, 9),
    }
    drawings = {
        "settlement": charts.settlement_by_level(levels),
        "durations": charts.duration_distribution(Counter({2: 1_250_000, 70: 3})),
        "overdue": charts.overdue_trend({f"2026-{m:02d}": (m, 12) for m in range(1, 13)}),
    }
    for name, svg in drawings.items():
        words, width, height = _drawn(svg, tmp_path)
        _inside(words, width, height)
        if name == "settlement":
            text = _text(words)
            for settled, concluded in levels.values():
                assert f"{settled:,}/{concluded:,}" in text
            assert "52.6%" in text and "100.0%" in text
            # Labels of neighbouring bars do not run into each other.
            rates = sorted((w for w in words if re.search(r"\d\.\d%", w[4])), key=lambda w: w[0])
            assert len(rates) == len(levels)
            for a, b in itertools.pairwise(rates):
                assert a[2] < b[0], (a, b)
        if name == "durations":
            assert "1,250,000" in _text(words) or "2,000,000" in _text(words)


@pytest.mark.parametrize("label", ["邻里", LONG_TYPE, LONGER_TYPE, "x" * 40])
def test_wrapped_lines_fit_and_keep_every_character(label: str) -> None:
    lines = charts.wrap(label, 132)
    assert "".join(lines) == label
    assert all(charts.text_width(line) <= 132 for line in lines)
