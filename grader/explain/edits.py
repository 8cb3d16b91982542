"""The edit search: which small edit of an update rule reproduces a wrong answer exactly. Trusted side.

Standalone on purpose: it imports only the standard library and numpy (torch tensors are read through
`.detach().cpu().numpy()`, never imported), so it can be copied verbatim into another package (the
student's bundle). It knows nothing of the grader: the caller gives the rule's source, the probe calls,
the hyperparameters and the student's answers.

The idea. An update rule is a few straight-line assignments and a return (`Adam.adam` and its kin). A
student's wrong rule is very often the right one with one or two small edits: an operator changed, two
operands or variables swapped, a term dropped or doubled, a square root added or dropped, epsilon moved,
t shifted by one, a hyperparameter replaced by another or by a constant, the state read before its
update, the returned values in another order. Every such candidate is a function; it explains the
student only if it reproduces every returned value on every probe call (NaN and inf at the same places,
every finite entry within the grading tolerance, an output that is NaN everywhere never agrees).

API (plain data in, plain data out):

    rule = Rule.from_source(source)           # a per-key method's source: `def adam(self, x, ...)` + body
    table = candidate_table(rule, calls, hyper, init_lr)    # every single edit's outputs on the calls
    found = explain(rule, calls, answers, hyper=hyper, init_lr=init_lr, table=table,
                    rtol=FLOAT32_RTOL, sequences=[...], checks=[...])
    found.text, found.to_dict(), found.readings   # or None: nothing within two edits reproduces the answers

`calls`: the probe calls, each the list of arguments after `self` and before `init_lr`
([x, gradient_x, *state], tensors, arrays or numbers); `answers`: what the student's method returned for
each (a tuple, or None where it raised: then nothing is explained). `sequences`: `step()` runs to confirm
a candidate on, each `(params, gradients, trajectory, hyper, init_lr, unit)` with `params` key -> start,
`gradients` one dict per step, `trajectory` the student's parameters after each step (None where step()
failed) and `unit` the dtype's unit roundoff; `checks`: more single calls to confirm on, each
`(arguments, answer, hyper, init_lr, rtol)`. `simulate_steps(rule, candidate, ...)` runs the course's
step() loop with a candidate (None: the rule itself).

Cost: the candidates do not depend on the student, so `candidate_table` computes the single edits'
outputs once (keep the table: it also remembers each student's search); `explain` matches the student
with numpy, then tries pairs of edits where the student's answers allow them, every pair of edits in two
statements evaluated for all first edits at once.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "FLOAT32_RTOL",
    "Candidate",
    "Edit",
    "Explanation",
    "Rule",
    "Table",
    "candidate_table",
    "explain",
    "simulate_steps",
]

#: The grading tolerance of one per-key call on float32 inputs: 16u, u = 2⁻²⁴ (see grader.explain.diagnosis).
FLOAT32_RTOL = 16 * 2.0**-24
#: Constants a student may write for a hyperparameter (the usual defaults), or for a constant of the rule.
HYPER_CONSTANTS = (0.9, 0.99, 0.999, 0.0, 1.0)
EPSILON_CONSTANTS = (1e-8, 1e-7, 1e-6, 0.0)
CONSTANTS = (0.0, 1.0, 2.0, 0.5)
MAX_SHOWN = 3

# ----------------------------------------------------------------------------------- expressions
# An expression is a nested tuple: ("var", ssa_name) | ("hyp", name) | ("const", value) |
# ("bin", op, a, b) with op in + - * / ** | ("neg", a) | ("call", fn, a) with fn in sqrt abs sum mean.

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "**": 4}
_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_FUNCTIONS = {"sqrt": "sqrt", "abs": "abs", "sum": "sum", "mean": "mean", "square": "square"}


class RuleError(ValueError):
    """The source is not a straight-line rule this module can read."""


def _parse_expr(node, names, scope):
    if isinstance(node, ast.Name):
        if node.id not in names:
            raise RuleError(f"unknown name {node.id!r}")
        return ("var", names[node.id])
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        return ("hyp", node.attr)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return ("const", float(node.value))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = _parse_expr(node.left, names, scope), _parse_expr(node.right, names, scope)
        return ("bin", _BINOPS[type(node.op)], left, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return ("neg", _parse_expr(node.operand, names, scope))
    if isinstance(node, ast.Call) and len(node.args) <= 1 and not node.keywords:
        function = node.func
        if isinstance(function, ast.Attribute) and function.attr in _FUNCTIONS:
            if node.args:  # torch.sqrt(a), np.sqrt(a)
                return ("call", _FUNCTIONS[function.attr], _parse_expr(node.args[0], names, scope))
            return ("call", _FUNCTIONS[function.attr], _parse_expr(function.value, names, scope))  # a.sqrt()
        if isinstance(function, ast.Name) and function.id == "abs" and node.args:
            return ("call", "abs", _parse_expr(node.args[0], names, scope))
    raise RuleError(f"cannot read {ast.unparse(node)!r}")


def _text(expr, display, parent=0, right=False):
    """Python text of `expr` with the fewest parentheses; `display` maps SSA names to what is shown."""
    kind = expr[0]
    if kind == "var":
        return display(expr[1])
    if kind == "hyp":
        return f"self.{expr[1]}"
    if kind == "const":
        value = expr[1]
        return repr(int(value)) if value == int(value) and abs(value) < 1e6 else repr(value)
    if kind == "call":
        if expr[1] == "square":
            own = _PRECEDENCE["**"]
            text = f"{_text(expr[2], display, own + 1)} ** 2"
            return f"({text})" if own < parent else text
        return f"torch.{expr[1]}({_text(expr[2], display)})"
    if kind == "neg":
        own = _PRECEDENCE["neg"]
        text = "-" + _text(expr[1], display, own)
    else:
        op = expr[1]
        own = _PRECEDENCE[op]
        if op == "**":  # right-associative
            text = f"{_text(expr[2], display, own + 1)} ** {_text(expr[3], display, own)}"
        else:
            text = f"{_text(expr[2], display, own)} {op} {_text(expr[3], display, own, right=True)}"
    if own < parent or (right and own == parent and expr[0] == "bin" and expr[1] != "**"):
        return f"({text})"
    return text


def _size(expr):
    if expr[0] == "bin":
        return 1 + _size(expr[2]) + _size(expr[3])
    if expr[0] in ("neg", "call"):
        return 1 + _size(expr[-1])
    return 1


def _uses(expr, kinds=("var",)):
    if expr[0] in kinds:
        return {expr[1]}
    if expr[0] == "bin":
        return _uses(expr[2], kinds) | _uses(expr[3], kinds)
    if expr[0] in ("neg", "call"):
        return _uses(expr[-1], kinds)
    return set()


# ----------------------------------------------------------------------------------------- the rule


@dataclass(frozen=True)
class Rule:
    """A per-key method read as straight-line code in SSA form.

    inputs: the argument names after self, init_lr last (e.g. x, gradient_x, G, M, t, init_lr);
    statements: ((ssa_name, shown_name, expr), ...); returns: the returned expressions;
    hyper: the `self.<name>` hyperparameters it reads.
    """

    name: str
    inputs: tuple
    statements: tuple
    returns: tuple
    hyper: tuple

    @classmethod
    def from_source(cls, source: str) -> Rule:
        """Read `def rule(self, x, gradient_x, ..., init_lr):` and its body (docstring and comments allowed)."""
        tree = ast.parse(textwrap.dedent(source))
        function = next((node for node in tree.body if isinstance(node, ast.FunctionDef)), None)
        if function is None:
            raise RuleError("no function definition")
        inputs = tuple(argument.arg for argument in function.args.args[1:])
        names = {name: name for name in inputs}
        statements, returns, count = [], None, {}
        for node in function.body:
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                continue  # the docstring
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                target = node.targets[0].id
                expr = _parse_expr(node.value, names, None)
                count[target] = count.get(target, 0) + 1
                ssa = f"{target}@{count[target]}"
                names[target] = ssa
                statements.append((ssa, target, expr))
            elif isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):
                returns = tuple(_parse_expr(element, names, None) for element in node.value.elts)
                break
            else:
                raise RuleError(f"cannot read the statement {ast.unparse(node)!r}")
        if returns is None:
            raise RuleError("no `return a, b, ...`")
        hyper = set()
        for _, _, expr in statements:
            hyper |= _uses(expr, ("hyp",))
        for expr in returns:
            hyper |= _uses(expr, ("hyp",))
        return cls(function.name, inputs, tuple(statements), returns, tuple(sorted(hyper)))

    @classmethod
    def from_function(cls, function) -> Rule:
        """Read a method such as `reference.Adam.adam` (lines outside its statements, e.g. markers, ignored)."""
        return cls.from_source(inspect.getsource(function))

    @property
    def state(self):
        """The state arguments (between gradient_x and init_lr)."""
        return self.inputs[2:-1]

    def scope(self, index):
        """The SSA names readable by statement `index` (len(statements): the return)."""
        return list(self.inputs) + [ssa for ssa, _, _ in self.statements[:index]]

    def display(self, index):
        """How statement `index` shows an SSA name: its own name, or old_<name> for a value since overwritten."""
        latest = {name: name for name in self.inputs}
        for ssa, name, _ in self.statements[:index]:
            latest[name] = ssa
        shown = {ssa: name for ssa, name, _ in self.statements}

        def show(ssa):
            name = shown.get(ssa, ssa)
            return name if latest.get(name) == ssa else f"old_{name}"

        return show

    def line(self, index, expr=None, returns=None):
        """Python text of statement `index` (or of the return), with `expr` / `returns` in place of its own."""
        show = self.display(index)
        if index == len(self.statements):
            return "return " + ", ".join(_text(value, show) for value in (returns or self.returns))
        _, name, own = self.statements[index]
        return f"{name} = {_text(expr or own, show)}"


# ----------------------------------------------------------------------------------------- evaluation

_NP_BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "**": np.power}


def _evaluate(expr, env, reduce, memo=None):
    """The value of `expr` in `env`. memo: id(subexpression) -> (subexpression, value) for one env, so that
    the many edits of one statement, which share their unchanged parts, evaluate only what changed."""
    kind = expr[0]
    if kind == "var":
        return env[expr[1]]
    if kind == "hyp":
        return env["self." + expr[1]]
    if kind == "const":
        return expr[1]
    if memo is not None:
        hit = memo.get(id(expr))
        if hit is not None and hit[0] is expr:
            return hit[1]
    if kind == "bin":
        value = _NP_BINARY[expr[1]](_evaluate(expr[2], env, reduce, memo), _evaluate(expr[3], env, reduce, memo))
    elif kind == "neg":
        value = np.negative(_evaluate(expr[1], env, reduce, memo))
    else:
        inner = _evaluate(expr[2], env, reduce, memo)
        function = expr[1]
        if function == "sqrt":
            value = np.sqrt(inner)
        elif function == "abs":
            value = np.abs(inner)
        elif function == "square":
            value = np.multiply(inner, inner)
        else:
            value = reduce(inner, function)
    if memo is not None:
        memo[id(expr)] = (expr, value)
    return value


def _reducer(segments):
    """sum/mean over each call's entries, broadcast back: segments are (start, stop) of the flat layout."""
    size = segments[-1][1] if segments else 0
    matrix = np.zeros((size, size))
    for start, stop in segments:
        matrix[start:stop, start:stop] = 1.0
    counts = matrix.sum(axis=0)

    def reduce(value, function):
        value = np.broadcast_to(np.asarray(value, dtype=np.float64), np.broadcast(value, np.empty(size)).shape)
        total = value @ matrix
        return total / counts if function == "mean" else total

    return reduce


