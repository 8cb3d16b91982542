"""The readable report of one submission: a line per test, grouped by part, with each failure's verdict."""

import textwrap


def render(report, rubric_title=""):
    """Text for a terminal: per part its points, per test ✓/✗, and under a failure what went wrong."""
    lines = [f"{report.submission}: {report.score:g} / {report.max_score:g} points"
             + (f"  ({rubric_title})" if rubric_title else "")]
    if report.output:
        lines += ["", *report.output.splitlines()]
    scores = report.part_scores()
    for part, (score, most) in scores.items():
        lines += ["", f"{part}: {score:g} / {most:g}"]
        for test in (test for test in report.tests if test.part == part):
            mark = "PASS" if test.passed else "FAIL"
            lines.append(f"  [{mark}] {test.title.split(': ', 1)[-1]} ({test.score:g}/{test.max_score:g})")
            if not test.passed:
                lines += [textwrap.indent(test.output, "         ")]
    lines += ["", f"seed {report.seed}, devices {', '.join(report.devices)}, grader {report.grader_version}, "
                  f"{report.execution_time:.1f} s"]
    if report.isolation:
        lines.append(f"isolation: {report.isolation['summary']}")
        if report.isolation["level"] != "full":
            lines.append(textwrap.fill(f"what that means: {report.isolation['detail']}", 100))
    return "\n".join(lines)
