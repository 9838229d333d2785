"""A small server-side bar chart of plays per month: SVG marks built here in one pass (an
artist heard for ten years has 120 bars; template nodes per bar would cost more than the page's
queries), plus the same figures as rows for the accessible table beside it."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from django.utils.dates import MONTHS
from django.utils.formats import number_format
from django.utils.safestring import SafeString, mark_safe

from collection.queries import MonthPlays

HEIGHT = 120  # drawing height of the bars, in the SVG's own units
LABEL_SPACE = 16  # below the bars, for the year labels
MIN_WIDTH = 360  # a few months stay narrow bars on the left, not a wall of colour


@dataclass
class BarChart:
    width: int
    height: int
    marks: SafeString  # <rect> per month (with a <title> tooltip) and <text> year labels
    rows: list[tuple[str, str]]  # (month, plays) for the table
    peak: int


def month_bars(months: list[MonthPlays]) -> BarChart | None:
    """One bar per month (gaps included), scaled to the busiest month; a label at each January."""
    if not months:
        return None
    names = {i: str(MONTHS[i]) for i in range(1, 13)}  # translated once, not once per bar
    step = max(3, min(24, 720 // len(months)))
    gap = 1 if step < 8 else 2
    peak = max(m.listens for m in months) or 1
    every = max(1, len({m.month.year for m in months}) // 10)  # about ten year labels at most
    marks, rows = [], []
    for i, m in enumerate(months):
        label = f"{names[m.month.month]} {m.month.year}"
        plays = number_format(m.listens, force_grouping=True)
        h = round(HEIGHT * m.listens / peak, 1)
        marks.append(
            f'<rect x="{i * step}" y="{HEIGHT - h:g}" width="{step - gap}" height="{h:g}">'
            f"<title>{escape(label)}: {escape(plays)}</title></rect>"
        )
        if (m.month.month == 1 or i == 0) and m.month.year % every == 0:
            marks.append(
                f'<text x="{i * step}" y="{HEIGHT + LABEL_SPACE - 2}">{m.month.year}</text>'
            )
        rows.append((label, plays))
    return BarChart(
        width=max(len(months) * step, MIN_WIDTH),
        height=HEIGHT + LABEL_SPACE,
        marks=mark_safe("".join(marks)),  # numbers and escaped text only
        rows=rows,
        peak=peak,
    )
