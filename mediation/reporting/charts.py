"""The four charts of the statistics report, as small hand-written SVG.

Why not a charting library: the charts must look the same in the HTML page and in the
PDF, and WeasyPrint draws inline SVG with its own renderer, which follows plain shapes
and text reliably but not the CSS classes, scripts and web fonts that library output
(pygal's, matplotlib's) leans on. Four bar and line charts are a few dozen lines each;
owning them keeps every label in the Song/Ming serif with ``lang="zh-CN"`` glyphs and
adds no dependency. Output is deterministic (same data, same bytes), escaped, and sized
in user units so the page scales it.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

from mediation.domain import taxonomy

#: The plotting area (user units) and the margins around it. The margins grow with what
#: they hold — a wide y-axis number, a long legend entry, x labels wrapped onto more lines,
#: value labels above the bars — so that no label is ever cut off at the drawing's edge:
#: the chart grows, and the page scales it (``width="100%"``).
PLOT_W, PLOT_H = 462, 192
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 130, 28, 40
WIDTH, HEIGHT = _LEFT + PLOT_W + _RIGHT, _TOP + PLOT_H + _BOTTOM  # the smallest drawing
_SIZE, _LINE = 11, 13  #: the labels' font size and line height
#: A legend entry longer than this (user units) wraps onto another line.
_LEGEND_WRAP = 12 * _SIZE
_FONT = 'font-family="Noto Serif CJK SC, Noto Serif SC, serif"'
#: Colour-blind-safe palette (Okabe-Ito), then grey for 其他.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
OTHER = "#999999"
#: Duration buckets in calendar days (upper bound inclusive); the last is open-ended.
BUCKETS = ((0, 3), (4, 7), (8, 15), (16, 30), (31, 45), (46, 60), (61, None))


def text_width(text: str, size: float = _SIZE) -> float:
    """How wide ``text`` is drawn at ``size`` (an upper estimate for the serif face): a
    Chinese character or full-width sign is one em, a wide Latin sign 0.9 em, a digit
    0.55 em, narrow punctuation 0.35 em, anything else 0.6 em."""
    em = 0.0
    for char in text:
        if unicodedata.east_asian_width(char) in ("W", "F"):
            em += 1.0
        elif char in "%@MWmw—…":
            em += 0.9
        elif char.isdigit():
            em += 0.55
        elif char in ".,:;'|!il ":
            em += 0.35
        else:
            em += 0.6
    return em * size


#: What :func:`wrap` keeps together: a Latin run or one character, with an opening bracket
#: before it and closing punctuation after it (禁则: none starts or ends a line wrongly).
_TOKEN = re.compile(r"[（(《“]*(?:[0-9A-Za-z.,:/%+-]+|.)[）)》”，。、；：！？]*")


def wrap(text: str, width: float, size: float = _SIZE) -> list[str]:
    """``text`` in lines no wider than ``width``: Chinese breaks between any two
    characters, but an opening bracket stays with what follows it and a closing bracket or
    comma with what precedes it; a run of Latin letters or digits stays whole unless it
    alone is wider than a line. A line holds at least one character."""
    tokens: list[str] = []
    for run in re.findall(_TOKEN, text):
        tokens.extend(_fill(run, width, size) if text_width(run, size) > width else [run])
    return _fill(tokens, width, size)


def _fill(pieces: Iterable[str], width: float, size: float) -> list[str]:
    """``pieces`` joined into lines as long as they fit (a piece never split)."""
    lines = [""]
    for piece in pieces:
        if lines[-1] and text_width(lines[-1] + piece, size) > width:
            lines.append("")
        lines[-1] += piece
    return lines


def _lines(x: float, y: float, lines: list[str], anchor: str, extra: str = "") -> str:
    """A text element of one or more lines, the first baseline at ``y``."""
    first, *rest = [escape(line) for line in lines]
    spans = "".join(f'<tspan x="{x:.1f}" dy="{_LINE}">{line}</tspan>' for line in rest)
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{first}{spans}</text>'


@dataclass
class _Frame:
    """One chart's margins; the plotting area is always :data:`PLOT_W` × :data:`PLOT_H`."""

    left: float = _LEFT
    right: float = _RIGHT
    top: float = _TOP
    bottom: float = _BOTTOM
    min_height: float = 0.0

    @property
    def width(self) -> float:
        return self.left + PLOT_W + self.right

    @property
    def height(self) -> float:
        return max(self.top + PLOT_H + self.bottom, self.min_height)

    @property
    def base(self) -> float:
        """The y of the x axis."""
        return self.top + PLOT_H