def _as_array(value):
    """A tensor, array or number as a float64 numpy array (None if it is none of these)."""
    if value is None or isinstance(value, bool):
        return None
    if hasattr(value, "detach"):
        value = value.detach()
        if hasattr(value, "cpu"):
            value = value.cpu()
        try:
            return value.double().numpy() if hasattr(value, "double") else np.asarray(value, dtype=np.float64)
        except Exception:  # noqa: BLE001 - a tensor that will not convert: no answer
            return None
    if isinstance(value, (int, float, np.integer, np.floating, np.ndarray)):
        return np.asarray(value, dtype=np.float64)
    return None


@dataclass
class _Layout:
    """The calls flattened into one vector of entries: each call a segment of the broadcast shape of its
    arguments; an input is that call's values broadcast over its segment."""

    shapes: list
    segments: list
    env: dict


def _layout(rule, calls, hyper, init_lr):
    names = rule.inputs[:-1]
    shapes, segments, columns, start = [], [], {name: [] for name in names}, 0
    for call in calls:
        arrays = [_as_array(value) for value in call]
        if len(arrays) != len(names) or any(array is None for array in arrays):
            raise ValueError(f"each call needs {len(names)} numeric arguments ({', '.join(names)})")
        shape = np.broadcast_shapes(*(array.shape for array in arrays))
        size = int(np.prod(shape)) if shape else 1
        shapes.append(shape)
        segments.append((start, start + size))
        start += size
        for name, array in zip(names, arrays):
            columns[name].append(np.broadcast_to(array, shape).reshape(-1))
    env = {name: np.concatenate(parts) if parts else np.zeros(0) for name, parts in columns.items()}
    env[rule.inputs[-1]] = float(init_lr)
    for name, value in hyper.items():
        env["self." + name] = float(value)
    return _Layout(shapes, segments, env)


