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

from collections import Counter
from html import escape

from mediation.domain import taxonomy

WIDTH, HEIGHT = 640, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 130, 28, 40
_FONT = 'font-family="Noto Serif CJK SC, Noto Serif SC, serif"'
#: Colour-blind-safe palette (Okabe-Ito), then grey for 其他.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
OTHER = "#999999"
#: Duration buckets in calendar days (upper bound inclusive); the last is open-ended.
BUCKETS = ((0, 3), (4, 7), (8, 15), (16, 30), (31, 45), (46, 60), (61, None))


def _svg(title: str, body: list[str]) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-label="{escape(title)}" {_FONT} font-size="11">'
    )
    caption = (
        f'<text x="{WIDTH / 2:g}" y="16" text-anchor="middle" font-size="13">{escape(title)}</text>'
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


def _axes(top: float, percent: bool) -> list[str]:
    """The y axis with four gridlines up to ``top``."""
    out = []
    plot_h = HEIGHT - _TOP - _BOTTOM
    for i in range(5):
        value = top * i / 4
        y = HEIGHT - _BOTTOM - plot_h * i / 4
        label = f"{value:g}%" if percent else f"{value:,.0f}"
        out.append(
            f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{WIDTH - _RIGHT}" y2="{y:.1f}" '
            f'stroke="#ddd" stroke-width="0.6"/>'
        )
        out.append(f'<text x="{_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    return out


def _x_labels(labels: list[str]) -> list[str]:
    step = (WIDTH - _LEFT - _RIGHT) / max(len(labels), 1)
    every = max(1, len(labels) // 12)
    return [
        f'<text x="{_LEFT + step * (i + 0.5):.1f}" y="{HEIGHT - _BOTTOM + 14}" '
        f'text-anchor="middle">{escape(label)}</text>'
        for i, label in enumerate(labels)
        if i % every == 0
    ]


def _legend(entries: list[tuple[str, str]]) -> list[str]:
    x = WIDTH - _RIGHT + 10
    out = []
    for i, (name, colour) in enumerate(entries):
        y = _TOP + 8 + i * 16
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{x + 14}" y="{y}">{escape(name)}</text>')
    return out


def _empty(title: str) -> str:
    return _svg(
        title,
        [
            f'<text x="{WIDTH / 2:g}" y="{HEIGHT / 2:g}" text-anchor="middle" fill="#666">本期无数据</text>'
        ],
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
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    step = plot_w / len(months)
    body = _axes(peak, percent=False)
    for i, month in enumerate(months):
        counts = volume[month]
        y = float(HEIGHT - _BOTTOM)
        for code, _, colour in series:
            n = counts[code] if code else sum(v for k, v in counts.items() if k not in leading)
            h = plot_h * n / peak
            if h > 0:
                body.append(
                    f'<rect x="{_LEFT + step * i + step * 0.15:.1f}" y="{y - h:.1f}" '
                    f'width="{step * 0.7:.1f}" height="{h:.1f}" fill="{colour}"/>'
                )
            y -= h
    body += _x_labels([m[2:] for m in months])
    body += _legend([(name, colour) for _, name, colour in series])
    return _svg(title, body)


def settlement_by_level(by_level: dict[str, tuple[int, int]]) -> str:
    """调解成功率 at each level of the ladder (settled ÷ concluded), with the counts."""
    title = "各层级调解成功率"
    levels = [lv for lv in taxonomy.LEVELS if by_level.get(lv, (0, 0))[1]]
    if not levels:
        return _empty(title)
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    step = plot_w / len(levels)
    body = _axes(100, percent=True)
    for i, level in enumerate(levels):
        settled, concluded = by_level[level]
        rate = 100 * settled / concluded
        h = plot_h * rate / 100
        x = _LEFT + step * i + step * 0.25
        body.append(
            f'<rect x="{x:.1f}" y="{HEIGHT - _BOTTOM - h:.1f}" width="{step * 0.5:.1f}" '
            f'height="{h:.1f}" fill="{PALETTE[i]}"/>'
        )
        # A tall bar carries its label inside, clear of the caption.
        inside = h > plot_h - 16
        fill = ' fill="#fff"' if inside else ""
        y = HEIGHT - _BOTTOM - h + (12 if inside else -4)
        body.append(
            f'<text x="{x + step * 0.25:.1f}" y="{y:.1f}" text-anchor="middle"{fill}>'
            f"{rate:.1f}%（{settled:,}/{concluded:,}）</text>"
        )
    body += _x_labels([taxonomy.LEVELS[lv] for lv in levels])
    return _svg(title, body)


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
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    step = plot_w / len(counts)
    body = _axes(peak, percent=False)
    for i, n in enumerate(counts):
        h = plot_h * n / peak
        body.append(
            f'<rect x="{_LEFT + step * i + step * 0.1:.1f}" y="{HEIGHT - _BOTTOM - h:.1f}" '
            f'width="{step * 0.8:.1f}" height="{h:.1f}" fill="{PALETTE[0]}"/>'
        )
    body += _x_labels(labels)
    return _svg(title, body)


def overdue_trend(overdue: dict[str, tuple[int, int]]) -> str:
    """超期率 of the cases opened each month (overdue clocks ÷ clocks)."""
    title = "超期率走势（按收案月份）"
    months = [m for m in sorted(overdue) if overdue[m][1]]
    if not months:
        return _empty(title)
    rates = [100 * overdue[m][0] / overdue[m][1] for m in months]
    peak = _nice(max(max(rates), 1))
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    step = plot_w / len(months)
    points = [
        (_LEFT + step * (i + 0.5), HEIGHT - _BOTTOM - plot_h * rate / peak)
        for i, rate in enumerate(rates)
    ]
    body = _axes(peak, percent=True)
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
    body += _x_labels([m[2:] for m in months])
    return _svg(title, body)
