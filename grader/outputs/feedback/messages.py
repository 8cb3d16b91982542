"""A failed test's message split for display: what went wrong, the counterexample, the likely mistake.

The checks write their verdicts as text (`grader.outputs.terminal` prints them as they are); this reads the
shapes they use ("Inputs:" then `name = value` lines, "Start:", "Gradients of step k:", "Expected:",
"Got:", "after step k", "Likely mistake: ... Fix: ...") into fields. It only arranges text for the page:
whatever it does not recognise is kept, in order, as `rest`. Every field is still untrusted text
(values the student's code returned, what it printed): the page escapes them all.
"""

import re
from dataclasses import dataclass, field

_VALUE_CHARS = 400  # one cell of the table: enough for a small tensor, never a page of digits
_STEP = re.compile(r"\b(?:after|from) step (\d+)\b")


@dataclass
class Verdict:
    summary: str
    inputs: list = field(default_factory=list)  # [(name, value)]
    expected: str = ""
    got: str = ""
    step: str = ""  # the first step at which the student's values differ, where the message says it
    mistake: str = ""
    fix: str = ""
    rest: list = field(default_factory=list)

    @property
    def has_table(self):
        return bool(self.inputs or self.expected or self.got)


def _cut(text):
    text = text.strip()
    return text if len(text) <= _VALUE_CHARS else text[:_VALUE_CHARS] + " …"


def parse(message):
    lines = (message or "").splitlines() or [""]
    verdict = Verdict(summary=lines[0])
    step = _STEP.search(lines[0])
    verdict.step = step.group(1) if step else ""
    in_inputs = False
    for line in lines[1:]:
        stripped = line.strip()
        if stripped == "Inputs:":
            in_inputs = True
            continue
        if in_inputs and line.startswith("  ") and " = " in stripped:
            name, value = stripped.split(" = ", 1)
            verdict.inputs.append((f"input {name}", _cut(value)))
            continue
        if in_inputs and line.startswith("  ") and stripped.startswith("on "):
            verdict.inputs.append(("input device", _cut(stripped[3:])))
            continue
        in_inputs = False
        if stripped.startswith(("Start:", "Gradients of step")):
            name, value = stripped.split(":", 1)
            verdict.inputs.append((name.lower(), _cut(value)))
        elif stripped.startswith("Expected:") and not verdict.expected:
            verdict.expected = _cut(stripped[len("Expected:") :])
        elif stripped.startswith("Got:") and not verdict.got:
            verdict.got = _cut(stripped[len("Got:") :])
        elif stripped.startswith("Likely mistake:") and not verdict.mistake:
            mistake, _, fix = stripped[len("Likely mistake:") :].partition(" Fix: ")
            verdict.mistake, verdict.fix = mistake.strip(), fix.strip()
        else:
            verdict.rest.append(line)
    if not verdict.expected:  # a one-line verdict "X should be A, got B": its numbers still make a table
        found = _should_be(verdict.summary)
        if found and verdict.inputs:
            verdict.expected, verdict.got = _cut(found[0]), _cut(found[1])
    return verdict


def _should_be(summary):
    """(A, B) of "... should be A, got B (...)" (B ends at " (" or the end), or None. Found with str.find,
    in linear time: a lazy pattern searched from every "should be" was quadratic in hostile text."""
    start = summary.find("should be ")
    middle = summary.find(", got ", start + 10) if start >= 0 else -1
    if middle < 0 or middle == start + 10:
        return None
    end = summary.find(" (", middle + 6)
    got = summary[middle + 6 : end if end >= 0 else len(summary)]
    return (summary[start + 10 : middle], got) if got else None
