"""The class-level files of a batch run: the gradebook CSV, the summary, the report, the table printed."""

import json
import unicodedata
from pathlib import Path

from grader.outputs.class_report import write_report
from grader.outputs.class_summary import parts_of, scores_csv, summary
from grader.outputs.members import display_name, rows_of
from grader.outputs.terminal import printable

from ..atomic import PRIVATE, write_atomic


def write_outputs(entries, results, out):
    """Write scores.csv, summary.json and the report into `out`; return the class table as text."""
    out = Path(out)
    rows, parts = rows_of(entries, results), parts_of(results)
    write_atomic(out / "scores.csv", scores_csv(rows, parts), PRIVATE)  # OUT may be shared: see runner
    write_atomic(out / "summary.json", json.dumps(summary(rows, parts), indent=2, sort_keys=True) + "\n", PRIVATE)
    write_report(rows, parts, out)
    return table(rows, parts, out)


def columns(text):
    """How many terminal columns `text` takes: a wide (CJK) character two, a combining mark none."""
    return sum(
        0 if unicodedata.combining(char) else 2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text
    )


def table(rows, parts, out):
    """The class at a glance: a line per student (by name where the id could not spell it), then where
    everything was written. Columns stay aligned with names in any script: wide characters count two."""
    # Student names come from file names, which may hold terminal controls: shown as escapes, and measured so.
    shown = [printable(display_name(row.student, row.name)) for row in rows]
    width = max([len("student")] + [columns(name) for name in shown])
    header = f"{'student':<{width}}  {'total':>7}  " + "  ".join(f"{part[:10]:>10}" for part in parts) + "  status"
    lines = [header, "-" * len(header)]
    for row, name in zip(rows, shown):
        parts_data = row.result["extra_data"]["parts"]
        cells = "  ".join(f"{parts_data[part]['score']:>5g}/{parts_data[part]['max_score']:<4g}" for part in parts)
        total = f"{row.result['score']:g}/{row.result['max_score']:g}"
        lines.append(f"{name}{' ' * (width - columns(name))}  {total:>7}  {cells}  {row.status}")
    lines.append(
        f"\n{len(rows)} students: results in {out / 'results'}, gradebook {out / 'scores.csv'}, "
        f"summary {out / 'summary.json'}, report {out / 'report.md'}"
    )
    lines += isolation_lines(rows)
    return printable("\n".join(lines))  # student names come from file names, which may hold terminal controls


def isolation_lines(rows):
    """What kept student code apart in this run, said once; reduced isolation said plainly."""
    seen = {}
    for row in rows:
        isolation = row.result["extra_data"].get("isolation")
        if isolation:
            seen.setdefault((isolation["level"], isolation["summary"], isolation["detail"]), []).append(row.student)
    lines = []
    for (level, said, detail), students in sorted(seen.items()):
        who = "" if len(seen) == 1 else f" ({len(students)} students)"
        lines.append(f"isolation{who}: {said}")
        if level != "full":
            lines.append(f"  what that means: {detail}")
    return lines
