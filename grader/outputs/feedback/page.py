"""A student's feedback page: one self-contained HTML file (no script, no network, images inline).

Built from the score JSON (`GradeReport.to_dict()`, what `batch` writes to results/) and the plot runs
of `grader.outputs.feedback.runs`. Everything a student or an LMS supplied (the student id and name, the file
name, what the code printed, messages that quote values the code returned) passes through html.escape;
the page also carries a Content-Security-Policy that runs no script and loads nothing, so that a
mistake in escaping would still not run anything. A test whose visibility is not "visible" shows its
name and points only.
"""

import html
import json
from pathlib import Path

from grader import i18n
from grader.atomic import PRIVATE, write_atomic
from grader.explain.mistakes import find
from grader.i18n import N_, _, ngettext
from grader.judge.parts import PARTS
from grader.judge.trajectory import MISTAKES
from grader.outputs.members import display_name
from grader.outputs.terminal import printable

from . import fonts, messages, plots

#: No script, no fetch of anything: styles in the page, images as data: URIs or inline SVG.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
SHOWN = "visible"

#: The parts' titles that are words, not an optimizer's name (translated where shown; see _part_title).
PART_TITLES = (N_("train_f trajectory"), N_("Nesterov (bonus)"))
#: A result's status as a reader sees it ("graded" is never shown); the JSON keeps the English word.
STATUS_WORDS = {"error": N_("error"), "timeout": N_("timeout")}

STYLE = """
*{box-sizing:border-box}
body{font-family:FONTS;margin:0 auto;max-width:980px;padding:1.2em;
color:#222;line-height:1.4}
h1{font-size:1.5em;margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
.score{font-size:1.25em}.meta{color:#666;font-size:.85em}
table{border-collapse:collapse;margin:.5em 0;display:block;max-width:100%;overflow-x:auto}
td,th{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top;overflow-wrap:break-word}
th{background:#f4f4f4}
.bar{display:inline-block;height:.8em;background:#2e7d32;vertical-align:middle}
.barbg{display:inline-block;width:120px;height:.8em;background:#e6e6e6;vertical-align:middle}
.pass{color:#2e7d32;font-weight:bold}.fail{color:#c62828;font-weight:bold}.hidden{color:#777}
.test{margin:.6em 0 1em 0}.test pre,.notes pre{background:#f7f7f7;padding:.5em;white-space:pre-wrap;
word-break:break-word;max-height:20em;overflow:auto}
.mistake{background:#fff4e5;border-left:4px solid #ef6c00;padding:.4em .6em;margin:.4em 0}
.part{display:flex;gap:1.2em;flex-wrap:wrap}.part .plotbox{flex:0 0 auto}.part .tests{flex:1 1 420px;min-width:0}
.legend span{margin-right:1em;font-size:.85em}.caption{font-size:.85em;color:#555;max-width:340px}
code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em;word-break:break-word}
""".replace("FONTS", fonts.CSS_STACK, 1)


def esc(value):
    """Any value as escaped HTML text (quotes included, so that it is safe in attributes too), its terminal
    controls and bidirectional overrides written as visible escapes, as the terminal report writes them:
    a student's text cannot reorder what follows it on the page, nor recolour the terminal of whoever
    prints the file."""
    return html.escape(printable(str(value)), quote=True)


def _part_title(part):
    # The title is a constant of the rubric's parts, marked in PART_TITLES where it holds words.
    return _(PARTS[part].title) if part in PARTS else part


def _points(value):
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return "?"


def _bar(score, most):
    try:
        fraction = max(0.0, min(1.0, float(score) / float(most))) if float(most) > 0 else 0.0
    except (TypeError, ValueError):
        fraction = 0.0
    return f'<span class="barbg"><span class="bar" style="width:{120 * fraction:.0f}px"></span></span>'


def _test_part(test):
    tags = test.get("tags") or ["?"]
    return str(tags[0])


