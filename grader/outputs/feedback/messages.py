"""A failed test's message split for display: what went wrong, the counterexample, the likely mistake.

The checks write their verdicts as text (`grader.outputs.terminal` prints them as they are); this reads the
shapes they use ("Inputs:" then `name = value` lines, "Start:", "Gradients of step k:", "Expected:",
"Got:", "after step k", "Likely mistake: ... Fix: ...") into fields. It only arranges text for the page:
whatever it does not recognise is kept, in order, as `rest`. Every field is still untrusted text
(values the student's code returned, what it printed): the page escapes them all.

The verdicts arrive in the language the grader speaks, so each shape is recognised in English and as the
catalogs spell its label in that language (the verdicts' catalog first: the same English label is looked up
there before this area's); a shape not recognised is kept as text.
"""

import re
from dataclasses import dataclass, field

from grader.i18n import N_, _

_VALUE_CHARS = 400  # one cell of the table: enough for a small tensor, never a page of digits
_STEP = re.compile(r"\b(?:after|from) step (\d+)\b|第\s*(\d+)\s*步")

# Translators: the labels of a failed test's message, as the verdicts write them; the feedback page finds
# the parts of a verdict by them, so translate them exactly as the verdicts' catalog does.
INPUTS, START = N_("Inputs:"), N_("Start:")
GRADIENTS = "Gradients of step"  # English only: a translation puts the step's number before the word
EXPECTED, GOT, LIKELY, FIX = N_("Expected:"), N_("Got:"), N_("Likely mistake:"), N_(" Fix: ")


def _spellings(label):
    """The label in English and in the language spoken (once where they are the same)."""
    return tuple(dict.fromkeys((label, _(label))))


def _head(name):
    """A row's name for "Start" or "Gradients of step k" of an English verdict, in the language spoken; a
    label the verdict already wrote in another language, as it wrote it."""
    if name == "Start":
        # Translators: the rows of a step() counterexample: the parameters before the first step, and the
        # gradients given to one step.
        return _("start")
    step = re.fullmatch(r"Gradients of step (\d+)", name)
    if step:
        return _("gradients of step {step}").format(step=step.group(1))
    return name.lower()


def _after(text, labels):
    """`text` past the first of `labels` it starts with."""
    return text[len(next(label for label in labels if text.startswith(label))) :]


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
    verdict.step = (step.group(1) or step.group(2)) if step else ""
    inputs, heads = _spellings(INPUTS), (*_spellings(START), GRADIENTS)
    expected, got, likely = _spellings(EXPECTED), _spellings(GOT), _spellings(LIKELY)
    in_inputs = False
    for line in lines[1:]:
        stripped = line.strip()
        if stripped in inputs:
            in_inputs = True
            continue
        if in_inputs and line.startswith("  ") and " = " in stripped:
            name, value = stripped.split(" = ", 1)
            verdict.inputs.append((_("input {name}").format(name=name), _cut(value)))
            continue
        if in_inputs and line.startswith("  ") and stripped.startswith("on "):
            verdict.inputs.append((_("input device"), _cut(stripped[3:])))
            continue
        in_inputs = False
        if stripped.startswith(heads) and re.search("[:：]", stripped):
            name, value = re.split("[:：]", stripped, maxsplit=1)
            verdict.inputs.append((_head(name), _cut(value)))
        elif stripped.startswith(expected) and not verdict.expected:
            verdict.expected = _cut(_after(stripped, expected))
        elif stripped.startswith(got) and not verdict.got:
            verdict.got = _cut(_after(stripped, got))
        elif stripped.startswith(likely) and not verdict.mistake:
            mistake, fix = _after(stripped, likely), ""
            for separator in _spellings(FIX):
                if separator in mistake:
                    mistake, _separator, fix = mistake.partition(separator)
                    break
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
