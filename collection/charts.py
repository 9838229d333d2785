"""A small server-side bar chart of plays per month (SVG geometry; the template draws it)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import formats

from collection.queries import MonthPlays

HEIGHT = 120  # drawing height of the bars, in the SVG's own units
LABEL_SPACE = 16  # below the bars, for the year labels


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str


@dataclass
class Tick:
    x: float
    label: str


@dataclass
class BarChart:
    width: float
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    peak: int


def month_bars(months: list[MonthPlays]) -> BarChart | None:
    """One bar per month (gaps included), scaled to the busiest month; ticks at each January."""
    if not months:
        return None
    step = max(3, min(24, 720 // len(months)))
    gap = 1 if step < 8 else 2
    peak = max(m.listens for m in months) or 1
    bars, ticks = [], []
    years = {m.month.year for m in months}
    every = max(1, len(years) // 10)  # at most about ten year labels
    for i, m in enumerate(months):
        h = round(HEIGHT * m.listens / peak, 1)
        month_name = formats.date_format(m.month, "YEAR_MONTH_FORMAT")
        bars.append(Bar(i * step, HEIGHT - h, step - gap, h, f"{month_name}: {m.listens}"))
        if (m.month.month == 1 or i == 0) and m.month.year % every == 0:
            ticks.append(Tick(i * step, str(m.month.year)))
    return BarChart(
        width=len(months) * step, height=HEIGHT + LABEL_SPACE, bars=bars, ticks=ticks, peak=peak
    )
