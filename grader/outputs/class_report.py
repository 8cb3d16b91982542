"""The class report a teacher reads: `report.md` and the two plots it links, written from the rows alone.

`write_report(rows, parts, out_dir)` renders `summary(rows, parts)` (see `grader.outputs.class_summary`) as
Markdown: the headline numbers, the parts and their tests, the diagnosed mistakes by frequency with what
each one is, who could not be graded and why, and a line per student. The plots are drawn headless
(`Figure` + `FigureCanvasAgg`, never pyplot, which would pick a GUI backend and keep global state) and
saved without a "Software" stamp, so that the same class gives the same bytes on every run.

Every file is written to a temporary name in the same folder and renamed when complete (`write_atomic`):
an interrupted run leaves the old file or the new one, never half of one. The plots are written before
`report.md`, so the report never links to a plot that is not there yet.

Student ids, names and messages are untrusted (they come from LMS folder names and from what a student's
file printed): in the Markdown they are escaped, so that a name can neither break a table nor become a
link, an image or HTML. Who made a mistake is said by name where the id could not spell it
(`members.display_name`: 李雷, not `student-3a47328a`).
"""

from __future__ import annotations

import functools
import io
import math
import re
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from grader.atomic import PRIVATE, write_atomic
from grader.explain.mistakes import find, optimizer_for
from grader.judge.trajectory import MISTAKES as TRAJECTORY_MISTAKES
from grader.outputs.class_summary import Row, format_number, gradebook, summary
from grader.outputs.members import display_name

__all__ = ["DISTRIBUTION_NAME", "PASS_RATES_NAME", "REPORT_NAME", "render_markdown", "write_report"]

REPORT_NAME = "report.md"
DISTRIBUTION_NAME = "score_distribution.png"
PASS_RATES_NAME = "part_pass_rates.png"

#: How much of an error message the report shows: enough for "SyntaxError at line 12", not a traceback.
_MESSAGE_CHARS = 300
#: Plot size and resolution: readable on a laptop screen, a few tens of kB each.
_FIGSIZE, _DPI = (7.0, 3.6), 100
#: PNG metadata: no "Software: Matplotlib version ..." stamp, so bytes do not change with the version.
_PNG_METADATA = {"Software": None}


def write_report(rows: list[Row], parts: list[str], out_dir: Path) -> list[Path]:
    """Write `score_distribution.png`, `part_pass_rates.png` and `report.md` into `out_dir`.

    Returns the paths in the order written. Works for any class, an empty one included: a plot with
    nothing to show says so, and is still written, so that the report's links always resolve.
    """
    out_dir = Path(out_dir)
    facts = summary(rows, parts)
    written = [
        write_atomic(out_dir / DISTRIBUTION_NAME, _distribution_png(rows, facts), PRIVATE),
        write_atomic(out_dir / PASS_RATES_NAME, _pass_rates_png(facts), PRIVATE),
    ]
    written.append(write_atomic(out_dir / REPORT_NAME, render_markdown(rows, parts, facts), PRIVATE))
    return written


# ---------------------------------------------------------------------------------------------- Markdown

#: Inline Markdown syntax (GitHub's included: ~ strikethrough, $ math). Block syntax (#, -, 1.) cannot
#: start inside a table cell or after other text, and ( ) only make a link after ], which is escaped.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]<>|~&$])")


def _md(text: str) -> str:
    """Untrusted text as literal inline Markdown: one line, every syntax character backslash-escaped."""
    text = " ".join(str(text).split())
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def _message(text: str) -> str:
    text = " ".join(str(text).split()) or "(no message)"
    if len(text) > _MESSAGE_CHARS:
        text = text[: _MESSAGE_CHARS - 1] + "…"
    return _md(text)


def _percent(fraction: float | None) -> str:
    return "n/a" if fraction is None else f"{100 * fraction:.0f}%"


def _points(value: float | None, decimals: int = 2) -> str:
    """Points for a reader: at most two decimals (a mean of 10.4666667 reads as 10.47)."""
    return "n/a" if value is None else format_number(round(value, decimals))


