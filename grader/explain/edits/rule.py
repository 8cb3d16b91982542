"""Reading an update rule: a per-key method as straight-line code in SSA form, and back to Python text. Trusted side.

An expression is a nested tuple: ("var", ssa_name) | ("hyp", name) | ("const", value) |
("bin", op, a, b) with op in + - * / ** | ("neg", a) | ("call", fn, a) with fn in sqrt abs sum mean.
`Rule.from_source` reads a method into such expressions; `_text` writes one back with the fewest parentheses.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import dataclass

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
        statements, returns = [], None
        count: dict[str, int] = {}
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