def explain(part, slug):
    """(what the mistake is, its fix) from the bank of known mistakes, as report.md names them; an unknown
    slug as it is. (Not batch.report's own: that module loads matplotlib, which a lane need not pay for.)"""
    # The train_f mistakes' titles and fixes are the verdicts' constants: looked up here, where shown.
    if part == "trajectory" and slug in MISTAKES:
        what, fix = MISTAKES[slug]
        return _(what), _(fix)
    try:
        mistake = find(part, slug)  # the bank names it, and says its fix, in the language spoken
        return mistake.named(), mistake.fix()
    except (ValueError, KeyError, LookupError):
        return slug, ""


def _explanation_block(edit):
    """The edit search's explanation: per reading, the rule's lines next to what the student's code computes."""
    count = edit.get("edits")
    if count == 1:
        how = _("one edit")
    elif isinstance(count, int):
        how = ngettext("{count} edit", "{count} edits", count).format(count=count)
    else:
        how = _("an edit")
    # Translators: "the rule" is the update rule of the optimizer (its formula), as the course states it.
    computes = _("the rule with {how}, reproducing every value your code returned on the grader's probes.")
    label = _("What your code computes:")
    parts = [f'<div class="mistake"><b>{label}</b> {computes.format(how=esc(how))}']
    rule, yours = _("the rule"), _("your code")
    for number, reading in enumerate(edit["readings"][:3]):
        if not isinstance(reading, dict):
            continue
        if number:
            parts.append("<br>" + _("or, giving the same values:"))
        rows = "".join(
            f'<tr><th>{rule}</th><td class="mono">{esc(line.get("rule", ""))}</td></tr>'
            f'<tr><th>{yours}</th><td class="mono">{esc(line.get("student", ""))}</td></tr>'
            for line in reading.get("lines", [])
            if isinstance(line, dict)
        )
        parts.append(f'<table class="counterexample">{rows}</table>')
        parts.append(f'<span class="meta">{esc(reading.get("description", ""))}</span>')
    back = _("change your line back to the rule's.")
    fix = _("Fix:")
    parts.append(f"<br><b>{fix}</b> {back}</div>")
    return "".join(parts)


def render_test(test):
    name, visibility = test.get("name", "?"), test.get("visibility", SHOWN)
    points = f"{_points(test.get('score'))} / {_points(test.get('max_score'))}"
    if visibility != SHOWN:
        hidden, worth = _("hidden test"), _("({points} points)").format(points=points)
        return f'<div class="test"><span class="hidden">{hidden}</span> {esc(name)} <span class="meta">{worth}</span></div>'
    if test.get("status") == "passed":
        passed = _("passed")
        return f'<div class="test"><span class="pass">✓ {passed}</span> {esc(name)} <span class="meta">({points})</span></div>'
    verdict = messages.parse(str(test.get("output", "")))
    failed = _("failed")
    out = [
        f'<div class="test"><span class="fail">✗ {failed}</span> {esc(name)} <span class="meta">({points})</span>',
        f"<p>{esc(verdict.summary)}</p>",
    ]
    if verdict.has_table:
        rows = [f'<tr><th>{esc(key)}</th><td class="mono">{esc(value)}</td></tr>' for key, value in verdict.inputs]
        # Translators: the counterexample's rows: what the rule gives, what the student's code gave.
        expected, got, step = _("expected"), _("got"), _("first diverging step")
        if verdict.expected:
            rows.append(f'<tr><th>{expected}</th><td class="mono">{esc(verdict.expected)}</td></tr>')
        if verdict.got:
            rows.append(f'<tr><th>{got}</th><td class="mono">{esc(verdict.got)}</td></tr>')
        if verdict.step:
            rows.append(f"<tr><th>{step}</th><td>{esc(verdict.step)}</td></tr>")
        caption = _("counterexample")
        out.append(f'<table class="counterexample"><caption class="meta">{caption}</caption>{"".join(rows)}</table>')
    extra = test.get("extra_data") or {}
    slug = extra.get("diagnosis")
    if slug:
        out.append(_mistake_block(*explain(_test_part(test), str(slug))))
    elif verdict.mistake:
        out.append(_mistake_block(verdict.mistake, verdict.fix))
    edit = extra.get("explanation")
    if not slug and isinstance(edit, dict) and isinstance(edit.get("readings"), list) and edit["readings"]:
        out.append(_explanation_block(edit))
        shown = set(str(edit.get("text", "")).splitlines())
        verdict.rest = [line for line in verdict.rest if line not in shown]
    rest = "\n".join(verdict.rest).strip()
    if rest:
        out.append(f"<pre>{esc(rest)}</pre>")
    out.append("</div>")
    return "\n".join(out)