def _table(header: list[str], lines: list[list[str]]) -> list[str]:
    numeric = [all(_looks_numeric(line[column]) for line in lines) if lines else False for column in range(len(header))]
    rule = ["---:" if right else "---" for right in numeric]
    return ["| " + " | ".join(cells) + " |" for cells in (header, rule, *lines)]


def _looks_numeric(cell: str) -> bool:
    return bool(re.fullmatch(r"[0-9.%]*|n/a", cell))


@functools.cache
def _explain(part: str, slug: str) -> tuple[str, str]:
    """(what the mistake is, how to fix it) from the bank of known mistakes, or (slug, "") if not in it."""
    if part == "trajectory" and slug in TRAJECTORY_MISTAKES:
        return TRAJECTORY_MISTAKES[slug]
    try:
        mistake = find(part, slug)
    except ValueError:  # a part without a bank (the trajectory) or a slug the bank does not know
        return slug, ""
    return f"{optimizer_for(part).__name__} {mistake.title}", mistake.hint


def render_markdown(rows: list[Row], parts: list[str], facts: dict | None = None) -> str:
    """The text of `report.md` (`facts` is `summary(rows, parts)`, computed here when not given)."""
    facts = summary(rows, parts) if facts is None else facts
    counts, score, most = facts["counts"], facts["score"], facts["max_score"]
    lines = ["# Class report", ""]

    lines.append(
        f"{counts['students']} student(s): {counts['graded']} graded, {counts['errors']} could not be "
        f"graded, {counts['timeouts']} timed out; {counts['full_marks']} with full marks."
    )
    if score is not None:
        points, fraction = score["points"], score["fraction"]
        lines += [
            "",
            f"Out of {_points(most)} points, over the {counts['graded']} graded student(s) "
            "(the others are not in these numbers; the gradebook CSV gives them 0):",
            "",
        ]
        header = ["", "mean", "median", "min", "max", "stdev"]
        keys = header[1:]
        body = [["points", *(_points(points[key]) for key in keys)]]
        if fraction is not None:
            body.append(["% of max", *(_percent(fraction[key]) for key in keys)])
        lines += _table(header, body)
    else:
        lines += ["", "Nobody was graded, so there are no score statistics."]
    lines += ["", f"![Distribution of the total score]({DISTRIBUTION_NAME})", ""]

    lines += ["## Parts", "", "Pass rate: the share of graded students with every point of the part.", ""]
    lines += _table(
        ["part", "max", "mean", "mean %", "full marks", "pass rate"],
        [
            [
                _md(part),
                _points(entry["max_score"]),
                _points(entry["mean"]),
                _percent(entry["mean_fraction"]),
                str(entry["full_marks"]),
                _percent(entry["pass_rate"]),
            ]
            for part, entry in facts["parts"].items()
        ],
    )
    lines += ["", f"![Pass rate per part]({PASS_RATES_NAME})", ""]
    for part in [*facts["parts"], *sorted({test["part"] for test in facts["tests"].values()} - set(facts["parts"]))]:
        tests = [test for test in facts["tests"].values() if test["part"] == part]
        if not tests:
            continue
        lines += [f"### {_md(part)}", ""]
        lines += _table(
            ["test", "points", "passed", "pass rate"],
            [
                [_md(test["name"]), _points(test["max_score"]), str(test["passed"]), _percent(test["pass_rate"])]
                for test in tests
            ],
        )
        lines.append("")

    lines += ["## Mistakes by frequency", ""]
    if facts["diagnoses"]:
        lines += [
            "The mistake each failing test recognised in a student's output; a student counts once per mistake.",
            "",
        ]
        body = []
        shown = {row.student: display_name(row.student, row.name) for row in rows}
        for entry in facts["diagnoses"]:
            what, fix = _explain(entry["part"], entry["slug"])
            key = f"{entry['part']}/{entry['slug']}"
            body.append(
                [
                    f"`{key}`" if _is_slug(entry) else _md(key),
                    _md(what),
                    _md(fix) or "n/a",
                    str(entry["count"]),
                    ", ".join(_md(shown.get(student, student)) for student in entry["students"]),
                ]
            )
        lines += _table(["mistake", "what it is", "fix", "students", "who"], body)
    else:
        lines.append("No known mistake was recognised.")
    lines.append("")

    lines += ["## Not graded", ""]
    problems = [("error", entry) for entry in facts["errors"]] + [("timeout", entry) for entry in facts["timeouts"]]
    if problems:
        lines += _table(
            ["student", "name", "status", "why"],
            [
                [_md(entry["student"]), _md(entry["name"]), status, _message(entry["message"])]
                for status, entry in sorted(problems, key=lambda item: item[1]["student"])
            ],
        )
    else:
        lines.append("Every submission was graded." if rows else "No students.")
    lines.append("")

    lines += ["## Students", ""]
    entries = gradebook(rows, parts)
    if entries:
        lines += ["As in the gradebook CSV: a student who could not be graded has 0 points.", ""]
        lines += _table(
            ["student", "name", "status", "total", "max", *map(_md, parts)],
            [
                [
                    _md(entry["student"]),
                    _md(entry["name"]),
                    entry["status"],
                    format_number(entry["total"]),
                    format_number(entry["max"]),
                    *(format_number(entry["parts"][part]) for part in parts),
                ]
                for entry in entries
            ],
        )
    else:
        lines.append("No students.")
    lines.append("")
    return "\n".join(lines)


