"""Inline SVG of runs on experiment 1's bowl: contour lines once per page, then a few polylines per plot.

Drawn by hand rather than by matplotlib per student: a page of six plots costs microseconds, not a
second, so that a class of 40 pays almost nothing for its pages (bench/batch_speed.py measures it).
The contour lines come from contourpy (matplotlib's own contouring) once per process and are defined
once in each page (`defs()`); every plot reuses them with <use>. Only numbers go into the SVG, each
formatted here from a float the caller has checked (runs.points_of), and our own labels, in the language
spoken (the browser draws them with a CJK font where they need one); titles are escaped all the same.
"""

import functools
import html

import contourpy
import numpy as np

from grader.i18n import _
from reference.experiments import settings as experiment

VIEW = ((-2.0, 5.0), (-2.0, 5.0))  # experiment 1's view of the bowl
SIZE = 300  # user units of every plot's square; the page scales them
MARGIN = 24
STUDENT_COLOR, REFERENCE_COLOR, PARTING_COLOR = "#d55e00", "#0072b2", "#cc0000"


def _x(value):
    (low, high), span = VIEW[0], SIZE - 2 * MARGIN
    return MARGIN + (value - low) / (high - low) * span


def _y(value):
    (low, high), span = VIEW[1], SIZE - 2 * MARGIN
    return SIZE - MARGIN - (value - low) / (high - low) * span


def _coordinates(points):
    # Points were checked to lie within runs.FAR; clamp to a band around the view so that no renderer
    # meets a coordinate of 10^4 pixels: a line leaving the view still leaves it in the same direction.
    return " ".join(f"{min(max(_x(a), -SIZE), 2 * SIZE):.1f},{min(max(_y(b), -SIZE), 2 * SIZE):.1f}" for a, b in points)


@functools.lru_cache(maxsize=1)
def _contour_paths():
    (x_low, x_high), (y_low, y_high) = VIEW
    x1, x2 = np.meshgrid(np.linspace(x_low, x_high, 120), np.linspace(y_low, y_high, 120))
    w1, w2 = experiment.BOWL_W
    surface = w1 * x1 * x1 + w2 * x2 * x2
    generator = contourpy.contour_generator(x1, x2, surface)
    paths = []
    for level in np.linspace(0.5, 50, 14) ** 1.0:
        for line in generator.lines(float(level)):
            paths.append("M" + " L".join(f"{_x(a):.1f},{_y(b):.1f}" for a, b in line[::2]))
    return paths


def defs():
    """The page's one hidden <svg> holding the bowl (frame, contour lines, ticks, optimum) as #bowl."""
    low, high = VIEW[0]
    ticks = []
    for value in range(int(low), int(high) + 1):
        ticks.append(f'<text x="{_x(value):.1f}" y="{SIZE - MARGIN + 14}" text-anchor="middle">{value}</text>')
        ticks.append(f'<text x="{MARGIN - 4}" y="{_y(value) + 4:.1f}" text-anchor="end">{value}</text>')
    contours = "".join(f'<path d="{path}"/>' for path in _contour_paths())
    return (
        f'<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
        f'<clipPath id="view"><rect x="{MARGIN}" y="{MARGIN}" width="{SIZE - 2 * MARGIN}" '
        f'height="{SIZE - 2 * MARGIN}"/></clipPath>'
        f'<g id="bowl"><rect x="{MARGIN}" y="{MARGIN}" width="{SIZE - 2 * MARGIN}" height="{SIZE - 2 * MARGIN}" '
        f'fill="#fbfbf7" stroke="#888"/><g fill="none" stroke="#b7c9a8" stroke-width="0.8" '
        f'clip-path="url(#view)">{contours}</g>'
        f'<g font-size="10" fill="#555" font-family="sans-serif">{"".join(ticks)}</g>'
        f'<path d="M{_x(0) - 6:.1f},{_y(0):.1f} h12 M{_x(0):.1f},{_y(0) - 6:.1f} v12" stroke="#000" '
        f'stroke-width="1.5"/></g></defs></svg>'
    )


def _path(points, color, dots, dashed=False, width=1.6, opacity=1.0):
    if not points:
        return ""
    dash = ' stroke-dasharray="5 3"' if dashed else ""
    line = (
        f'<polyline points="{_coordinates(points)}" fill="none" stroke="{color}" stroke-width="{width}"{dash}/>'
        if len(points) > 1
        else ""
    )
    marks = (
        "".join(
            f'<circle cx="{_x(a):.1f}" cy="{_y(b):.1f}" r="2.2"/>'
            for a, b in points
            if VIEW[0][0] <= a <= VIEW[0][1] and VIEW[1][0] <= b <= VIEW[1][1]
        )
        if dots
        else ""
    )
    return f'<g clip-path="url(#view)" fill="{color}" opacity="{opacity}">{line}{marks}</g>'


def run_svg(run, title, small=False):
    """One run: the reference (dashed blue) and the student's points (orange) over the bowl, with the
    point where they part circled in red. `small`: a thumbnail without dots or labels (the class page)."""
    student, reference, parting = run["student"], run["reference"], run["parts_at"]
    size = 130 if small else 340
    body = [
        '<use href="#bowl"/>',
        _path(reference, REFERENCE_COLOR, dots=False, dashed=True, width=3.2, opacity=0.55),
        _path(student, STUDENT_COLOR, dots=not small, width=2.2 if small else 1.6),
    ]
    if parting is not None and parting < len(student):
        a, b = student[parting]
        body.append(
            f'<circle cx="{min(max(_x(a), 0), SIZE):.1f}" cy="{min(max(_y(b), 0), SIZE):.1f}" '
            f'r="{9 if small else 7}" fill="none" stroke="{PARTING_COLOR}" stroke-width="2"/>'
        )
        if not small:
            parts_here = _("parts from the reference at step {step}").format(step=parting)
            body.append(
                f'<text x="{SIZE / 2:.0f}" y="14" text-anchor="middle" font-size="11" fill="{PARTING_COLOR}" '
                f'font-family="sans-serif">{parts_here}</text>'
            )
    if not student and not small:
        nothing = _("nothing of yours to draw")
        body.append(
            f'<text x="{SIZE / 2:.0f}" y="14" text-anchor="middle" font-size="11" fill="#555" '
            f'font-family="sans-serif">{nothing}</text>'
        )
    return (
        f'<svg class="plot" viewBox="0 0 {SIZE} {SIZE}" width="{size}" height="{size}" role="img">'
        f"<title>{html.escape(title)}</title>{''.join(body)}</svg>"
    )