def _mistake_block(what, fix):
    likely, label = _("Likely mistake:"), _("Fix:")
    fixed = f"<br><b>{label}</b> {esc(fix)}" if fix else ""
    return f'<div class="mistake"><b>{likely}</b> {esc(what)}{fixed}</div>'


def _run_block(part, run):
    if not run:
        return ""
    title = _("{part} on the bowl f(x) = 0.2·x1² + 2·x2²").format(part=_part_title(part))
    # Translators: the plot's legend: the reference's run, the student's, and where the two part.
    reference, yours, parting = _("reference"), _("yours"), _("where they part")
    # Translators: the run's setting (optimizer, hyperparameters, steps), ended as a sentence.
    setting = _("{setting}.").format(setting=esc(run["setting"]))
    lines = [
        f'<div class="plotbox">{plots.run_svg(run, title)}',
        f'<div class="legend"><span style="color:#0072b2">- - {reference}</span>'
        f'<span style="color:#d55e00">— {yours}</span><span style="color:#cc0000">○ {parting}</span></div>',
        f'<div class="caption">{setting}',
    ]
    # Translators: the caption's sentences below each start with a space in English, to follow the one
    # before; a translation that needs no space between sentences leaves it out.
    if part == "trajectory":
        lines.append(
            _(
                " Your train_f, with an optimizer that updates x in place (x -= lr·g): the points as your "
                "train_f returned them, which is what you would have plotted."
            )
        )
    student = run["student"]
    if len(student) > 1 and all(point == student[-1] for point in student):
        lines.append(
            _(
                " All {count} points are the same point, ({x1:.3g}, {x2:.3g}): the trajectory collapsed onto its end."
            ).format(count=len(student), x1=student[-1][0], x2=student[-1][1])
        )
    if run["parts_at"] is None and run["student"]:
        lines.append(_(" On this run yours follows the reference."))
    elif run["parts_at"] is not None and run["student"]:
        lines.append(_(" Yours parts from the reference at step {step}.").format(step=run["parts_at"]))
    if run["note"]:
        lines.append(_(" Note: {note}.").format(note=esc(run["note"])))
    lines.append("</div></div>")
    return "".join(lines)


# Translators: how the grader's notes begin (its catalog, "verdicts", writes them); the page starts a new
# note at each. Translate each as that catalog's translation of the note begins, e.g. "Graded {name}" as
# its first word or two.
_NOTE_STARTS = (
    N_("Graded "),
    N_("Note:"),
    N_("While loading"),
    N_("Skipped "),
    N_("Advice"),
    N_("Your code printed"),
    N_("The submission's"),
)


def _notes(output):
    starts = tuple(dict.fromkeys([*_NOTE_STARTS, *map(_, _NOTE_STARTS)]))  # English, and the language spoken
    items = []
    for line in str(output or "").splitlines():
        if not items or line.startswith(starts):
            items.append([line])
        else:
            items[-1].append(line)
    rendered = []
    for item in items:
        head, more = item[0], "\n".join(item[1:]).strip()
        rendered.append(f"<li>{esc(head)}" + (f"<pre>{esc(more)}</pre>" if more else "") + "</li>")
    none = _("None.")
    return f'<ul class="notes">{"".join(rendered)}</ul>' if rendered else f"<p>{none}</p>"