def _is_slug(entry) -> bool:
    """True when part/slug are plain identifiers, safe to show as code; anything else is escaped."""
    return bool(re.fullmatch(r"[A-Za-z0-9_]+", entry["part"]) and re.fullmatch(r"[A-Za-z0-9_]+", entry["slug"]))


# ------------------------------------------------------------------------------------------------- plots


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI, metadata=_PNG_METADATA)
    return buffer.getvalue()


def _empty(axes, text):
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes, color="0.4")
    axes.set_xticks([])
    axes.set_yticks([])


def _bin_width(most: float, totals: list[float]) -> float:
    """A bar per point (per half point where someone has one) up to 60 points, else about 30 round bars.

    Bars are centred on their score, so a total of 6.5 is not drawn as a 6 or a 7.
    """
    if most <= 60:
        return 1.0 if all(float(total).is_integer() for total in totals) else 0.5
    raw = most / 30
    power = 10 ** math.floor(math.log10(raw))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= raw)


def _distribution_png(rows, facts) -> bytes:
    """Histogram of the graded students' totals, x from 0 to the class's max (bars centred on points)."""
    figure = Figure(figsize=_FIGSIZE, layout="constrained")
    axes = figure.add_subplot()
    most = facts["max_score"]
    totals = [row.score for row in rows if row.status == "graded"]
    if not totals or not most:
        _empty(axes, "no graded submissions" if not totals else "the rubric is worth 0 points")
    else:
        width = _bin_width(most, totals)
        count = math.ceil(most / width - 1e-9) + 1
        edges = [(index - 0.5) * width for index in range(count + 1)]
        axes.hist(totals, bins=edges, color="#4477aa", edgecolor="white")
        axes.set_xlim(edges[0], edges[-1])
        axes.set_xlabel(f"total score (out of {format_number(most)})")
        axes.set_ylabel("students")
        # the default major locator is an AutoLocator (a MaxNLocator), which takes `integer`; its base type does not
        axes.yaxis.get_major_locator().set_params(integer=True)  # type: ignore[call-arg]
    axes.set_title(f"Score distribution ({len(totals)} graded)")
    return _png(figure)


def _pass_rates_png(facts) -> bytes:
    """A bar per rubric part: the share of graded students with full points; 'n/a' for a part worth 0."""
    figure = Figure(figsize=_FIGSIZE, layout="constrained")
    axes = figure.add_subplot()
    parts = list(facts["parts"])
    if not parts or not facts["counts"]["graded"]:
        _empty(axes, "no parts" if not parts else "no graded submissions")
    else:
        rates = [facts["parts"][part]["pass_rate"] for part in parts]
        heights = [100 * rate if rate is not None else 0.0 for rate in rates]
        bars = axes.bar(range(len(parts)), heights, color="#228833")
        axes.bar_label(bars, labels=[_percent(rate) for rate in rates], padding=2)
        axes.set_xticks(range(len(parts)), parts)
        axes.set_ylim(0, 110)
        axes.set_ylabel("students with full points (%)")
    axes.set_title("Pass rate per part")
    return _png(figure)