def _svg(title: str, body: list[str], frame: _Frame | None = None) -> str:
    frame = frame or _Frame()
    width, height = frame.width, frame.height
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" '
        f'width="100%" role="img" aria-label="{escape(title)}" {_FONT} font-size="{_SIZE}">'
    )
    caption = (
        f'<text x="{width / 2:g}" y="16" text-anchor="middle" font-size="13">{escape(title)}</text>'
    )
    return "\n".join([head, caption, *body, "</svg>"])


def _nice(top: float) -> float:
    """A round upper bound for an axis (1, 2, 5 × 10^n)."""
    if top <= 0:
        return 1.0
    scale = 1.0
    while scale * 10 <= top:
        scale *= 10
    while scale > top:
        scale /= 10
    for step in (1, 2, 5, 10):
        if step * scale >= top:
            return step * scale
    return 10 * scale


def _axes(frame: _Frame, top: float, percent: bool) -> list[str]:
    """The y axis with four gridlines up to ``top``; the left margin fits its numbers."""
    labels = [f"{top * i / 4:g}%" if percent else f"{top * i / 4:,.0f}" for i in range(5)]
    frame.left = max(frame.left, max(text_width(label) for label in labels) + 10)
    out = []
    for i, label in enumerate(labels):
        y = frame.base - PLOT_H * i / 4
        out.append(
            f'<line x1="{frame.left:g}" y1="{y:.1f}" x2="{frame.left + PLOT_W:g}" y2="{y:.1f}" '
            f'stroke="#ddd" stroke-width="0.6"/>'
        )
        out.append(
            f'<text x="{frame.left - 4:g}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>'
        )
    return out