def render(result, runs=None, student=None):
    """The page's HTML for one score JSON `result` (a dict) and its plot runs ({part: run} or None)."""
    runs = runs or {}
    extra = result.get("extra_data") or {}
    student = student if student is not None else extra.get("student") or extra.get("submission") or _("submission")
    name = extra.get("name")
    shown = display_name(student, name if isinstance(name, str) else None)
    status = extra.get("status", "graded")
    tests = [test for test in result.get("tests", []) if isinstance(test, dict)]
    parts = list(dict.fromkeys([*((extra.get("parts") or {}).keys()), *map(_test_part, tests)]))
    part_scores = extra.get("parts") or {}

    title = _("Feedback: {student}").format(student=shown)
    body = [f"<h1>{esc(title)}</h1>"]
    if name and shown == student and name != student:  # an ASCII name the id does not spell: said below
        body.append(f'<div class="meta">{esc(name)}</div>')
    points = _("{score} / {max_score} points").format(
        score=_points(result.get("score")), max_score=_points(result.get("max_score"))
    )
    word = _(STATUS_WORDS[status]) if status in STATUS_WORDS else status
    body.append(
        f'<p class="score">{points}'
        + ("" if status == "graded" else f' — <span class="fail">{esc(word)}</span>')
        + "</p>"
    )
    facts = _("submission {submission}, sha256 {sha256}, grader {version}, seed {seed}, devices {devices}").format(
        submission=esc(extra.get("submission", "")),
        sha256=esc(str(extra.get("sha256", ""))[:12]),
        version=esc(extra.get("grader_version", "")),
        seed=esc(extra.get("seed", "")),
        devices=esc(", ".join(map(str, extra.get("devices", [])))),
    )
    body.append(f'<p class="meta">{facts}</p>')
    rows = []
    for part in parts:
        entry = part_scores.get(part) or {}
        rows.append(
            f'<tr><td><a href="#part-{esc(part)}">{esc(_part_title(part))}</a></td>'
            f"<td>{_points(entry.get('score'))} / {_points(entry.get('max_score'))}</td>"
            f"<td>{_bar(entry.get('score'), entry.get('max_score'))}</td></tr>"
        )
    # Translators: the headings of the table of the parts' points.
    heading_part, heading_points, notes = _("part"), _("points"), _("Notes")
    body.append(f"<table><tr><th>{heading_part}</th><th>{heading_points}</th><th></th></tr>{''.join(rows)}</table>")
    body.append(f"<h2>{notes}</h2>" + _notes(result.get("output")))
    for part in parts:
        entry = part_scores.get(part) or {}
        body.append(
            f'<h2 id="part-{esc(part)}">{esc(_part_title(part))} '
            f'<span class="meta">{_points(entry.get("score"))} / {_points(entry.get("max_score"))}</span></h2>'
        )
        part_tests = "\n".join(render_test(test) for test in tests if _test_part(test) == part)
        body.append(f'<div class="part">{_run_block(part, runs.get(part))}<div class="tests">{part_tests}</div></div>')
    return document(title, "\n".join(body))


def document(title, body, style="", language=None):
    """A page of the feedback: `body` under `title`, written in `language` (default: the one spoken)."""
    return (
        f'<!DOCTYPE html>\n<html lang="{esc(language or i18n.language())}"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{STYLE}{style}</style></head><body>"
        f"{plots.defs()}\n{body}\n</body></html>\n"
    )


def write(folder, student, result, runs=None):
    """Write `<folder>/<student>.html` and the runs beside it (`.<student>.runs.json`, for the class
    page); returns the page's path. `student` is the batch's id (a file stem: no separator in it)."""
    folder = Path(folder)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    saved = folder / f".{student}.runs.json"
    if runs:
        write_atomic(saved, json.dumps(runs) + "\n", PRIVATE)
    else:  # an earlier grading's runs must not stand for this one on the class page
        saved.unlink(missing_ok=True)
    return write_atomic(folder / f"{student}.html", render(result, runs, student), PRIVATE)
