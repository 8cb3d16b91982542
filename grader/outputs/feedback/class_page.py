"""The class report as a page, `OUT/report.html` (beside report.md, which stays): score distribution,
pass rate per part and per test, mistakes by frequency with who made them, who could not be graded and
why, and per part every student's run on the bowl in one small-multiples figure, so outliers stand out.

Written once the batch is done, from the results and the runs the lanes saved beside each student's
page. A student whose page is missing (results graded by an earlier run with --no-feedback) gets one
now, from the result alone. Student ids, names and messages are escaped, as on the students' pages.
A student is shown by name where the id could not spell it (`members.display_name`: 李雷, not
`student-3a47328a`); the links go to the id's page. The page itself is the instructor's, in English.
"""

import base64
import json
from pathlib import Path
from urllib.parse import quote

from grader import i18n
from grader.atomic import PRIVATE, write_atomic
from grader.outputs.class_report import DISTRIBUTION_NAME, PASS_RATES_NAME, _distribution_png, _pass_rates_png
from grader.outputs.class_summary import parts_of, summary
from grader.outputs.members import display_name, rows_of

from . import FOLDER, page, plots, write_page
from . import runs as runs_module
from .page import esc

REPORT_HTML = "report.html"

STYLE = """
.grid{display:flex;flex-wrap:wrap;gap:.4em}.cell{text-align:center;font-size:.75em;width:134px}
.cell.parted svg{outline:2px solid #cc0000}
.cell.missing .why{width:130px;height:130px;overflow:hidden;border:1px dashed #999;color:#555;padding:4px;
text-align:left;word-break:break-word}.cell a{color:#222;word-break:break-all}
img{max-width:100%;height:auto}
"""


def _link(student, shown=None):
    """A link to the student's page, reading as `shown` (their display name; the id when not given)."""
    return f'<a href="{esc(FOLDER + "/" + quote(student, safe="") + ".html")}">{esc(shown or student)}</a>'


def _png(data):
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}">'


def _num(value):
    return "n/a" if value is None else f"{float(value):.4g}"


def _percent(value):
    return "n/a" if value is None else f"{100 * value:.0f}%"


