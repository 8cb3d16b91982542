"""An explanation as the student reads it: the rule's line and theirs, side by side, and what changed in words;
and the same as data for the JSON. Trusted side.
"""

from __future__ import annotations

from dataclasses import dataclass

from .rule import Rule, _uses


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
                | {i for i, (_, _, expr) in enumerate(rule.statements) if _uses(expr, ("hyp",)) & set(candidate.swap)}
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
        parts = []
        for edit in candidate.edits:
            before, after = edit.text(self.rule)
            if edit.kind == "hyperparameters swapped":
                parts.append(f"{before} and {after} swapped everywhere")
            elif edit.kind == "return order":
                parts.append(f"returns {after} where the rule returns {before}")
            else:
                parts.append(f"`{before}` became `{after}` ({edit.kind})")
        return "; ".join(parts)

    @property
    def text(self):
        count = len(self.readings[0].edits)
        how = "one edit" if count == 1 else f"{count} edits"
        out = [f"your {self.rule.name}() computes exactly what the rule computes with {how}:"]
        for number, candidate in enumerate(self.readings):
            if number:
                out.append("or, giving the same values on every probe:")
            for rule_line, student_line in self.statements(candidate):
                out.append(f"  the rule:   {rule_line}")
                out.append(f"  your code:  {student_line}")
            out.append(f"  ({self.describe(candidate)}). Change it back to the rule's line.")
        old = sorted(
            {
                word
                for _, line in (pair for c in self.readings for pair in self.statements(c))
                for word in line.replace("(", " ").replace(")", " ").replace(",", " ").split()
                if word.startswith("old_")
            }
        )
        if old:
            meanings = (f"{word}: {word[4:]} as it was before the rule updates it" for word in old)
            out.append("  (" + "; ".join(meanings) + ")")
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
