"""Server-rendered SVG bar charts of the outcome tables (no script, no library, no internet).

`bar_chart` lays out a grouped bar chart: one group per row, one bar per column. A withheld
count is drawn as an outlined, dashed bar up to 5 with "<5" over it (we only know it is under 5),
never as a value. The template (outcomes.html) draws the shapes; the table under each chart
carries the same numbers for screen readers and for copying."""

from __future__ import annotations

from dataclasses import dataclass

from app.schemas.outcomes import OutcomeTable

# Colour per column (series), distinguishable for the common colour-vision deficiencies and at
# least 3:1 against white (WCAG 1.4.11).
PALETTE = ("#0b4f8a", "#b35806", "#1b7837", "#762a83", "#7f3b08", "#2d6a8f")
WITHHELD = 5  # the height a withheld count is drawn to: it is under 5


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    withheld: bool
    text: str  # the value ("<5" when withheld), written over the bar
    text_x: float
    text_y: float


@dataclass(frozen=True)
class Tick:
    y: float
    text: str


@dataclass(frozen=True)
class GroupLabel:
    x: float
    text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    bottom: float  # the y of the x axis
    bars: list[Bar]
    ticks: list[Tick]
    groups: list[GroupLabel]
    legend: list[tuple[str, str]]  # (colour, text)
    values_shown: bool  # bars wide enough to carry their value


def _nice_max(value: int) -> int:
    for step in (5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if value <= step * 4:
            return max(step, -(-value // step) * step)
    return -(-value // 1000) * 1000


def bar_chart(table: OutcomeTable, group_labels: list[str], series_labels: list[str], *, width: int = 880,
              height: int = 240) -> Chart:
    left, right, top, bottom_margin = 44, 8, 16, 34
    plot_w, plot_h = width - left - right, height - top - bottom_margin
    bottom = top + plot_h
    values = [[WITHHELD if c.suppressed or c.value is None else c.value for c in row.cells] for row in table.rows]
    ymax = _nice_max(max([WITHHELD, *(v for row in values for v in row)]))
    n_groups, n_series = max(len(table.rows), 1), max(len(table.columns), 1)
    group_w = plot_w / n_groups
    bar_w = min(group_w * 0.8 / n_series, 48)
    bars: list[Bar] = []
    groups: list[GroupLabel] = []
    for g, row in enumerate(table.rows):
        start = left + g * group_w + (group_w - bar_w * n_series) / 2
        groups.append(GroupLabel(round(left + g * group_w + group_w / 2, 1), group_labels[g]))
        for s, cell in enumerate(row.cells):
            value = values[g][s]
            h = plot_h * value / ymax
            x = start + s * bar_w
            bars.append(Bar(
                x=round(x + 1, 1), y=round(bottom - h, 1), width=round(max(bar_w - 2, 1), 1), height=round(h, 1),
                colour=PALETTE[s % len(PALETTE)], withheld=cell.suppressed,
                text="<5" if cell.suppressed else str(cell.value), text_x=round(x + bar_w / 2, 1),
                text_y=round(bottom - h - 3, 1),
            ))
    ticks = [Tick(round(bottom - plot_h * t / 4, 1), str(ymax * t // 4)) for t in range(5)]
    legend = [(PALETTE[s % len(PALETTE)], series_labels[s]) for s in range(len(table.columns))]
    return Chart(width, height, left, bottom, bars, ticks, groups, legend, values_shown=bar_w >= 16)
