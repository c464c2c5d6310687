"""Charts as inline SVG, drawn on the server: a batch strip, horizontal bars and a trend line.

Colours are SVG presentation attributes (no inline styles, which the Content-Security-Policy
refuses); every mark carries a <title> with its exact value and `data-*` attributes that say
what it is, for people and for tests alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .html import esc

STATUS_COLOURS = {
    "success": "#2da44e",
    "fail": "#cf222e",
    "running": "#0969da",
    "waiting": "#d4a72c",
    "decision": "#d4a72c",
    "init": "#d0d7de",
    "cancel": "#8c959f",
}
BAR = "#0969da"
SEVERITY_COLOURS = {"1": "#cf222e", "2": "#e16f24", "3": "#d4a72c", "4": "#8c959f"}


def strip(
    batches: Sequence[tuple[int, str, str]],
    href: Callable[[int], str] | None = None,
    width: int = 960,
) -> str:
    """One cell per batch `(number, status, title)`, left to right; cells shrink to fit and
    link to `href(number)` when given."""
    n = max(1, len(batches))
    gap = 2 if n < 200 else 0
    cell = max(1.0, (width - gap * (n - 1)) / n)
    parts = []
    for i, (number, status, title) in enumerate(batches):
        x = i * (cell + gap)
        colour = STATUS_COLOURS.get(status, "#8c959f")
        mark = (
            f'<rect class="batch" data-batch="{number}" data-status="{esc(status)}" '
            f'x="{x:.1f}" y="0" width="{cell:.1f}" height="28" rx="3" fill="{colour}">'
            f"<title>{esc(title)}</title></rect>"
        )
        if cell >= 18:
            mark += (
                f'<text x="{x + cell / 2:.1f}" y="19" font-size="12" text-anchor="middle" '
                f'fill="#fff">{number}</text>'
            )
        parts.append(f'<a href="{esc(href(number))}">{mark}</a>' if href else mark)
    return (
        f'<svg class="strip" role="img" aria-label="batches" width="{width}" height="28" '
        f'viewBox="0 0 {width} 28" xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>'
    )


def bars(
    items: Sequence[tuple[str, int]],
    *,
    label: str,
    kind: str,
    colours: dict[str, str] | None = None,
    names: dict[str, str] | None = None,
    width: int = 460,
) -> str:
    """Horizontal bars, one per `(key, value)`, longest first as given."""
    if not items:
        return f'<p class="muted">No {esc(label.lower())}.</p>'
    row, left, right = 24, 110, 70
    top = max(v for _, v in items) or 1
    span = width - left - right
    height = row * len(items) + 4
    parts = []
    for i, (key, value) in enumerate(items):
        y = i * row + 2
        w = max(1.0, span * value / top) if value else 0
        name = (names or {}).get(key, key)
        colour = (colours or {}).get(key, BAR)
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" font-size="12" text-anchor="end" '
            f'fill="#1f2328">{esc(name)}</text>'
            f'<rect class="bar" data-kind="{esc(kind)}" data-key="{esc(key)}" '
            f'data-value="{value}" x="{left}" y="{y + 2}" width="{w:.1f}" height="{row - 6}" '
            f'rx="2" fill="{colour}"><title>{esc(name)}: {value}</title></rect>'
            f'<text x="{left + w + 6:.1f}" y="{y + 15}" font-size="12" '
            f'fill="#59636e">{value:,}</text>'
        )
    return (
        f'<svg class="chart-{esc(kind)}" role="img" aria-label="{esc(label)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>'
    )


def trend(points: Sequence[tuple[str, int]], *, label: str, width: int = 460) -> str:
    """A line over `(x label, value)` points, oldest first."""
    if not points:
        return f'<p class="muted">No {esc(label.lower())} yet.</p>'
    height, pad, bottom = 160, 36, 22
    top_pad = 22
    top = max(v for _, v in points) or 1
    n = len(points)
    step = (width - 2 * pad) / max(1, n - 1)

    def xy(i: int, v: int) -> tuple[float, float]:
        x = pad + (i * step if n > 1 else (width - 2 * pad) / 2)
        return x, top_pad + (height - bottom - top_pad - 4) * (1 - v / top)

    coords = [xy(i, v) for i, (_, v) in enumerate(points)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    parts = [
        f'<line x1="{pad}" y1="{height - bottom}" x2="{width - pad}" y2="{height - bottom}" '
        'stroke="#d1d9e0"/>',
        f'<polyline points="{line}" fill="none" stroke="{BAR}" stroke-width="2"/>',
    ]
    for (x, y), (name, value) in zip(coords, points, strict=True):
        parts.append(
            f'<circle class="point" data-x="{esc(name)}" data-value="{value}" cx="{x:.1f}" '
            f'cy="{y:.1f}" r="4" fill="{BAR}"><title>{esc(name)}: {value}</title></circle>'
            f'<text x="{x:.1f}" y="{y - 8:.1f}" font-size="11" text-anchor="middle" '
            f'fill="#1f2328">{value:,}</text>'
            f'<text x="{x:.1f}" y="{height - 6}" font-size="11" text-anchor="middle" '
            f'fill="#59636e">{esc(name)}</text>'
        )
    return (
        f'<svg class="chart-trend" role="img" aria-label="{esc(label)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>'
    )