def _run(rule, env, start, override, reduce, returns=None):
    """Evaluate statements from `start` on (override: index -> expr) and the return; (env, outputs)."""
    env = dict(env)
    for index in range(start, len(rule.statements)):
        ssa, _, expr = rule.statements[index]
        env[ssa] = _evaluate(override.get(index, expr), env, reduce)
    outputs = [_evaluate(value, env, reduce) for value in (returns or rule.returns)]
    return env, outputs


def _stack_outputs(outputs, size):
    """[outputs] -> array [..., n_out, size] (scalars and [size] vectors broadcast)."""
    arrays = [np.asarray(value, dtype=np.float64) for value in outputs]
    batch = np.broadcast_shapes(*(array.shape[:-1] if array.ndim == 2 else () for array in arrays))
    return np.stack([np.broadcast_to(array, (*batch, size)) for array in arrays], axis=-2)


# ---------------------------------------------------------------------------------------------- edits


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


# ------------------------------------------------------------------------------------------ the table


@dataclass(frozen=True)
class Candidate:
    """A rule with one or two edits: the new statements by index (the return at len(statements))."""

    edits: tuple
    override: tuple  # ((statement index, new expr), ...)
    returns: tuple = None  # the new return expressions, when the return was edited
    swap: tuple = None  # two hyperparameters swapped everywhere

    @property
    def cost(self):
        return sum(_KIND_COST.get(edit.kind, 1.5) for edit in self.edits)


