"""The readable report of one submission: a line per test, grouped by part, with each failure's verdict."""

import re
import textwrap

from grader.i18n import N_, _

from .results import OUTPUT_CHARACTERS, TEST_OUTPUT_CHARACTERS, bounded

# Terminal controls in student-provided text (exception messages, printed output, file names) could move the
# cursor, recolour or overwrite lines and so fake a verdict; they are shown as escapes instead. Newlines and
# tabs stay: messages span lines, always indented under the test they belong to. Lone surrogates (from a
# string the student's code returned) too: no terminal or file encodes them, and printing one would crash.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


#: The sandbox's summary of the full level (grader/untrusted/confine/levels.py, which speaks English only: the
#: untrusted side imports no catalog), marked here so that the report shows it translated.
FULL_ISOLATION = N_("full: own mount, PID, network and IPC namespaces, allow-list root")


def printable(text):
    """`text` with every terminal control, bidirectional override or lone surrogate written as a visible escape."""
    return _CONTROLS.sub(
        lambda match: repr(match.group())[1:-1] if ord(match.group()) < 0x100 else f"\\u{ord(match.group()):04x}", text
    )


def render(report, rubric_title=""):
    """Text for a terminal: per part its points, per test ✓/✗, and under a failure what went wrong."""
    lines = [
        _("{submission}: {score:g} / {max_score:g} points").format(
            submission=report.submission, score=report.score, max_score=report.max_score
        )
        + (f"  ({rubric_title})" if rubric_title else "")
    ]
    if report.output:
        lines += ["", *bounded(report.output, OUTPUT_CHARACTERS).splitlines()]
    scores = report.part_scores()
    for part, (score, most) in scores.items():
        lines += ["", f"{part}: {score:g} / {most:g}"]
        for test in (test for test in report.tests if test.part == part):
            mark = _("PASS") if test.passed else _("FAIL")
            lines.append(f"  [{mark}] {test.title.split(': ', 1)[-1]} ({test.score:g}/{test.max_score:g})")
            if not test.passed:
                lines += [textwrap.indent(bounded(test.output, TEST_OUTPUT_CHARACTERS), "         ")]
    lines += [
        "",
        _("seed {seed}, devices {devices}, grader {version}, {seconds:.1f} s").format(
            seed=report.seed,
            devices=", ".join(report.devices),
            version=report.grader_version,
            seconds=report.execution_time,
        ),
    ]
    if report.isolation:
        # Translators: {summary} (but the full level's, translated too) and the detail below come from the
        # sandbox, in English.
        summary = report.isolation["summary"]
        summary = _(FULL_ISOLATION) if summary == FULL_ISOLATION else summary
        lines.append(_("isolation: {summary}").format(summary=summary))
        if report.isolation["level"] != "full":
            lines.append(textwrap.fill(_("what that means: {detail}").format(detail=report.isolation["detail"]), 100))
    return printable("\n".join(lines))
