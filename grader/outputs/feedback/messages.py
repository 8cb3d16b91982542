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
from grader.judge import compare, labels

_VALUE_CHARS = 400  # one cell of the table: enough for a small tensor, never a page of digits
_STEP = re.compile(r"\b(?:after|from) step (\d+)\b|第\s*(\d+)\s*步")

# The labels of a failed test's message, as the verdicts write them (one registry: grader.judge.labels).
INPUTS, START, EXPECTED, GOT, LIKELY = labels.INPUTS, labels.START, labels.EXPECTED, labels.GOT, labels.LIKELY_MISTAKE
# Translators: the separator before a known mistake's fix, as the mistakes' catalog writes it in a verdict.
FIX = N_(" Fix: ")


def _spellings(label):
    """The label in English and in the language spoken (once where they are the same)."""
    return tuple(dict.fromkeys((label, _(label))))


def _gradients_of_step(language_label):
    """A pattern for "Gradients of step {k}:" as `language_label` spells it, the step's number captured."""
    before, _braces, after = language_label.partition("{k}")
    return re.compile(re.escape(before) + r"(\d+)" + re.escape(after))


def _head(line):
    """(row name, value) of a "Start: ..." or "Gradients of step k: ..." line, in English or in the language
    spoken, or None."""
    for label in _spellings(START):
        if line.startswith(label):
            # Translators: the rows of a step() counterexample: the parameters before the first step, and the
            # gradients given to one step.
            return _("start"), line[len(label) :]
    for label in _spellings(labels.GRADIENTS_OF_STEP):
        found = _gradients_of_step(label).match(line)
        if found:
            return _("gradients of step {step}").format(step=found.group(1)), line[found.end() :]
    return None


def _device(line):
    """The device of an "on cpu" line of the inputs (English or the language spoken), or None."""
    for label in _spellings(labels.ON_DEVICE):
        before, _braces, after = label.partition("{device}")
        if line.startswith(before) and line.endswith(after) and len(line) > len(before) + len(after):
            return line[len(before) : len(line) - len(after)]
    return None


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
    inputs = _spellings(INPUTS)
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
        device = _device(stripped) if in_inputs and line.startswith("  ") else None
        if device is not None:
            verdict.inputs.append((_("input device"), _cut(device)))
            continue
        in_inputs = False
        head = _head(stripped)
        if head is not None:
            verdict.inputs.append((head[0], _cut(head[1])))
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
    """(A, B) of "... should be A, got B (relative error ...)" (B ends where the message's parenthesis opens,
    or at the end), in English or as the language spoken writes it, or None. Found with str.find, in linear
    time: a lazy pattern searched from every "should be" was quadratic in hostile text."""
    for template in _spellings(compare.SHOULD_BE):
        before = template[template.index("{name}") + 6 : template.index("{expected}")]
        between = template[template.index("{expected}") + 10 : template.index("{got}")]
        after = template[template.index("{got}") + 5 : template.index("{error")].rstrip()
        after = after[: len(after) - len(after.lstrip("( （"))] if after else ""
        found = _between(summary, before, between, after)
        if found:
            return found
    return None


def _between(summary, before, between, after):
    start = summary.find(before)
    middle = summary.find(between, start + len(before)) if start >= 0 else -1
    if middle < 0 or middle == start + len(before):
        return None
    end = summary.find(after, middle + len(between)) if after else -1
    got = summary[middle + len(between) : end if end >= 0 else len(summary)]
    return (summary[start + len(before) : middle], got) if got else None
