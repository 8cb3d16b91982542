"""The edits: every small change of one statement a student is likely to make (an operator changed, operands
or variables swapped, a term dropped or doubled, a root added, epsilon moved, t shifted, a hyperparameter
replaced by another or by a constant...), each an `Edit`, and `Candidate`, a rule with one or two of them.
Trusted side.
"""

from __future__ import annotations

from dataclasses import dataclass

from .rule import _PRECEDENCE, _size, _text, _uses

#: Constants a student may write for a hyperparameter (the usual defaults), or for a constant of the rule.
HYPER_CONSTANTS = (0.9, 0.99, 0.999, 0.0, 1.0)


EPSILON_CONSTANTS = (1e-8, 1e-7, 1e-6, 0.0)


CONSTANTS = (0.0, 1.0, 2.0, 0.5)


@dataclass(frozen=True)
class Edit:
    """One edit of one statement: the piece `old` of the rule became `new` (`kind` says how); both are
    expressions (or, for a return order or a swap, text); `text(rule)` renders them."""

    kind: str
    statement: int  # index into Rule.statements; len(statements) is the return; -1: every statement
    old: object
    new: object

    def text(self, rule):
        """(before, after) as Python text."""
        if isinstance(self.old, str):
            return self.old, self.new
        show = rule.display(self.statement)
        return _text(self.old, show), _text(self.new, show)

    def to_dict(self, rule):
        before, after = self.text(rule)
        return {"kind": self.kind, "statement": self.statement, "before": before, "after": after}


_KIND_COST = {
    "return order": 0.5,
    "operator": 1,
    "variable": 1,
    "t shifted": 1,
    "hyperparameter": 1,
    "hyperparameters swapped": 1,
    "operands swapped": 1,
    "dropped": 1.2,
    "constant": 1.6,
    "epsilon moved": 1,
    "regrouped": 1.4,
    "wrapped": 1.5,
    "scaled": 1.5,
}


def _local_edits(expr, scope, hyper, show):
    """(kind, new expr) of the edits at the root of `expr` (not inside it)."""
    kind = expr[0]
    out = []
    if kind == "var":
        for other in scope:
            if other != expr[1]:
                out.append(("variable", ("var", other)))
        if expr[1].split("@")[0] == "t":
            out.append(("t shifted", ("bin", "+", expr, ("const", 1.0))))
            out.append(("t shifted", ("bin", "-", expr, ("const", 1.0))))
    elif kind == "hyp":
        for other in hyper:
            if other != expr[1]:
                out.append(("hyperparameter", ("hyp", other)))
        if "eps" not in expr[1]:
            out.append(("hyperparameter", ("bin", "-", ("const", 1.0), expr)))
        for value in EPSILON_CONSTANTS if "eps" in expr[1] else HYPER_CONSTANTS:
            out.append(("constant", ("const", value)))
    elif kind == "const":
        for value in CONSTANTS:
            if value != expr[1]:
                out.append(("constant", ("const", value)))
    elif kind == "bin":
        op, a, b = expr[1], expr[2], expr[3]
        for other in {"+": "-*", "-": "+/", "*": "/+", "/": "*-", "**": "*"}[op]:
            out.append(("operator", ("bin", other, a, b)))
        if op in "-/**":
            out.append(("operands swapped", ("bin", op, b, a)))
        out.append(("dropped", a))
        out.append(("dropped", b))
        if op == "-":
            out.append(("dropped", ("neg", b)))
        if a[0] == "bin" and _PRECEDENCE[a[1]] != _PRECEDENCE[op]:  # (a1 o a2) op b -> a1 o (a2 op b)
            out.append(("regrouped", ("bin", a[1], a[2], ("bin", op, a[3], b))))
        if b[0] == "bin" and _PRECEDENCE[b[1]] != _PRECEDENCE[op]:  # a op (b1 o b2) -> (a op b1) o b2
            out.append(("regrouped", ("bin", b[1], ("bin", op, a, b[2]), b[3])))
    elif kind == "neg":
        out.append(("dropped", expr[1]))
    elif kind == "call":
        inner = expr[2]
        out.append(("dropped", inner))
        if expr[1] == "sqrt" and inner[0] == "bin" and inner[1] == "+":  # sqrt(a + eps) -> sqrt(a) + eps
            out.append(("epsilon moved", ("bin", "+", ("call", "sqrt", inner[2]), inner[3])))
            out.append(("epsilon moved", ("bin", "+", inner[2], ("call", "sqrt", inner[3]))))
    if kind != "const":
        out.append(("wrapped", ("call", "sqrt", expr)))
        out.append(("wrapped", ("call", "square", expr)))
    if kind == "var" and expr[1].split("@")[0] not in ("t", "init_lr"):  # a tensor read
        if expr[1].split("@")[0] == "gradient_x":  # |g| for g²; the probes' state may have one sign only
            out.append(("wrapped", ("call", "abs", expr)))
        out.append(("wrapped", ("call", "sum", expr)))
        out.append(("wrapped", ("call", "mean", expr)))
        for factor in (
            [("var", "init_lr")]
            + [("hyp", name) for name in hyper]
            + [("bin", "-", ("const", 1.0), ("hyp", name)) for name in hyper if "eps" not in name]
        ):
            out.append(("scaled", ("bin", "*", factor, expr)))
            out.append(("scaled", ("bin", "/", expr, factor)))
    if kind == "hyp":
        out.append(("wrapped", ("bin", "*", ("const", 2.0), expr)))
    if kind in ("bin", "call") and _is_tensor(expr):
        out.append(("wrapped", ("call", "sum", expr)))
        out.append(("wrapped", ("call", "mean", expr)))
    if kind in ("bin", "call"):
        out.append(("wrapped", ("bin", "*", ("const", 2.0), expr)))
        out.append(("wrapped", ("bin", "/", expr, ("const", 2.0))))
        out.append(("wrapped", ("neg", expr)))
        if "epsilon" in hyper and "epsilon" not in _uses(expr, ("hyp",)):
            out.append(("wrapped", ("bin", "+", expr, ("hyp", "epsilon"))))
    return out