@dataclass
class Table:
    """What the search needs that does not depend on the student, for one rule and one set of calls:
    every single edit's outputs (outputs[c] is [n_out, entries], float64), which of them reproduce the
    rule itself, the environment of each single before every later statement (to extend it by a second
    edit), and the two-hyperparameter swaps with and without a further edit."""

    rule: Rule
    layout: _Layout
    hyper: dict
    init_lr: float
    reference: np.ndarray
    int_outputs: tuple
    singles: list  # [(Candidate, statement index)]
    outputs: np.ndarray  # [len(singles), n_out, N]
    noop: np.ndarray  # [len(singles)] bool: reproduces the rule itself
    states: list  # per single: its environment after its run
    before: list  # the rule's environment before each statement (and before the return)
    extra: list = field(default_factory=list)  # [Candidate] two-edit candidates precomputed (swaps)
    extra_outputs: np.ndarray = None

    @property
    def candidates(self):
        return [candidate for candidate, _ in self.singles]


def _hyper_env(layout, hyper, swap):
    env = dict(layout.env)
    if swap:
        a, b = swap
        env["self." + a], env["self." + b] = env["self." + b], env["self." + a]
    return env


def _singles(rule, env, reduce, swap=None):
    """Every single-statement edit: ([(candidate, statement index)], the environment before each statement)."""
    n = len(rule.statements)
    before = [None] * (n + 1)
    current = dict(env)
    for index, (ssa, _, expr) in enumerate(rule.statements):
        before[index] = current
        current = dict(current)
        current[ssa] = _evaluate(expr, current, reduce)
    before[n] = current
    base = (Edit("hyperparameters swapped", -1, f"self.{swap[0]}", f"self.{swap[1]}"),) if swap else ()
    results = []
    for index in range(n + 1):
        scope, show = rule.scope(index), rule.display(index)
        targets = [rule.statements[index][2]] if index < n else list(rule.returns)
        seen = set()
        for position, expr in enumerate(targets):
            variants = list(_all_edits(expr, scope, rule.hyper, show))
            variants += [("operands swapped", old, new_part, new) for old, new_part, new in _swaps(expr)]
            for kind, old, new_part, new in variants:
                if new == expr or (position, new) in seen:
                    continue
                seen.add((position, new))
                edit = Edit(kind, index, old, new_part)
                if index < n:
                    results.append((Candidate(base + (edit,), ((index, new),), None, swap), index))
                else:
                    returns = tuple(targets[:position] + [new] + targets[position + 1 :])
                    results.append((Candidate(base + (edit,), (), returns, swap), index))
        if index == n:
            for i in range(len(targets)):
                for j in range(i + 1, len(targets)):
                    returns = list(targets)
                    returns[i], returns[j] = returns[j], returns[i]
                    edit = Edit(
                        "return order",
                        n,
                        f"{_text(targets[i], show)}, {_text(targets[j], show)}",
                        f"{_text(targets[j], show)}, {_text(targets[i], show)}",
                    )
                    results.append((Candidate(base + (edit,), (), tuple(returns), swap), n))
    return results, before


def _with_errstate(function):
    def wrapped(*args, **kwargs):
        with np.errstate(all="ignore"):
            return function(*args, **kwargs)

    wrapped.__doc__, wrapped.__name__ = function.__doc__, function.__name__
    return wrapped


def _run_singles(rule, singles, before, reduce, size):
    n = len(rule.statements)
    states, outputs = [], []
    for candidate, index in singles:
        env_after, values = _run(
            rule, before[min(index, n)], index, dict(candidate.override), reduce, candidate.returns
        )
        states.append(env_after)
        outputs.append(_stack_outputs(values, size))
    return states, (np.stack(outputs) if outputs else None)


@_with_errstate
def candidate_table(rule: Rule, calls, hyper: dict, init_lr: float) -> Table:
    """Every single edit's outputs on `calls` (and every swap of two hyperparameters, alone and with one
    more edit). Independent of any student: compute it once per rule and set of calls, and keep it;
    `explain` extends it to pairs of edits where the student's answers allow them."""
    layout = _layout(rule, calls, hyper, init_lr)
    reduce = _reducer(layout.segments)
    size = layout.segments[-1][1] if layout.segments else 0
    _, ref_outputs = _run(rule, layout.env, 0, {}, reduce)
    reference = _stack_outputs(ref_outputs, size)
    int_outputs = tuple(i for i, value in enumerate(rule.returns) if _is_counter(rule, value))
    singles, before = _singles(rule, layout.env, reduce)
    states, outputs = _run_singles(rule, singles, before, reduce, size)
    table = Table(
        rule, layout, dict(hyper), float(init_lr), reference, int_outputs, singles, outputs, None, states, before
    )
    floors = _floors(table)
    table.noop = _agree_slots(table, outputs, reference, FLOAT32_RTOL, floors).all(axis=1)
    extra, extra_outputs = [], []
    for i, a in enumerate(rule.hyper):
        for b in rule.hyper[i + 1 :]:
            env = _hyper_env(layout, hyper, (a, b))
            swapped, swapped_before = _singles(rule, env, reduce, (a, b))
            _, values = _run(rule, env, 0, {}, reduce)
            extra.append(Candidate((Edit("hyperparameters swapped", -1, f"self.{a}", f"self.{b}"),), (), None, (a, b)))
            extra_outputs.append(_stack_outputs(values, size)[None])
            _, block = _run_singles(rule, swapped, swapped_before, reduce, size)
            extra += [candidate for candidate, _ in swapped]
            extra_outputs.append(block)
    if extra:
        table.extra, table.extra_outputs = extra, np.concatenate(extra_outputs)
    return table


