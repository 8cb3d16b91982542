"""An explanation as the student reads it: the rule's line and theirs, side by side, and what changed in words;
and the same as data for the JSON. Trusted side.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.i18n import N_, _, ngettext

from .rule import Rule, _uses

#: How an edit of one statement reads, by its kind (`Edit.kind`, which stays English in the JSON): {before} and
#: {after} are Python text, the piece of the rule and what the student's code has in its place.
CHANGED = {
    # Translators: an edit of the rule: {before} and {after} are code, kept as they are; the words in parentheses say
    # which kind of edit it is (here: one arithmetic operator replaced by another).
    "operator": N_("`{before}` became `{after}` (operator)"),
    # Translators: an edit of the rule: one variable read in place of another.
    "variable": N_("`{before}` became `{after}` (variable)"),
    # Translators: an edit of the rule: the step counter t replaced by t + 1 or t - 1.
    "t shifted": N_("`{before}` became `{after}` (t shifted)"),
    # Translators: an edit of the rule: one hyperparameter used in place of another.
    "hyperparameter": N_("`{before}` became `{after}` (hyperparameter)"),
    # Translators: an edit of the rule: the two operands of a - or a / (or **) swapped.
    "operands swapped": N_("`{before}` became `{after}` (operands swapped)"),
    # Translators: an edit of the rule: a term or a factor left out.
    "dropped": N_("`{before}` became `{after}` (dropped)"),
    # Translators: an edit of the rule: a number written in place of a hyperparameter or of another number.
    "constant": N_("`{before}` became `{after}` (constant)"),
    # Translators: an edit of the rule: epsilon moved out of the square root.
    "epsilon moved": N_("`{before}` became `{after}` (epsilon moved)"),
    # Translators: an edit of the rule: the same operations grouped otherwise (parentheses moved).
    "regrouped": N_("`{before}` became `{after}` (regrouped)"),
    # Translators: an edit of the rule: a piece wrapped in a function (sqrt, square, abs, sum, mean).
    "wrapped": N_("`{before}` became `{after}` (wrapped)"),
    # Translators: an edit of the rule: a piece multiplied by a factor (init_lr or a hyperparameter).
    "scaled": N_("`{before}` became `{after}` (scaled)"),
}


@dataclass
class Explanation:
    """The simplest edits of the rule that reproduce the student's answers exactly (several readings when
    they differ), as text and as data."""

    rule: Rule
    readings: list  # [Candidate], simplest first; all reproduce every answer
    total: int  # how many candidates reproduced the answers

    def statements(self, candidate):
        """[(rule line, student's line)] for each statement the candidate changes."""
        rule, n = self.rule, len(self.rule.statements)
        lines = []
        override = dict(candidate.override)
        indices = sorted(set(override) | ({n} if candidate.returns else set()))
        if candidate.swap:
            indices = sorted(
                set(indices)
                | {
                    i
                    for i, (_ssa, _name, expr) in enumerate(rule.statements)
                    if _uses(expr, ("hyp",)) & set(candidate.swap)
                }
            )
        for index in indices:
            if index == n:
                lines.append((rule.line(n), rule.line(n, returns=candidate.returns)))
            else:
                expr = override.get(index, rule.statements[index][2])
                if candidate.swap:
                    expr = _swap_hyper(expr, candidate.swap)
                lines.append((rule.line(index), rule.line(index, expr)))
        return lines

    def describe(self, candidate):
        """The candidate's edits in words, in the language this process speaks (code stays as it is)."""
        parts = []
        for edit in candidate.edits:
            before, after = edit.text(self.rule)
            if edit.kind == "hyperparameters swapped":
                # Translators: an edit of the rule: two hyperparameters ({before}, {after}: code) exchanged everywhere.
                parts.append(_("{before} and {after} swapped everywhere").format(before=before, after=after))
            elif edit.kind == "return order":
                # Translators: an edit of the rule: {after} and {before} are return values in order ("x, M, G, t").
                parts.append(_("returns {after} where the rule returns {before}").format(before=before, after=after))
            elif edit.kind in CHANGED:
                parts.append(_(CHANGED[edit.kind]).format(before=before, after=after))
            else:  # a kind the table does not know yet: its English name
                parts.append(
                    _("`{before}` became `{after}` ({kind})").format(before=before, after=after, kind=edit.kind)
                )
        # Translators: the separator of a list: between two edits' descriptions, or two names' explanations.
        return _("; ").join(parts)

    @property
    def text(self):
        """The explanation as the student reads it, in the language this process speaks."""
        count = len(self.readings[0].edits)
        out = [
            # Translators: {count} is the number of edits (1 or 2); {function} the rule's method ("adam"): code.
            ngettext(
                "your {function}() computes exactly what the rule computes with one edit:",
                "your {function}() computes exactly what the rule computes with {count} edits:",
                count,
            ).format(function=self.rule.name, count=count)
        ]
        for number, candidate in enumerate(self.readings):
            if number:
                # Translators: introduces another reading of the student's code, as exact as the first.
                out.append(_("or, giving the same values on every probe:"))
            for rule_line, student_line in self.statements(candidate):
                # Translators: a line of the rule, then (next message) the line of the student's code in its place;
                # keep the leading spaces, and align both lines' {line} in a monospaced font.
                out.append(_("  the rule:   {line}").format(line=rule_line))
                out.append(_("  your code:  {line}").format(line=student_line))
            # Translators: {edits} describes what changed ("`M` became `G` (variable)").
            out.append(_("  ({edits}). Change it back to the rule's line.").format(edits=self.describe(candidate)))
        old = sorted(
            {
                word
                for _line, line in (pair for c in self.readings for pair in self.statements(c))
                for word in line.replace("(", " ").replace(")", " ").replace(",", " ").split()
                if word.startswith("old_")
            }
        )
        if old:
            # Translators: explains a name in the student's line: {name} is "old_G", {value} is "G".
            meaning = _("{name}: {value} as it was before the rule updates it")
            meanings = (meaning.format(name=word, value=word[4:]) for word in old)
            # Translators: the names' explanations, in parentheses, below the lines.
            out.append(_("  ({meanings})").format(meanings=_("; ").join(meanings)))
        return "\n".join(out)

    def to_dict(self):
        return {
            "edits": len(self.readings[0].edits),
            "text": self.text,
            "readings": [
                {
                    "edits": [edit.to_dict(self.rule) for edit in candidate.edits],
                    "lines": [{"rule": a, "student": b} for a, b in self.statements(candidate)],
                    "description": self.describe(candidate),
                }
                for candidate in self.readings
            ],
            "matches": self.total,
        }


def _swap_hyper(expr, swap):
    if expr[0] == "hyp" and expr[1] in swap:
        return ("hyp", swap[1] if expr[1] == swap[0] else swap[0])
    if expr[0] == "bin":
        return ("bin", expr[1], _swap_hyper(expr[2], swap), _swap_hyper(expr[3], swap))
    if expr[0] in ("neg", "call"):
        return (*expr[:-1], _swap_hyper(expr[-1], swap))
    return expr