def _all_edits(expr, scope, hyper, show):
    """(kind, before expr, after expr, new whole expr) of every single edit anywhere in `expr`."""
    for kind, after in _local_edits(expr, scope, hyper, show):
        yield kind, expr, after, after
    if expr[0] == "bin":
        for kind, before, after, new in _all_edits(expr[2], scope, hyper, show):
            yield kind, before, after, ("bin", expr[1], new, expr[3])
        for kind, before, after, new in _all_edits(expr[3], scope, hyper, show):
            yield kind, before, after, ("bin", expr[1], expr[2], new)
    elif expr[0] in ("neg", "call"):
        for kind, before, after, new in _all_edits(expr[-1], scope, hyper, show):
            yield kind, before, after, (*expr[:-1], new)


def _is_tensor(expr):
    """Does `expr` read a tensor (x, the gradient, the state), not only numbers (t, init_lr, hyperparameters)?"""
    return any(name.split("@")[0] not in ("t", "init_lr") for name in _uses(expr))


def _swaps(expr):
    """(before, after, new expr): two disjoint small subtrees of `expr` (at most 3 nodes each) swapped."""
    positions = []

    def walk(node, path):
        if _size(node) <= 3:
            positions.append((path, node))
        if node[0] == "bin":
            walk(node[2], path + (2,))
            walk(node[3], path + (3,))
        elif node[0] in ("neg", "call"):
            walk(node[-1], path + (len(node) - 1,))

    def put(node, path, value):
        if not path:
            return value
        head = path[0]
        return node[:head] + (put(node[head], path[1:], value),) + node[head + 1 :]

    walk(expr, ())
    for i, (path_a, a) in enumerate(positions):
        for path_b, b in positions[i + 1 :]:
            if a == b or path_b[: len(path_a)] == path_a or path_a[: len(path_b)] == path_b:
                continue
            if (a[0] == "const" and b[0] == "const") or _is_tensor(a) != _is_tensor(b):
                continue  # two numbers, or a tensor and a number: not a swap a student makes
            yield a, b, put(put(expr, path_a, b), path_b, a)


@dataclass(frozen=True)
class Candidate:
    """A rule with one or two edits: the new statements by index (the return at len(statements))."""

    edits: tuple
    override: tuple  # ((statement index, new expr), ...)
    returns: tuple | None = None  # the new return expressions, when the return was edited
    swap: tuple | None = None  # two hyperparameters swapped everywhere

    @property
    def cost(self):
        return sum(_KIND_COST.get(edit.kind, 1.5) for edit in self.edits)