def _final_before(rule):
    """For each statement index i (and the return), the returned slots whose value is fixed before i."""
    defined_at = {ssa: k for k, (ssa, _, _) in enumerate(rule.statements)}
    result = []
    for index in range(len(rule.statements) + 1):
        slots = set()
        for slot, value in enumerate(rule.returns):
            if value[0] == "var" and defined_at.get(value[1], -1) < index:
                slots.add(slot)
        result.append(slots)
    return result


@_with_errstate
def _pairs(table, student, rtol, floors, agree):
    """Pairs of edits that reproduce `student`: [Candidate]. `agree[s, k]`: single s agrees on slot k."""
    rule, n = table.rule, len(table.rule.statements)
    reduce = _reducer(table.layout.segments)
    size = table.reference.shape[-1]
    final = _final_before(rule)
    ref_agree = _agree_slots(table, table.reference[None], student, rtol, floors)[0]
    live = [k for k in range(len(table.singles)) if not table.noop[k]]
    found = []
    # Two statements: for each second edit, every earlier first edit that leaves the returned values
    # fixed before the second statement as the student has them, evaluated at once.
    stacks = {}

    def pair(both):
        first, candidate = both
        return Candidate(
            first.edits + candidate.edits, first.override + candidate.override, candidate.returns or first.returns
        )

    pending = _Pending(
        lambda block: _agree(table, block, student, rtol, floors),
        lambda labels: found.extend(pair(both) for both in labels),
    )
    for second in live:
        candidate, index = table.singles[second]
        fixed = set(final[index])
        if candidate.returns:
            fixed = {slot for slot in fixed if candidate.returns[slot] == rule.returns[slot]}
        if index not in stacks:
            earlier = [k for k in live if table.singles[k][1] < index]
            stacks[index] = (
                np.array(earlier, dtype=int),
                {
                    name: _stack([_value(table.states[k], table.before[index], name) for k in earlier], size)
                    for name in table.before[index]
                }
                if earlier
                else {},
            )
        earlier, stacked = stacks[index]
        if not len(earlier):
            continue
        mask = agree[earlier][:, sorted(fixed)].all(axis=1)
        if not mask.any():
            continue
        firsts = earlier[mask]
        env = {
            name: (value[mask] if isinstance(value, np.ndarray) and value.ndim == 2 else value)
            for name, value in stacked.items()
        }
        _, values = _run(rule, env, index, dict(candidate.override), reduce, candidate.returns)
        out = _stack_outputs(values, size)
        pending.add(
            np.broadcast_to(out, (len(firsts), *out.shape[-2:])), [(table.singles[k][0], candidate) for k in firsts]
        )
    pending.flush()
    # One statement: every edit of an edited statement, where the values fixed before it are right; the
    # statement's values for all of them at once go through the rest of the rule together.
    same = _Pending(lambda block: _agree(table, block, student, rtol, floors), found.extend)
    seen_by = {}  # per statement: the edited expressions already judged
    memos = {}  # per statement: the values of subexpressions shared by its edits (same environment)
    for k in live:
        candidate, index = table.singles[k]
        if index == n or not all(ref_agree[slot] for slot in final[index]):
            continue
        target = ("var", rule.statements[index][0])
        if any(value == target and ref_agree[slot] for slot, value in enumerate(rule.returns)):
            continue  # the student returns this statement's value as the rule has it
        expr = dict(candidate.override)[index]
        scope, show = rule.scope(index), rule.display(index)
        batch, values = [], []
        env, memo = table.before[index], memos.setdefault(index, {})
        seen = seen_by.setdefault(index, set())
        for kind, old, new_part, new in _all_edits(expr, scope, rule.hyper, show):
            if new != rule.statements[index][2] and new not in seen:  # two disjoint edits come in either order
                seen.add(new)
                batch.append(Candidate(candidate.edits + (Edit(kind, index, old, new_part),), ((index, new),)))
                values.append(_evaluate(new, env, reduce, memo))
        if not batch:
            continue
        stacked = dict(env)
        stacked[rule.statements[index][0]] = _stack(values, size)
        _, outputs = _run(rule, stacked, index + 1, {}, reduce)
        out = _stack_outputs(outputs, size)
        same.add(np.broadcast_to(out, (len(batch), *out.shape[-2:])), batch)
    same.flush()
    # Two edits of the return.
    returns = [k for k in live if table.singles[k][1] == n]
    two = _Pending(lambda block: _agree(table, block, student, rtol, floors), found.extend)
    for i, a in enumerate(returns):
        for b in returns[i + 1 :]:
            first, second = table.singles[a][0], table.singles[b][0]
            merged = _merge_returns(rule, first.returns, second.returns)
            if merged is None:
                continue
            out = _stack_outputs(_run(rule, table.before[n], n, {}, reduce, merged)[1], size)
            two.add(out[None], [Candidate(first.edits + second.edits, (), merged)])
    two.flush()
    return found