def _x_labels(frame: _Frame, labels: list[str]) -> list[str]:
    """The labels under the bars, each wrapped to its slot; the bottom margin grows with
    the lines."""
    step = PLOT_W / max(len(labels), 1)
    every = max(1, len(labels) // 12)
    shown = [
        (i, wrap(label, step * every * 0.95)) for i, label in enumerate(labels) if i % every == 0
    ]
    lines = max((len(wrapped) for _, wrapped in shown), default=1)
    frame.bottom = max(frame.bottom, 26 + _LINE * lines)
    return [
        _lines(frame.left + step * (i + 0.5), frame.base + 14, wrapped, "middle")
        for i, wrapped in shown
    ]


def _legend(frame: _Frame, entries: list[tuple[str, str]]) -> list[str]:
    """The legend right of the plot, each entry wrapped at :data:`_LEGEND_WRAP`; the right
    margin grows to its widest line, the drawing grows downwards to its last."""
    wrapped = [(wrap(name, _LEGEND_WRAP), colour) for name, colour in entries]
    widest = max((text_width(line) for lines, _ in wrapped for line in lines), default=0)
    frame.right = max(frame.right, widest + 24 + 10)
    x = frame.left + PLOT_W + 10
    y = frame.top + 8
    out = []
    for lines, colour in wrapped:
        out.append(f'<rect x="{x:g}" y="{y - 9:g}" width="10" height="10" fill="{colour}"/>')
        out.append(_lines(x + 14, y, lines, "start"))
        y += _LINE * (len(lines) - 1) + 16
    frame.min_height = y
    return out


def _empty(title: str) -> str:
    frame = _Frame()
    return _svg(
        title,
        [
            f'<text x="{frame.width / 2:g}" y="{frame.height / 2:g}" text-anchor="middle" fill="#666">本期无数据</text>'
        ],
        frame,
    )


def volume_by_type(volume: dict[str, Counter[str]], *, top: int = 6) -> str:
    """Cases received each month, stacked by dispute type (the ``top`` types, then 其他)."""
    title = "各月收案量（按纠纷类型）"
    months = sorted(volume)
    if not months or not any(sum(c.values()) for c in volume.values()):
        return _empty(title)
    totals: Counter[str] = Counter()
    for counts in volume.values():
        totals.update(counts)
    leading = [t for t, _ in totals.most_common(top)]
    series = [
        (t, taxonomy.label(taxonomy.DISPUTE_TYPES, t), PALETTE[i]) for i, t in enumerate(leading)
    ]
    if len(totals) > len(leading):
        series.append(("", "其他类型", OTHER))
    peak = _nice(max(sum(volume[m].values()) for m in months))
    frame = _Frame()
    body = _axes(frame, peak, percent=False)
    step = PLOT_W / len(months)
    for i, month in enumerate(months):
        counts = volume[month]
        y = frame.base
        for code, _, colour in series:
            n = counts[code] if code else sum(v for k, v in counts.items() if k not in leading)
            h = PLOT_H * n / peak
            if h > 0:
                body.append(
                    f'<rect x="{frame.left + step * i + step * 0.15:.1f}" y="{y - h:.1f}" '
                    f'width="{step * 0.7:.1f}" height="{h:.1f}" fill="{colour}"/>'
                )
            y -= h
    body += _x_labels(frame, [m[2:] for m in months])
    body += _legend(frame, [(name, colour) for _, name, colour in series])
    return _svg(title, body, frame)


def settlement_by_level(by_level: dict[str, tuple[int, int]]) -> str:
    """调解成功率 at each level of the ladder (settled ÷ concluded), with the counts above
    each bar (on two lines when one is wider than the bar's slot)."""
    title = "各层级调解成功率"
    levels = [lv for lv in taxonomy.LEVELS if by_level.get(lv, (0, 0))[1]]
    if not levels:
        return _empty(title)
    step = PLOT_W / len(levels)
    labels = []
    for level in levels:
        settled, concluded = by_level[level]
        rate = f"{100 * settled / concluded:.1f}%"
        counts = f"（{settled:,}/{concluded:,}）"
        one = rate + counts
        labels.append(
            [one] if text_width(one) <= step * 0.95 else [rate, *wrap(counts, step * 0.95)]
        )
    # Room above the tallest bar (100%) for its label, below the caption.
    frame = _Frame(top=_TOP + 4 + _LINE * max(len(lines) for lines in labels))
    body = _axes(frame, 100, percent=True)
    for i, (level, lines) in enumerate(zip(levels, labels, strict=True)):
        settled, concluded = by_level[level]
        h = PLOT_H * settled / concluded
        x = frame.left + step * i + step * 0.25
        body.append(
            f'<rect x="{x:.1f}" y="{frame.base - h:.1f}" width="{step * 0.5:.1f}" '
            f'height="{h:.1f}" fill="{PALETTE[i]}"/>'
        )
        top = frame.base - h - 4 - _LINE * (len(lines) - 1)
        body.append(_lines(x + step * 0.25, top, lines, "middle"))
    body += _x_labels(frame, [taxonomy.LEVELS[lv] for lv in levels])
    return _svg(title, body, frame)


def duration_distribution(durations: Counter[int]) -> str:
    """How many mediation clocks stopped after how many calendar days."""
    title = "办理天数分布（调解期限起算至停止）"
    if not durations:
        return _empty(title)
    counts = []
    for lo, hi in BUCKETS:
        counts.append(sum(n for d, n in durations.items() if d >= lo and (hi is None or d <= hi)))
    labels = [f"{lo}–{hi}日" if hi is not None else f"{lo}日以上" for lo, hi in BUCKETS]
    peak = _nice(max(counts))
    frame = _Frame()
    body = _axes(frame, peak, percent=False)
    step = PLOT_W / len(counts)
    for i, n in enumerate(counts):
        h = PLOT_H * n / peak
        body.append(
            f'<rect x="{frame.left + step * i + step * 0.1:.1f}" y="{frame.base - h:.1f}" '
            f'width="{step * 0.8:.1f}" height="{h:.1f}" fill="{PALETTE[0]}"/>'
        )
    body += _x_labels(frame, labels)
    return _svg(title, body, frame)


def overdue_trend(overdue: dict[str, tuple[int, int]]) -> str:
    """超期率 of the cases opened each month (overdue clocks ÷ clocks)."""
    title = "超期率走势（按收案月份）"
    months = [m for m in sorted(overdue) if overdue[m][1]]
    if not months:
        return _empty(title)
    rates = [100 * overdue[m][0] / overdue[m][1] for m in months]
    peak = _nice(max(max(rates), 1))
    frame = _Frame(top=_TOP + 8)  # a point's label at the top of the axis
    body = _axes(frame, peak, percent=True)
    step = PLOT_W / len(months)
    points = [
        (frame.left + step * (i + 0.5), frame.base - PLOT_H * rate / peak)
        for i, rate in enumerate(rates)
    ]
    body.append(
        '<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>'.format(
            PALETTE[5], " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        )
    )
    for (x, y), rate in zip(points, rates, strict=True):
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{PALETTE[5]}"/>')
        if len(points) <= 13:
            body.append(
                f'<text x="{x:.1f}" y="{y - 6:.1f}" text-anchor="middle">{rate:.0f}%</text>'
            )
    body += _x_labels(frame, [m[2:] for m in months])
    return _svg(title, body, frame)
