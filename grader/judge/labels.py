"""The labels that start a verdict's lines ("Inputs:", "Expected:", "Got:" ...), marked for translation once.

The checks write a failed test's verdict as text, in the language the process speaks; the feedback page
reads these lines back into a table (grader/outputs/feedback/messages.py). Both sides take the labels from
here, each translated with `_(LABEL)`, so that a verdict written in Chinese is read back as one written in
English. The release copies this file into the student's self-check unchanged (release/contents.py
SHARED_FILES), so its verdicts start their lines with the same words.
"""

import re

# The kit's catalogs (grader/i18n); copied into the release's self-check, this module finds the bundle's own.
try:
    from ..i18n import N_, _
except ImportError:
    from .i18n import N_, _  # type: ignore[import-not-found,no-redef]

# Translators: the line before the inputs of a failed call, one "name = value" per line below it.
INPUTS = N_("Inputs:")
# Translators: the device line at the end of the inputs ("on cpu").
ON_DEVICE = N_("on {device}")
# Translators: starts the line with the values a correct implementation returns.
EXPECTED = N_("Expected:")
# Translators: starts the line with the values the student's code returned.
GOT = N_("Got:")
# Translators: starts the line with the model's parameters before the first step.
START = N_("Start:")
# Translators: starts the line with the gradients given at step {k}.
GRADIENTS_OF_STEP = N_("Gradients of step {k}:")
# Translators: starts the line that names the known mistake the student's code reproduces.
LIKELY_MISTAKE = N_("Likely mistake:")
# Translators: starts the line that explains a failure no known mistake matches.
DIAGNOSIS = N_("Diagnosis:")


def labelled(label, value):
    """A line that starts with `label` (translated already): a space before `value` after an English colon,
    none after a full-width one ("期望值：[3.0]"), which carries its own space."""
    return f"{label}{_separator(label)}{value}"


def _separator(*labels):
    return "" if all(label.endswith("：") for label in labels) else " "


def expected_and_got(expected, got):
    """The two lines "Expected: ..." and "Got: ...", their values aligned, in the language spoken."""
    expected_label, got_label = _(EXPECTED), _(GOT)
    width, separator = max(len(expected_label), len(got_label)), _separator(expected_label, got_label)
    return f"{expected_label.ljust(width)}{separator}{expected}\n{got_label.ljust(width)}{separator}{got}"


_AT_LINE = re.compile(r"(.{1,1000}), line (\d{1,9})", re.DOTALL)


def shown_where(where):
    """Where the sandbox's loader says an error happened ("optimizers.py, line 3": it speaks English only),
    in the language spoken."""
    if match := _AT_LINE.fullmatch(where):
        return _("{label}, line {line}").format(label=match.group(1), line=match.group(2))
    return where