class _Pending:
    """Blocks of candidate outputs judged together once there are enough of them (fewer numpy calls)."""

    def __init__(self, judge, accept, rows=20000):
        self.judge, self.accept, self.rows = judge, accept, rows
        self.blocks, self.labels, self.count = [], [], 0

    def add(self, block, labels):
        self.blocks.append(block)
        self.labels += list(labels)
        self.count += len(block)
        if self.count >= self.rows:
            self.flush()

    def flush(self):
        if self.blocks:
            ok = self.judge(np.concatenate(self.blocks))
            self.accept([self.labels[i] for i in np.flatnonzero(ok)])
        self.blocks, self.labels, self.count = [], [], 0


def _merge_returns(rule, a, b):
    """Both return edits at once, or None where they edit the same returned value."""
    merged = []
    for original, x, y in zip(rule.returns, a, b):
        if x != original and y != original:
            return None
        merged.append(x if x != original else y)
    return tuple(merged)


def _value(env_after, before, name):
    """A first edit's value of `name` before the second statement (`name` is defined before it)."""
    return env_after.get(name, before.get(name))


def _stack(values, size):
    if (
        all(not isinstance(value, np.ndarray) or value.ndim == 0 for value in values)
        and len({float(value) for value in values}) == 1
    ):
        return values[0]
    out = np.empty((len(values), size))
    for row, value in zip(out, values):
        row[...] = value
    return out


def _is_counter(rule, expr):
    """A returned value computed from t and constants only (the step counter): compared exactly."""
    names = _uses(expr)
    if not names or _uses(expr, ("hyp",)):
        return False
    origin = {ssa: expr for ssa, _, expr in rule.statements}
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in origin:
            if _uses(origin[name], ("hyp",)):
                return False
            todo += list(_uses(origin[name]))
        elif name != "t":
            return False
    return True


# ------------------------------------------------------------------------------------------ matching


def _student_matrix(table, answers):
    """The answers as [n_out, N] float64, or None when any is missing or shaped unlike the calls."""
    n_out = table.reference.shape[0]
    rows = [[] for _ in range(n_out)]
    if len(answers) != len(table.layout.shapes):
        return None
    for answer, shape in zip(answers, table.layout.shapes):
        if not isinstance(answer, (tuple, list)) or len(answer) != n_out:
            return None
        for index, value in enumerate(answer):
            array = _as_array(value)
            if array is None:
                return None
            if array.shape != tuple(shape):
                if (index in table.int_outputs and array.size == 1) or isinstance(value, (int, float)):
                    # a step counter as a number or one-element tensor; or a plain Python number (a state
                    # returned before it ever became a tensor): the same value in every entry
                    array = np.full(shape, float(array.reshape(-1)[0]))
                else:
                    return None
            rows[index].append(array.reshape(-1))
    return np.stack([np.concatenate(row) for row in rows])


def _floors(table):
    """Per output and entry, the size of the output's input counterpart (x for x, G for G ...) in its call."""
    rule, layout = table.rule, table.layout
    counterparts = [rule.inputs[0], *rule.state]
    floors = np.zeros(table.reference.shape)
    for start, stop in layout.segments:
        for index, name in enumerate(counterparts[: floors.shape[0]]):
            values = np.broadcast_to(np.asarray(layout.env[name]), (floors.shape[-1],))[start:stop]
            finite = values[np.isfinite(values)]
            floors[index, start:stop] = np.abs(finite).max() if finite.size else 0.0
    return floors


@_with_errstate
def _agree(table, candidates, student, rtol, floors):
    """[C] bool: candidates that agree on every returned value. The first call alone is judged first (a
    necessary condition, cheap), the full rule then only on the few left."""
    candidates = np.asarray(candidates)
    start, stop = table.layout.segments[0]
    c, s = candidates[..., start:stop], student[None, :, start:stop]
    scale = np.maximum(
        np.where(np.isfinite(c), np.abs(c), 0.0).max(axis=-1, keepdims=True), floors[None, :, start : start + 1]
    )
    maybe = (~(np.abs(s - c) > rtol * (np.abs(c) + scale))).all(axis=(-1, -2))  # NaN differences pass here
    result = np.zeros(len(candidates), dtype=bool)
    rows = np.flatnonzero(maybe)
    if len(rows):
        result[rows] = _agree_slots(table, candidates[rows], student, rtol, floors).all(axis=1)
    return result


@_with_errstate
def _agree_slots(table, candidates, student, rtol, floors):
    """[C, n_out] bool: candidate c's returned value k agrees with the student's under the grading rule.

    Per call: non-finite entries must coincide (NaN with NaN, inf with the same inf); finite ones within
    rtol·(|c| + S), S the largest finite |c| of that value in that call, at least its input counterpart's
    size; whole-number values (t) exactly. A value with no finite entry in any call agrees with nothing.
    """
    candidates = np.asarray(candidates)
    result = np.ones(candidates.shape[:2], dtype=bool)
    any_finite = np.zeros(candidates.shape[:2], dtype=bool)
    for start, stop in table.layout.segments:
        c, s = candidates[..., start:stop], student[None, :, start:stop]
        finite_c, finite_s = np.isfinite(c), np.isfinite(s)
        both = finite_c & finite_s
        same_nonfinite = ((c == s) | (np.isnan(c) & np.isnan(s))) & ~finite_c & ~finite_s
        scale = np.maximum(
            np.where(finite_c, np.abs(c), 0.0).max(axis=-1, keepdims=True), floors[None, :, start : start + 1]
        )
        close = np.where(both, np.abs(s - c) <= rtol * (np.abs(c) + scale), same_nonfinite)
        for index in table.int_outputs:
            close[:, index] = both[:, index] & (c[:, index] == s[:, index])
        result &= close.all(axis=-1)
        any_finite |= both.any(axis=-1)
    return result & any_finite


