"""Server-side SVG charts: no chart library, no CDN. Colours come from CSS classes that use the
theme's variables (static/css/analytics.css); every mark carries a `<title>` (native tooltip,
read by screen readers) and a `data-tip` that static/js/charts.js shows on hover and focus."""

from __future__ import annotations

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe


def bar_chart(
    points: list[tuple[str, int, str]],
    *,
    label: str,
    width: int = 720,
    height: int = 160,
    axis_every: int = 1,
) -> SafeString:
    """Vertical bars. `points` are (axis label, value, tooltip)."""
    n = max(1, len(points))
    top = max((v for _l, v, _t in points), default=0) or 1
    pad_bottom, pad_top = 18, 6
    plot = height - pad_bottom - pad_top
    step = width / n
    bar = max(1.0, step * 0.8)
    parts = [
        format_html(
            '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}"'
            ' preserveAspectRatio="none">',
            width,
            height,
            label,
        ),
        format_html(
            '<line class="axis" x1="0" y1="{}" x2="{}" y2="{}"></line>',
            height - pad_bottom,
            width,
            height - pad_bottom,
        ),
    ]
    for i, (axis, value, tip) in enumerate(points):
        h = round(plot * value / top, 1)
        x = round(i * step + (step - bar) / 2, 1)
        y = round(height - pad_bottom - h, 1)
        parts.append(
            format_html(
                '<rect class="bar" x="{}" y="{}" width="{}" height="{}" data-tip="{}"'
                ' tabindex="0"><title>{}</title></rect>',
                x,
                y,
                round(bar, 1),
                max(h, 0.5 if value else 0),
                tip,
                tip,
            )
        )
        if axis and i % axis_every == 0:
            parts.append(
                format_html(
                    '<text class="tick" x="{}" y="{}" text-anchor="{}">{}</text>',
                    round(i * step + (0 if i == 0 else step / 2), 1),
                    height - 4,
                    "start" if i == 0 else "middle",
                    axis,
                )
            )
    parts.append("</svg>")
    return mark_safe("".join(str(p) for p in parts))


def heatmap(
    grid: list[list[int]], *, rows: list[str], cols: list[str], label: str, tip_fmt
) -> SafeString:
    """A grid of cells whose opacity follows the value; `tip_fmt(row, col, value)` → tooltip."""
    cell, left, top_pad = 26, 40, 18
    width = left + cell * len(cols)
    height = top_pad + cell * len(rows)
    peak = max((v for r in grid for v in r), default=0) or 1
    parts = [
        format_html(
            '<svg class="chart heatmap" viewBox="0 0 {} {}" role="img" aria-label="{}">',
            width,
            height,
            label,
        )
    ]
    for j, c in enumerate(cols):
        if j % 3 == 0:
            parts.append(
                format_html(
                    '<text class="tick" x="{}" y="12" text-anchor="middle">{}</text>',
                    left + j * cell + cell / 2,
                    c,
                )
            )
    for i, r in enumerate(rows):
        parts.append(
            format_html(
                '<text class="tick" x="0" y="{}">{}</text>', top_pad + i * cell + cell * 0.65, r
            )
        )
        for j, _c in enumerate(cols):
            v = grid[i][j]
            tip = tip_fmt(i, j, v)
            parts.append(
                format_html(
                    '<rect class="cell" x="{}" y="{}" width="{}" height="{}" rx="3"'
                    ' style="fill-opacity:{}" data-tip="{}" tabindex="0"><title>{}</title></rect>',
                    left + j * cell + 1,
                    top_pad + i * cell + 1,
                    cell - 2,
                    cell - 2,
                    round(0.06 + 0.94 * v / peak, 3),
                    tip,
                    tip,
                )
            )
    parts.append("</svg>")
    return mark_safe("".join(str(p) for p in parts))


def duration(seconds: int) -> str:
    """ "3 h 05 min" / "12 min"."""
    minutes = round((seconds or 0) / 60)
    if minutes >= 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes} min"


__all__ = ["bar_chart", "duration", "escape", "heatmap"]
