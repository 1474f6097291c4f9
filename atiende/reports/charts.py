"""Server-rendered SVG charts: no script, no inline style (the CSP allows neither); colours
and sizes are SVG attributes. Every mark links to the cases behind it and carries a
`<title>` (the browser's tooltip, read by screen readers); each chart has a table beside
it with the same figures, which is the accessible and keyboard-friendly way in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

BLUE = "#1f5f99"
TEAL = "#2a7f62"
RED = "#b03a2e"
ORANGE = "#c0561b"
GREY = "#6b7280"
INK = "#1f2937"
RAMP_OPEN = ("#eef4fb", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c")
RAMP_CLOSED = ("#fdf0e6", "#fdd0a2", "#fdae6b", "#fd8d3c", "#e6550d", "#a63603")
AGE_COLOURS = ("#9ecae1", "#6baed6", "#fdae6b", "#e6550d", "#a63603")


@dataclass
class Bar:
    label: str
    value: float | None
    href: str = ""
    title: str = ""
    colour: str = BLUE


def _a(href: str, inner: str, title: str) -> str:
    t = f"<title>{escape(title)}</title>" if title else ""
    if not href:
        return f"<g>{t}{inner}</g>"
    return f'<a href="{escape(href)}">{t}{inner}</a>'


def _svg(width: int, height: int, title: str, body: str) -> SafeString:
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%"'
        f' role="img" aria-label="{escape(title)}" class="chart"'
        f' font-family="system-ui, sans-serif" font-size="12">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def bars(
    title: str,
    groups: Sequence[tuple[str, Sequence[Bar]]],
    *,
    maximum: float | None = None,
    unit: str = "",
) -> SafeString:
    """Horizontal bars, grouped (e.g. per channel: first response and resolution)."""
    label_w, chart_w, bar_h, gap = 150, 290, 14, 10
    values = [b.value or 0 for _, group in groups for b in group]
    top = maximum or max([*values, 1])
    y = 6
    parts = []
    for label, group in groups:
        parts.append(f'<text x="0" y="{y + bar_h - 2}" fill="{INK}">{escape(label[:24])}</text>')
        for bar in group:
            width = 0 if not bar.value else max(2, round(chart_w * bar.value / top))
            shown = "—" if bar.value is None else f"{bar.value:g}{unit}"
            inner = (
                f'<rect x="{label_w}" y="{y}" width="{width}" height="{bar_h}" fill="{bar.colour}"/>'
                f'<text x="{label_w + width + 4}" y="{y + bar_h - 3}" fill="{INK}">'
                f"{escape(bar.label)} {escape(shown)}</text>"
            )
            parts.append(_a(bar.href, inner, bar.title or f"{label}: {bar.label} {shown}"))
            y += bar_h + 3
        y += gap
    return _svg(label_w + chart_w + 110, y + 4, title, "".join(parts))


def stacked(
    title: str,
    rows: Sequence[tuple[str, Sequence[Bar]]],
    legend: Sequence[tuple[str, str]],
) -> SafeString:
    """One horizontal bar per row, split into parts (e.g. open cases by age)."""
    label_w, chart_w, bar_h = 150, 330, 16
    top = max([sum(b.value or 0 for b in parts) for _, parts in rows] + [1])
    y = 4
    out = []
    for label, parts in rows:
        out.append(f'<text x="0" y="{y + bar_h - 3}" fill="{INK}">{escape(label[:24])}</text>')
        x = label_w
        for bar in parts:
            if not bar.value:
                continue
            width = max(2, round(chart_w * bar.value / top))
            rect = f'<rect x="{x}" y="{y}" width="{width}" height="{bar_h}" fill="{bar.colour}"/>'
            out.append(_a(bar.href, rect, bar.title))
            x += width
        total = sum(b.value or 0 for b in parts)
        out.append(f'<text x="{x + 4}" y="{y + bar_h - 3}" fill="{INK}">{total:g}</text>')
        y += bar_h + 6
    lx = 0
    y += 6
    for name, colour in legend:
        out.append(
            f'<rect x="{lx}" y="{y}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{lx + 14}" y="{y + 9}" fill="{INK}">{escape(name)}</text>'
        )
        lx += 14 + 7 * len(name) + 12
    return _svg(max(label_w + chart_w + 60, lx), y + 16, title, "".join(out))


WEEKDAY_SHORT = ("Lun", "Mar", "Mié", "Jue", "Vie", "Sáb", "Dom")


def heatmap(title: str, grid: list[list[dict]], href_for) -> SafeString:
    """7 x 24 cells: blue shades while the channel is open, orange while it is closed;
    darker = more contacts. `href_for(weekday 1..7, hour)` links a cell to its cases."""
    cell, left, topm = 18, 34, 16
    peak = max([c["contacts"] for row in grid for c in row] + [1])
    out = []
    for hour in range(0, 24, 3):
        out.append(
            f'<text x="{left + hour * cell}" y="11" fill="{INK}" font-size="10">{hour:02d}h</text>'
        )
    for wd, row in enumerate(grid):
        y = topm + wd * cell
        out.append(f'<text x="0" y="{y + 13}" fill="{INK}">{WEEKDAY_SHORT[wd]}</text>')
        for hour, c in enumerate(row):
            ramp = RAMP_OPEN if c["open"] else RAMP_CLOSED
            shade = 0 if not c["contacts"] else 1 + round(4 * c["contacts"] / peak)
            rect = (
                f'<rect x="{left + hour * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}"'
                f' fill="{ramp[shade]}" stroke="{GREY if c["open"] else ORANGE}"'
                f' stroke-width="0.5"/>'
            )
            state = "abierto" if c["open"] else "cerrado"
            tip = (
                f"{WEEKDAY_SHORT[wd]} {hour:02d}:00 ({state}): {c['contacts']} contactos, "
                f"{c['out_of_hours']} fuera de horario"
            )
            out.append(_a(href_for(wd + 1, hour) if c["contacts"] else "", rect, tip))
    y = topm + 7 * cell + 8
    out.append(
        f'<rect x="{left}" y="{y}" width="12" height="12" fill="{RAMP_OPEN[3]}"/>'
        f'<text x="{left + 16}" y="{y + 10}" fill="{INK}">Canal abierto</text>'
        f'<rect x="{left + 120}" y="{y}" width="12" height="12" fill="{RAMP_CLOSED[3]}"/>'
        f'<text x="{left + 136}" y="{y + 10}" fill="{INK}">Canal cerrado</text>'
        f'<text x="{left + 250}" y="{y + 10}" fill="{INK}">Más oscuro = más contactos</text>'
    )
    return _svg(left + 24 * cell + 4, y + 18, title, "".join(out))