# ------------------------------------------------------------------------------------- step sequences


@_with_errstate
def simulate_steps(rule: Rule, candidate, params: dict, gradients: list, hyper: dict, init_lr: float):
    """The parameters after each step() of the course's loop with the candidate rule (None: the rule).

    Every state argument but `t` is kept per key and starts at 0; `t` is one counter for all keys that
    starts at 1 and takes the value returned for the last key (the reference `step()`).
    """
    override = dict(candidate.override) if candidate else {}
    returns = candidate.returns if candidate else None
    keys = list(params)
    x = {key: _as_array(value) for key, value in params.items()}
    state = {key: {name: 0.0 for name in rule.state if name != "t"} for key in keys}
    t = 1.0
    trajectory = []
    for step in gradients:
        next_t = t
        for key in keys:
            env = {rule.inputs[0]: x[key], rule.inputs[1]: _as_array(step[key]), rule.inputs[-1]: float(init_lr)}
            for name in rule.state:
                env[name] = t if name == "t" else state[key][name]
            for name, value in hyper.items():
                if candidate is not None and candidate.swap and name in candidate.swap:
                    other = candidate.swap[1] if name == candidate.swap[0] else candidate.swap[0]
                    value = hyper[other]
                env["self." + name] = float(value)
            reduce = _reducer([(0, x[key].size)])
            flat = {
                name: (np.asarray(value).reshape(-1) if isinstance(value, np.ndarray) and value.ndim else value)
                for name, value in env.items()
            }
            _, outputs = _run(rule, flat, 0, override, reduce, returns)
            shape = x[key].shape
            outputs = [
                np.broadcast_to(np.asarray(value, dtype=np.float64), (x[key].size,)).reshape(shape) for value in outputs
            ]
            x[key] = outputs[0]
            for name, value in zip(rule.state, outputs[1:]):
                if name == "t":
                    next_t = float(value.reshape(-1)[0]) if value.size else t
                else:
                    state[key][name] = value
        t = next_t
        trajectory.append({key: x[key].copy() for key in keys})
    return trajectory


@_with_errstate
def _trajectory_agrees(ours, theirs, unit):
    """The grading rule for k steps: |got - c| <= 8·k·u (|c| + S_k), S_k the largest |c| so far; non-finite
    entries must coincide."""
    if theirs is None or len(theirs) != len(ours):
        return False
    scale = 0.0
    for k, (mine, step) in enumerate(zip(ours, theirs), start=1):
        if not isinstance(step, dict) or set(step) != set(mine):
            return False
        finite = [np.abs(value[np.isfinite(value)]).max() for value in mine.values() if np.isfinite(value).any()]
        scale = max([scale, *finite])
        for key, value in mine.items():
            got = _as_array(step[key])
            if got is None or got.shape != value.shape:
                return False
            both = np.isfinite(got) & np.isfinite(value)
            same = (got == value) | (np.isnan(got) & np.isnan(value))
            if not np.all(both | same):
                return False
            bound = 8 * k * unit * (np.abs(value) + scale)
            if not np.all(np.where(both, np.abs(got - value) <= bound, True)):
                return False
    return True


# ------------------------------------------------------------------------------------------ explain


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


def explain(
    rule: Rule,
    calls,
    answers,
    *,
    hyper: dict,
    init_lr: float,
    sequences=(),
    checks=(),
    table: Table | None = None,
    rtol: float = FLOAT32_RTOL,
    max_edits: int = 2,
) -> Explanation | None:
    """The simplest edits of `rule` (one, else two) that reproduce every answer, or None.

    answers[i]: what the student's method returned for calls[i] (a tuple; None where it raised: then
    nothing is explained). sequences: step() runs to confirm on, each (params, gradients, trajectory,
    hyper, init_lr, unit), unit the dtype's unit roundoff (2⁻²⁴ for float32). checks: more single calls
    to confirm on, each (arguments, answer, hyper, init_lr, rtol), e.g. the failing case. table: a kept
    `candidate_table(rule, calls, hyper, init_lr)`. Edits that reproduce the rule itself never explain.
    """
    table = table or candidate_table(rule, calls, hyper, init_lr)
    student = _student_matrix(table, list(answers))
    if student is None:
        return None
    floors = _floors(table)
    if _agree_slots(table, table.reference[None], student, rtol, floors).all():
        return None  # the student computes the rule itself
    singles, pairs = _probe_matches(table, student, rtol, floors, max_edits)

    def confirmed(candidates):
        return [
            candidate
            for candidate in candidates
            if all(_confirm_sequence(rule, candidate, *sequence) for sequence in sequences)
            and all(_confirm_call(rule, candidate, *check) for check in checks)
        ]

    found = confirmed(singles) or confirmed(pairs())
    if not found:
        return None
    # The fewest edits; among them the ones that reproduce the answers most closely (an edit that only
    # happens to stay within the tolerance, such as a hyperparameter replaced by a tiny epsilon, is not
    # shown beside an exact one); then the cheapest kinds of edit.
    fewest = [candidate for candidate in found if len(candidate.edits) == min(len(c.edits) for c in found)]
    distance = {id(candidate): _distance(table, candidate, student, rtol, floors) for candidate in fewest}
    best = min(distance.values())
    close = [c for c in fewest if distance[id(c)] <= max(2 * best, best + 0.05)]
    cheapest = min(candidate.cost for candidate in close)
    explanation = Explanation(rule, [], len(found))
    simplest = sorted(
        (c for c in close if c.cost == cheapest),
        key=lambda c: (round(distance[id(c)], 1), _changed_size(explanation, c)),
    )
    readings, texts = [], set()
    for candidate in simplest:
        # Readings that touch the same statements with the same kinds of edit say the same thing.
        meaning = tuple(sorted((edit.statement, edit.kind) for edit in candidate.edits))
        if meaning in texts:
            continue
        texts.add(meaning)
        readings.append(candidate)
        if len(readings) == MAX_SHOWN:
            break
    explanation.readings = readings
    return explanation


