"""Chart geometry for server-rendered SVG: plain numbers in, rectangles and points out.

The back office draws its charts in the template (no script, no CDN, nothing the strict CSP
would refuse); these functions only decide where things go. Coordinates are SVG user units
in a ``width`` x ``height`` plot area whose origin is the top left corner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    label: str


@dataclass(frozen=True, slots=True)
class Tick:
    value: int
    position: float  # y for a vertical axis, x for a horizontal one


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    maximum: int  # the axis' top value (a round number at or above the largest value)
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    points: str = ""  # "x,y x,y ..." for a polyline, when the chart is a line


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 2.5, 5 or 10 times a power of ten that is at least ``value``
    (at least 1): a top for the axis that reads well."""
    if value <= 1:
        return 1
    power = 1
    while power * 10 < value:
        power *= 10
    for step in (1, 2, 2.5, 5, 10):
        top = int(step * power)
        if top >= value:
            return top
    return power * 10  # pragma: no cover (10 * power >= value by the loop above)


def tick_count(maximum: int, most: int = 5) -> int:
    """How many steps to divide the axis into (at most ``most``) so that each step is a whole
    1, 2 or 5 times a power of ten: 0, 50.000, 100.000 ... rather than 62.500, 125.000 ..."""
    for count in range(min(most, maximum), 1, -1):
        step, remainder = divmod(maximum, count)
        if remainder == 0 and str(step).rstrip("0") in ("1", "2", "5"):
            return count
    return 1


def _ticks(maximum: int, length: float, most: int, *, vertical: bool) -> tuple[Tick, ...]:
    count = tick_count(maximum, most)
    ticks = []
    for i in range(count + 1):
        value = maximum * i // count
        share = value / maximum
        ticks.append(Tick(value, round(length * (1 - share) if vertical else length * share, 2)))
    return tuple(ticks)


def column_chart(
    values: Sequence[int],
    labels: Sequence[str],
    *,
    width: int = 600,
    height: int = 160,
    gap: float = 0.2,
    ticks: int = 5,
) -> Chart:
    """Vertical bars side by side, one per value, scaled to a round maximum."""
    if len(values) != len(labels):
        raise ValueError("one label per value")
    maximum = nice_ceiling(max(values, default=0))
    slot = width / len(values) if values else width
    bars = []
    for i, (value, label) in enumerate(zip(values, labels, strict=True)):
        bar_height = height * max(value, 0) / maximum
        bars.append(
            Bar(
                x=round(i * slot + slot * gap / 2, 2),
                y=round(height - bar_height, 2),
                width=round(slot * (1 - gap), 2),
                height=round(bar_height, 2),
                value=value,
                label=label,
            )
        )
    return Chart(width, height, maximum, tuple(bars), _ticks(maximum, height, ticks, vertical=True))


def bar_chart(
    values: Sequence[int],
    labels: Sequence[str],
    *,
    width: int = 400,
    row: int = 24,
    gap: float = 0.25,
    ticks: int = 5,
) -> Chart:
    """Horizontal bars, one row each (a chart of shares: chains, verdicts)."""
    if len(values) != len(labels):
        raise ValueError("one label per value")
    maximum = nice_ceiling(max(values, default=0))
    bars = tuple(
        Bar(
            x=0,
            y=round(i * row + row * gap / 2, 2),
            width=round(width * max(value, 0) / maximum, 2),
            height=round(row * (1 - gap), 2),
            value=value,
            label=label,
        )
        for i, (value, label) in enumerate(zip(values, labels, strict=True))
    )
    height = max(1, len(values)) * row
    return Chart(width, height, maximum, bars, _ticks(maximum, width, ticks, vertical=False))


def line_chart(
    values: Sequence[int],
    labels: Sequence[str],
    *,
    width: int = 600,
    height: int = 160,
    ticks: int = 5,
) -> Chart:
    """A line through the values, evenly spaced from the left edge to the right one; the
    points are also returned as zero-width bars (for their titles and the table)."""
    if len(values) != len(labels):
        raise ValueError("one label per value")
    maximum = nice_ceiling(max(values, default=0))
    step = width / (len(values) - 1) if len(values) > 1 else 0
    bars = tuple(
        Bar(
            x=round(i * step, 2),
            y=round(height - height * max(value, 0) / maximum, 2),
            width=0,
            height=round(height * max(value, 0) / maximum, 2),
            value=value,
            label=label,
        )
        for i, (value, label) in enumerate(zip(values, labels, strict=True))
    )
    points = " ".join(f"{b.x:g},{b.y:g}" for b in bars)
    return Chart(
        width, height, maximum, bars, _ticks(maximum, height, ticks, vertical=True), points
    )