def _saved_runs(folder, student):
    try:
        return runs_module.load_runs(json.loads((folder / f".{student}.runs.json").read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


def write(entries, results, out):
    """Write OUT/report.html (and any student page that is missing); returns its path."""
    out = Path(out)
    folder = out / FOLDER
    rows, parts = rows_of(entries, results), parts_of(results)
    student_runs = {}
    for row in rows:
        student_runs[row.student] = _saved_runs(folder, row.student)
        if not (folder / f"{row.student}.html").exists():  # a failure costs that page only, as in the lanes
            write_page(folder, row.student, row.result, student_runs[row.student] or None)
    with i18n.speaking(i18n.DEFAULT):  # the instructor's page: English, whatever the students read
        html = render(rows, parts, student_runs, out)
    return write_atomic(out / REPORT_HTML, html, PRIVATE)


def _figure(out, name, draw):
    """A plot report.md has just written beside it (read back rather than drawn again), or drawn now."""
    try:
        data = (Path(out) / name).read_bytes() if out is not None else b""
    except OSError:
        data = b""
    return data if data.startswith(b"\x89PNG\r\n\x1a\n") else draw()


def render(rows, parts, student_runs, out=None):
    """The page's HTML; `out`: the folder where report.md's plots may already be."""
    facts = summary(rows, parts)
    counts, score = facts["counts"], facts["score"]
    shown = {row.student: display_name(row.student, row.name) for row in rows}
    body = [
        "<h1>Class report</h1>",
        f"<p>{counts['students']} student(s): {counts['graded']} graded, {counts['errors']} could not be graded, "
        f"{counts['timeouts']} timed out; {counts['full_marks']} with full marks.</p>",
    ]
    if score is not None:
        points = score["points"]
        body.append(
            "<table><tr><th></th><th>mean</th><th>median</th><th>min</th><th>max</th><th>stdev</th></tr>"
            "<tr><th>points</th>"
            + "".join(f"<td>{_num(points[key])}</td>" for key in ("mean", "median", "min", "max", "stdev"))
            + "</tr></table>"
        )
    body.append(
        "<h2>Score distribution</h2>" + _png(_figure(out, DISTRIBUTION_NAME, lambda: _distribution_png(rows, facts)))
    )

    body.append("<h2>Parts</h2><p>Pass rate: the share of graded students with every point of the part.</p>")
    body.append(
        "<table><tr><th>part</th><th>max</th><th>mean</th><th>full marks</th><th>pass rate</th></tr>"
        + "".join(
            f"<tr><td>{esc(part)}</td><td>{_num(entry['max_score'])}</td><td>{_num(entry['mean'])}</td><td>{entry['full_marks']}</td>"
            f"<td>{_percent(entry['pass_rate'])}</td></tr>"
            for part, entry in facts["parts"].items()
        )
        + "</table>"
    )
    body.append(_png(_figure(out, PASS_RATES_NAME, lambda: _pass_rates_png(facts))))
    body.append(
        "<h3>Tests</h3><table><tr><th>part</th><th>test</th><th>points</th><th>passed</th><th>pass rate</th></tr>"
        + "".join(
            f"<tr><td>{esc(test['part'])}</td><td>{esc(test['name'])}</td><td>{_num(test['max_score'])}</td>"
            f"<td>{test['passed']}</td><td>{_percent(test['pass_rate'])}</td></tr>"
            for test in facts["tests"].values()
        )
        + "</table>"
    )

    body.append("<h2>Mistakes by frequency</h2>")
    if facts["diagnoses"]:
        lines = []
        for entry in facts["diagnoses"]:
            what, fix = page.explain(entry["part"], entry["slug"])
            lines.append(
                f"<tr><td><code>{esc(entry['part'])}/{esc(entry['slug'])}</code></td><td>{esc(what)}</td>"
                f"<td>{esc(fix) or 'n/a'}</td><td>{entry['count']}</td>"
                f"<td>{', '.join(_link(student, shown.get(student)) for student in entry['students'])}</td></tr>"
            )
        body.append(
            "<table><tr><th>mistake</th><th>what it is</th><th>fix</th><th>students</th><th>who</th></tr>"
            + "".join(lines)
            + "</table>"
        )
    else:
        body.append("<p>No known mistake was recognised.</p>")

    body.append("<h2>Not graded</h2>")
    problems = [("error", entry) for entry in facts["errors"]] + [("timeout", entry) for entry in facts["timeouts"]]
    if problems:
        body.append(
            "<table><tr><th>student</th><th>name</th><th>status</th><th>why</th></tr>"
            + "".join(
                f"<tr><td>{_link(entry['student'], shown.get(entry['student']))}</td><td>{esc(entry['name'] or '')}</td><td>{status}</td>"
                f"<td>{esc(entry['message'][:300])}</td></tr>"
                for status, entry in sorted(problems, key=lambda item: item[1]["student"])
            )
            + "</table>"
        )
    else:
        body.append("<p>Every submission was graded.</p>" if rows else "<p>No students.</p>")

    body.append(
        "<h2>Everyone's runs on the bowl</h2><p>Each student's optimizer (orange) beside the reference "
        "(dashed blue) on experiment 1's bowl; a red frame marks a run that parts from the reference.</p>"
    )
    drawn = [part for part in parts if any(part in runs for runs in student_runs.values())]
    for part in drawn:
        cells = []
        for row in rows:
            run = student_runs.get(row.student, {}).get(part)
            if run is None:
                continue
            if not run["student"]:  # never ran: a cell that says why, not a plot of the reference alone
                cells.append(
                    f'<div class="cell missing"><div class="why">{esc(run["note"][:200])}</div>'
                    f"{_link(row.student, shown[row.student])}</div>"
                )
                continue
            parted = run["parts_at"] is not None
            cells.append(
                f'<div class="cell{" parted" if parted else ""}">'
                f"{plots.run_svg(run, f'{shown[row.student]}: {part}', small=True)}<br>{_link(row.student, shown[row.student])}"
                + (f" (step {run['parts_at']})" if parted else "")
                + "</div>"
            )
        body.append(f'<h3>{esc(page._part_title(part))}</h3><div class="grid">{"".join(cells)}</div>')
    if not drawn:
        body.append("<p>No runs were drawn (graded with --no-feedback, or nobody could be run).</p>")

    body.append(
        "<h2>Students</h2><table><tr><th>student</th><th>name</th><th>status</th><th>total</th>"
        + "".join(f"<th>{esc(part)}</th>" for part in parts)
        + "</tr>"
    )
    for row in sorted(rows, key=lambda row: row.student):
        scores = row.result.get("extra_data", {}).get("parts", {})
        body.append(
            f"<tr><td>{_link(row.student, shown[row.student])}</td><td>{esc(row.name or '')}</td><td>{esc(row.status)}</td>"
            f"<td>{page._points(row.result.get('score'))} / {page._points(row.result.get('max_score'))}</td>"
            + "".join(f"<td>{page._points((scores.get(part) or {}).get('score'))}</td>" for part in parts)
            + "</tr>"
        )
    body.append("</table>")
    return page.document("Class report", "\n".join(body), STYLE, language="en")