@_with_errstate
def _distance(table, candidate, student, rtol, floors):
    """max over the finite entries of |student - candidate| / (rtol·(|c| + S)): 0 is exact, 1 the tolerance."""
    layout, rule = table.layout, table.rule
    reduce = _reducer(layout.segments)
    _, outputs = _run(
        rule, _hyper_env(layout, table.hyper, candidate.swap), 0, dict(candidate.override), reduce, candidate.returns
    )
    c = _stack_outputs(outputs, student.shape[-1])
    worst = 0.0
    for start, stop in layout.segments:
        part, mine = c[:, start:stop], student[:, start:stop]
        finite = np.isfinite(part) & np.isfinite(mine)
        scale = np.maximum(
            np.where(np.isfinite(part), np.abs(part), 0.0).max(axis=-1, keepdims=True), floors[:, start : start + 1]
        )
        ratio = np.where(finite, np.abs(mine - part) / (rtol * (np.abs(part) + scale) + 1e-300), 0.0)
        worst = max(worst, float(ratio.max()) if ratio.size else 0.0)
    return worst


def _probe_matches(table, student, rtol, floors, max_edits):
    """(single edits, a function giving the pairs) that reproduce the student on the calls, remembered per
    student answers: the failing tests of one part share the probes, so the search runs once per part."""
    key = (student.tobytes(), student.shape, rtol, max_edits)
    memo = table.__dict__.setdefault("_memo", {})
    if key not in memo:
        agree = _agree_slots(table, table.outputs, student, rtol, floors)
        singles = [table.singles[k][0] for k in np.flatnonzero(agree.all(axis=1) & ~table.noop)]
        memo[key] = [singles, None, agree]
        while len(memo) > 64:
            memo.pop(next(iter(memo)))
    entry = memo[key]

    def pairs():
        if max_edits < 2:
            return []
        if entry[1] is None:
            found = _pairs(table, student, rtol, floors, entry[2])
            if table.extra:
                ok = _agree(table, table.extra_outputs, student, rtol, floors)
                found += [table.extra[k] for k in np.flatnonzero(ok)]
            entry[1] = found
        return entry[1]

    return entry[0], pairs


def _changed_size(explanation, candidate):
    """How long the student's changed lines are: of two readings, the shorter line is the plainer one."""
    return sum(len(student) for _, student in explanation.statements(candidate))


def _confirm_sequence(rule, candidate, params, gradients, trajectory, hyper, init_lr, unit=2.0**-24):
    if trajectory is None:
        return False
    try:
        ours = simulate_steps(rule, candidate, params, gradients[: len(trajectory)], hyper, init_lr)
    except (ValueError, TypeError, IndexError, KeyError):
        return False
    return _trajectory_agrees(ours, trajectory, unit)


@_with_errstate
def _confirm_call(rule, candidate, arguments, answer, hyper, init_lr, rtol):
    """Does the candidate reproduce `answer` on one more call (its own hyperparameters and init_lr)?"""
    try:
        layout = _layout(rule, [arguments], hyper, init_lr)
    except ValueError:
        return False
    reduce = _reducer(layout.segments)
    size = layout.segments[-1][1]
    _, outputs = _run(
        rule, _hyper_env(layout, hyper, candidate.swap), 0, dict(candidate.override), reduce, candidate.returns
    )
    _, reference = _run(rule, layout.env, 0, {}, reduce)
    table = Table(
        rule,
        layout,
        dict(hyper),
        float(init_lr),
        _stack_outputs(reference, size),
        tuple(i for i, value in enumerate(rule.returns) if _is_counter(rule, value)),
        [],
        None,
        None,
        [],
        [],
    )
    student = _student_matrix(table, [answer])
    if student is None:
        return False
    return bool(_agree_slots(table, _stack_outputs(outputs, size)[None], student, rtol, _floors(table)).all())
