"""The cockpit's charts, drawn on the server as SVG: no script, no library, they print and scale
to a phone's width (a ``viewBox`` and ``width: 100%``). Each chart carries ``role="img"``, a
``<title>`` and a ``<desc>`` with the same text summary the page shows beside it; the page also
shows the numbers as a table."""

from __future__ import annotations

from markupsafe import Markup, escape

from contest.i18n import format_date, t
from judging.domain.round_cockpit import BurnDown

WIDTH, HEIGHT = 480, 270
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 16, 50


def burn_down_summary(burn: BurnDown) -> str:
    """One or two sentences a reader (or a screen reader) takes away from the burn-down."""
    if not burn.total:
        return t("No sheets are assigned in this round yet.")
    left = burn.total - burn.submitted
    text = t("{done} of {total} sheets submitted ({percent}%), {left} still to submit.",
             done=f"{burn.submitted:,}", total=f"{burn.total:,}", percent=burn.submitted * 100 // burn.total,
             left=f"{left:,}")
    if burn.deadline is None:
        return text + " " + t("The edition sets no deadline for this round.")
    text += " " + t("Deadline: {date}.", date=format_date(burn.deadline, with_time=False))
    behind = burn.behind
    if behind is None:
        return text
    if behind > 0:
        return text + " " + t("{n} sheets behind an even pace to the deadline.", n=f"{behind:,}")
    if behind < 0:
        return text + " " + t("{n} sheets ahead of an even pace to the deadline.", n=f"{-behind:,}")
    return text + " " + t("On an even pace to the deadline.")


def burn_down_svg(burn: BurnDown, *, chart_id: str = "burn") -> Markup:
    """The burn-down as an SVG: sheets still to submit per day (solid), the even pace to the
    deadline (dashed), the deadline and today as vertical lines, Thai (B.E.) dates on the axis."""
    days = burn.days
    if not days or not burn.total:
        return Markup("")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(days) - 1)

    def x(i: int) -> float:
        return LEFT + i * step

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / burn.total)

    actual = " ".join(f"{x(i):.1f},{y(d.remaining):.1f}" for i, d in enumerate(days) if d.remaining is not None)
    ideal = " ".join(f"{x(i):.1f},{y(d.ideal):.1f}" for i, d in enumerate(days) if d.ideal is not None)
    title = escape(t("Sheets still to submit, day by day"))
    desc = escape(burn_down_summary(burn))
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-labelledby="{chart_id}-t {chart_id}-d" preserveAspectRatio="xMidYMid meet">',
             f'<title id="{chart_id}-t">{title}</title><desc id="{chart_id}-d">{desc}</desc>']
    for value in (0, burn.total / 2, burn.total):
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}"/>'
                     f'<text class="tick" x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:,.0f}</text>')
    marks = {0: "start", len(days) - 1: "end"}
    for i, d in enumerate(days):
        if burn.deadline is not None and d.day == burn.deadline:
            marks[i] = "deadline"
            parts.append(f'<line class="deadline" x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{TOP}" y2="{TOP + plot_h}"/>'
                         f'<text class="tick" x="{x(i) - 4:.1f}" y="{TOP + 14}" text-anchor="end">'
                         f'{escape(t("Deadline"))}</text>')
        if d.day == burn.today and i not in (0, len(days) - 1):
            parts.append(f'<line class="today" x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{TOP}" y2="{TOP + plot_h}"/>')
    for i in sorted(marks):
        anchor = "start" if i == 0 else "end" if i == len(days) - 1 else "middle"
        parts.append(f'<text class="tick" x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 20}" text-anchor="{anchor}">'
                     f'{escape(format_date(days[i].day, with_time=False, short=True))}</text>')
    if ideal:
        parts.append(f'<polyline class="ideal" points="{ideal}"/>')
    if actual:
        parts.append(f'<polyline class="actual" points="{actual}"/>')
    parts.append(f'<text class="legend" x="{LEFT}" y="{HEIGHT - 6}">— {escape(t("Still to submit"))}'
                 f'{"  - - " + escape(t("Even pace to the deadline")) if ideal else ""}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
