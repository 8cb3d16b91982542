"""The bank of known mistakes: each one is a method body, written as a student would write it.

A `Mistake` replaces one method of a reference optimizer (its per-key method, e.g. `Adam.adam`, or its
`step`) with `body`, the source text of a wrong body that uses the reference's variable names. That text
is the only definition of the mistake; everything else is derived from it:

    Mistake.function()         the body compiled into a function with the method's exact signature
    Mistake.optimizer_class()  a subclass of the reference optimizer with that method replaced
    Mistake.update(...)        for a per-key mistake, the pure call (like `reference.rules`)
    mutate(source, mistake)    any Python file defining the optimizer class, with the body swapped in

Mistakes whose only symptom is a side effect, with the same outputs as the correct rule, are left out:
diagnosis compares outputs, so it could never recognise them. Examples: `gradient_x *= ...` before
`x = x - gradient_x` (corrupts `model.grads`), `G += g * g` (mutates the caller's state once G is a
tensor), `x -= ...` (the trajectory aliasing bug). The grader's invariant and trajectory tests catch those.

Every two mistakes of a rule are different functions, told apart by grader.explain.diagnosis' probe set (a test
holds it). A mistake students write in two ways that compute the same thing is one entry, whose title
covers both: bias correction with t + 1 is `adam/t_advanced_early`; Nesterov that overwrites delta_x
before reading the old one (x - rho * delta_x + (1 + rho) * delta_x) is `nesterov/plain_momentum`.
"""

from __future__ import annotations

import ast
import functools
import inspect
import keyword
import linecache
import re
import textwrap
from dataclasses import dataclass
from types import SimpleNamespace

import torch

from reference import Adagrad, Adam, Momentum, Nesterov, RMSprop

__all__ = [
    "BANK",
    "RULES",
    "Mistake",
    "find",
    "hyperparameters",
    "mistakes_for",
    "mutate",
    "optimizer_for",
    "state_names",
]

#: The reference optimizer of each graded rule; its per-key method carries the rule's name.
_OPTIMIZERS = {"adagrad": Adagrad, "rmsprop": RMSprop, "momentum": Momentum, "nesterov": Nesterov, "adam": Adam}
RULES = tuple(_OPTIMIZERS)


def optimizer_for(rule: str) -> type:
    """The reference optimizer class of `rule` (e.g. `reference.Adam` for "adam")."""
    try:
        return _OPTIMIZERS[rule]
    except KeyError:
        raise ValueError(f"unknown rule {rule!r}; expected one of {', '.join(RULES)}") from None


@functools.cache
def hyperparameters(rule: str) -> tuple[str, ...]:
    """The rule's hyperparameter names, read from the reference constructor (minus init_lr and model)."""
    names = inspect.signature(optimizer_for(rule).__init__).parameters
    return tuple(name for name in names if name not in ("self", "init_lr", "model"))


@functools.cache
def state_names(rule: str) -> tuple[str, ...]:
    """The per-key method's state arguments, between gradient_x and init_lr (e.g. ("G", "M", "t"))."""
    names = list(inspect.signature(getattr(optimizer_for(rule), rule)).parameters)
    return tuple(names[names.index("gradient_x") + 1 : names.index("init_lr")])


@dataclass(frozen=True)
class Mistake:
    """One known wrong implementation of one method of a reference optimizer."""

    rule: str
    """The rule it gets wrong: "adagrad", "rmsprop", "momentum", "nesterov" or "adam"."""
    slug: str
    """A short identifier, unique within the rule (e.g. "eps_outside_sqrt"); reports and JSON use it."""
    title: str
    """Student-facing, reads after the optimizer's name: "Adam without bias correction"."""
    hint: str
    """One sentence on how to fix it."""
    method: str
    """The method it replaces: the per-key method (named like the rule) or "step"."""
    body: str
    """The source text of the wrong method body, without the def line and docstring, at any indentation."""

    def __post_init__(self):
        if self.rule not in _OPTIMIZERS:
            raise ValueError(f"Invalid rule: {self.rule!r} (expected one of {', '.join(RULES)})")
        if self.method not in (self.rule, "step"):
            raise ValueError(f"Invalid method for {self.rule}: {self.method!r} (expected {self.rule!r} or 'step')")
        if not self.slug.isidentifier() or keyword.iskeyword(self.slug):
            raise ValueError(f"Invalid slug: {self.slug!r} (expected an identifier)")

    @property
    def key(self) -> str:
        """The mistake's name across the bank: "rule/slug"."""
        return f"{self.rule}/{self.slug}"

    @property
    def per_key(self) -> bool:
        """True when it replaces the per-key method, False when it replaces `step`."""
        return self.method == self.rule

    def function(self):
        """The body compiled into a function with the reference method's signature (cached)."""
        return _compile(self)

    def optimizer_class(self) -> type:
        """A subclass of the reference optimizer with the method replaced (cached)."""
        return _subclass(self)

    def update(self, x, gradient_x, *state, init_lr, **hyper):
        """The mistaken per-key update as a pure call: returns what the method returns.

        Like `reference.rules`: hyperparameters by keyword, e.g.
        `update(x, g, G, M, t, init_lr=0.1, beta1=0.9, beta2=0.99, epsilon=1e-7)`.
        Mistakes that mutate an argument in place do so here too: pass copies.
        """
        if not self.per_key:
            raise TypeError(f"{self.key} is a step() mistake: simulate it with optimizer_class()")
        expected, names = set(hyperparameters(self.rule)), state_names(self.rule)
        if set(hyper) != expected:
            raise TypeError(f"{self.rule} takes hyperparameters {sorted(expected)}, got {sorted(hyper)}")
        if len(state) != len(names):
            raise TypeError(f"{self.rule} takes state ({', '.join(names)}), got {len(state)} value(s)")
        return self.function()(SimpleNamespace(**hyper), x, gradient_x, *state, init_lr)


@functools.cache
def _compile(mistake: Mistake):
    method = getattr(optimizer_for(mistake.rule), mistake.method)
    header = f"def {mistake.method}{inspect.signature(method)}:\n"
    source = header + textwrap.indent(textwrap.dedent(mistake.body).strip("\n") + "\n", "    ")
    filename = f"<mistake {mistake.key}>"
    # Registered so that a traceback through a mistake shows its lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    namespace = {"torch": torch}
    exec(compile(source, filename, "exec"), namespace)
    function = namespace[mistake.method]
    function.__qualname__ = f"{optimizer_for(mistake.rule).__name__}.{mistake.method}"
    function.__doc__ = f"{mistake.title} (known mistake {mistake.key})."
    return function


@functools.cache
def _subclass(mistake: Mistake) -> type:
    base = optimizer_for(mistake.rule)
    name = f"{base.__name__}_{mistake.slug}"
    namespace = {
        mistake.method: mistake.function(),
        "__doc__": f"{base.__name__} {mistake.title} (known mistake {mistake.key}).",
        "__module__": __name__,
        "__qualname__": name,
        "mistake": mistake,
    }
    return type(name, (base,), namespace)


def mutate(source: str, mistake: Mistake) -> str:
    """`source` with the optimizer class's method body replaced by `mistake.body`.

    `source` is the text of any Python file that defines the class (a student's submission,
    `reference/optimizers.py`). The def line, decorators and docstring stay; the rest of the body is
    replaced, re-indented to the body's indentation. Where a name is defined twice the last definition
    wins, as it does when Python runs the file. Raises ValueError naming the class or method if absent.
    """
    class_name = optimizer_for(mistake.rule).__name__
    tree = ast.parse(source)
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == class_name]
    if not classes:
        raise ValueError(f"no top-level class {class_name!r} in the source")
    functions = [
        node
        for node in classes[-1].body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == mistake.method
    ]
    if not functions:
        raise ValueError(f"class {class_name!r} defines no method {mistake.method!r}")
    function = functions[-1]

    lines = _lines(source)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    statements = function.body
    docstring = statements[0] if ast.get_docstring(function, clean=False) is not None else None
    if docstring is not None:
        statements = statements[1:]
    first = function.body[0]
    indent = _prefix(lines[first.lineno - 1], first.col_offset)
    if indent.strip():  # the body starts on the def line: move it to a line of its own, then start over
        line = lines[first.lineno - 1]
        body_indent = _indent_of(lines[function.lineno - 1]) + "    "
        lines[first.lineno - 1] = indent.rstrip() + newline + body_indent + line[len(indent) :]
        return mutate("".join(lines), mistake)
    if statements:
        keep = lines[: statements[0].lineno - 1]
        prefix = _prefix(lines[statements[0].lineno - 1], statements[0].col_offset)
        if prefix.strip():  # `"""Doc."""; x = ...`: keep the docstring's part of the line
            keep.append(prefix.rstrip() + newline)
        rest = lines[statements[-1].end_lineno :]
    else:  # only a docstring: the new body goes after it
        keep = lines[: docstring.end_lineno]
        keep[-1] = keep[-1].rstrip("\r\n") + newline
        rest = lines[docstring.end_lineno :]
    body = textwrap.indent(textwrap.dedent(mistake.body).strip("\n") + "\n", indent)
    return "".join(keep) + body.replace("\n", newline) + "".join(rest)


def _lines(source):
    """The lines as Python's tokenizer counts them (str.splitlines also splits at form feeds and more)."""
    return re.findall(r".*?(?:\r\n|\r|\n)|.+\Z", source, flags=re.DOTALL)


def _prefix(line, col_offset):
    """The text of `line` before an ast column offset, which counts UTF-8 bytes."""
    return line.encode()[:col_offset].decode()


def _indent_of(line):
    return line[: len(line) - len(line.lstrip())]


def _mistake(rule, slug, title, hint, body, method=None):
    return Mistake(rule=rule, slug=slug, title=title, hint=hint, method=method or rule, body=body)


# Bodies use the reference's names: x, gradient_x, G, M, t, delta_x, init_lr, self.<hyperparameter>.
# Each comment says where the mistake shows, so that tests and strategies can reach that regime.
_ADAGRAD = (
    _mistake(
        "adagrad",
        "no_accumulation",
        "that replaces G by g² instead of adding to it",
        "Accumulate: add this step's squared gradient to the G you were given, so that G keeps the sum of "
        "every past squared gradient.",
        """
        G = gradient_x * gradient_x  # shows from the second step (G != 0)
        x = x - init_lr / torch.sqrt(G + self.epsilon) * gradient_x
        return x, G
        """,
    ),
    _mistake(
        "adagrad",
        "missing_sqrt",
        "without the square root",
        "Divide by torch.sqrt(G + epsilon), not by G + epsilon.",
        """
        G = G + gradient_x * gradient_x
        x = x - init_lr / (G + self.epsilon) * gradient_x
        return x, G
        """,
    ),
    _mistake(
        "adagrad",
        "eps_outside_sqrt",
        "with epsilon added outside the square root",
        "Put epsilon inside the root as the book does: torch.sqrt(G + epsilon).",
        """
        G = G + gradient_x * gradient_x
        x = x - init_lr / (torch.sqrt(G) + self.epsilon) * gradient_x  # shows where G ~ epsilon
        return x, G
        """,
    ),
    _mistake(
        "adagrad",
        "sign_error",
        "that steps up the gradient (sign error)",
        "Subtract the step from x, do not add it: the update moves against the gradient.",
        """
        G = G + gradient_x * gradient_x
        x = x + init_lr / torch.sqrt(G + self.epsilon) * gradient_x
        return x, G
        """,
    ),
    _mistake(
        "adagrad",
        "old_state",
        "that updates x with the old G (before adding g²)",
        "Update G first, then use the new G in the step on x.",
        """
        # ** 0.5, as torch.sqrt rejects the int 0 that G is on the first step (a huge first step).
        x = x - init_lr / (G + self.epsilon) ** 0.5 * gradient_x
        G = G + gradient_x * gradient_x
        return x, G
        """,
    ),
    _mistake(
        "adagrad",
        "accumulates_abs",
        "that accumulates |g| instead of g²",
        "Accumulate the square of the gradient (g ⊙ g, elementwise), not the gradient itself or its absolute value.",
        """
        G = G + torch.abs(gradient_x)
        x = x - init_lr / torch.sqrt(G + self.epsilon) * gradient_x
        return x, G
        """,
    ),
    _mistake(
        "adagrad",
        "accumulates_g",
        "that accumulates g instead of g²",
        "Accumulate the square of the gradient (g ⊙ g, elementwise), not the gradient itself or its absolute value.",
        """
        G = G + gradient_x  # negative gradients can make G + epsilon negative: NaN
        x = x - init_lr / torch.sqrt(G + self.epsilon) * gradient_x
        return x, G
        """,
    ),
    _mistake(
        "adagrad",
        "gradient_squared_in_place",
        "that squares gradient_x in place, then steps along g²",
        "Do not modify gradient_x (it is model.grads[key]): compute its square into a new tensor (no `*=`, "
        "`**=` or `.mul_()` on it).",
        """
        gradient_x **= 2  # also corrupts model.grads[key]
        G = G + gradient_x
        x = x - init_lr / torch.sqrt(G + self.epsilon) * gradient_x
        return x, G
        """,
    ),
    _mistake(
        "adagrad",
        "eps_dropped",
        "without epsilon",
        "Keep epsilon inside the root: torch.sqrt(G + epsilon) (it also guards against dividing by 0).",
        """
        G = G + gradient_x * gradient_x
        x = x - init_lr / torch.sqrt(G) * gradient_x  # shows where G ~ epsilon
        return x, G
        """,
    ),
    _mistake(
        "adagrad",
        "lr_inside_sqrt",
        "with init_lr inside the square root",
        "Only G + epsilon goes under the square root: divide init_lr by that root, and leave init_lr outside it.",
        """
        G = G + gradient_x * gradient_x
        x = x - torch.sqrt(init_lr / (G + self.epsilon)) * gradient_x  # same as correct at init_lr = 1
        return x, G
        """,
    ),
    _mistake(
        "adagrad",
        "half_power_precedence",
        "with ** 1/2 for the square root (it divides by 2 instead)",
        "** binds tighter than /: write (G + epsilon) ** 0.5 or torch.sqrt(G + epsilon).",
        """
        G = G + gradient_x * gradient_x
        x = x - init_lr / (G + self.epsilon) ** 1/2 * gradient_x
        return x, G
        """,
    ),
    _mistake(
        "adagrad",
        "returns_swapped",
        "that returns (G, x) instead of (x, G)",
        "Return the values in the order the method documents: return x, G.",
        """
        G = G + gradient_x * gradient_x
        x = x - init_lr / torch.sqrt(G + self.epsilon) * gradient_x
        return G, x
        """,
    ),
    _mistake(
        "adagrad",
        "hard_coded_epsilon",
        "with epsilon hard-coded as 1e-7 instead of self.epsilon",
        "Use the optimizer's own hyperparameter: torch.sqrt(G + self.epsilon).",
        """
        G = G + gradient_x * gradient_x
        x = x - init_lr / torch.sqrt(G + 1e-7) * gradient_x
        return x, G
        """,
    ),
    _mistake(
        "adagrad",
        "state_not_stored",
        "that never stores G back (it restarts at 0 every step)",
        "Store the returned state: self.model.params[key], self.G[key] = self.adagrad(...).",
        """
        for key in self.model.params:
            self.model.params[key], G = self.adagrad(
                self.model.params[key], self.model.grads[key], self.G[key], self.init_lr
            )
        """,
        method="step",
    ),
    _mistake(
        "adagrad",
        "state_shared",
        "with one G shared by every parameter key",
        "Keep one accumulator per key: read and write self.G[key].",
        """
        first = next(iter(self.model.params))  # shows with two keys or more (of the same shape)
        for key in self.model.params:
            self.model.params[key], self.G[first] = self.adagrad(
                self.model.params[key], self.model.grads[key], self.G[first], self.init_lr
            )
        """,
        method="step",
    ),
)

_RMSPROP = (
    _mistake(
        "rmsprop",
        "betas_swapped",
        "with beta and 1 - beta swapped in the moving average",
        "Swap the weights: beta multiplies the old average G, and (1 - beta) the new squared gradient.",
        """
        G = (1 - self.beta) * G + self.beta * gradient_x * gradient_x  # same as correct at beta = 0.5
        x = x - init_lr / torch.sqrt(G + self.epsilon) * gradient_x
        return x, G
        """,
    ),
    _mistake(
        "rmsprop",
        "no_moving_average",
        "that replaces G by g² instead of averaging",
        "Keep a moving average: weight the old G by beta and the new squared gradient by (1 - beta), instead "
        "of replacing or summing.",
        """
        G = gradient_x * gradient_x
        x = x - init_lr / torch.sqrt(G + self.epsilon) * gradient_x
        return x, G
        """,
    ),
    _mistake(
        "rmsprop",
        "missing_one_minus_beta",
        "that adds g² without the factor (1 - beta)",
        "Weight the new squared gradient by (1 - beta), as well as the old G by beta.",
        """
        G = self.beta * G + gradient_x * gradient_x
        x = x - init_lr / torch.sqrt(G + self.epsilon) * gradient_x
        return x, G
        """,
    ),
    _mistake(
        "rmsprop",
        "missing_sqrt",
        "without the square root",
        "Divide by torch.sqrt(G + epsilon), not by G + epsilon.",
        """
        G = self.beta * G + (1 - self.beta) * gradient_x * gradient_x
        x = x - init_lr / (G + self.epsilon) * gradient_x
        return x, G
        """,
    ),
    _mistake(
        "rmsprop",
        "eps_outside_sqrt",
        "with epsilon added outside the square root",
        "Put epsilon inside the root as the book does: torch.sqrt(G + epsilon).",
        """
        G = self.beta * G + (1 - self.beta) * gradient_x * gradient_x
        x = x - init_lr / (torch.sqrt(G) + self.epsilon) * gradient_x  # shows where G ~ epsilon
        return x, G
        """,
    ),
    _mistake(
        "rmsprop",
        "sign_error",
        "that steps up the gradient (sign error)",
        "Subtract the step from x, do not add it: the update moves against the gradient.",
        """
        G = self.beta * G + (1 - self.beta) * gradient_x * gradient_x
        x = x + init_lr / torch.sqrt(G + self.epsilon) * gradient_x
        return x, G
        """,
    ),
    _mistake(
        "rmsprop",
        "old_state",
        "that updates x with the old G (before averaging in g²)",
        "Update G first, then use the new G in the step on x.",
        """
        x = x - init_lr / (G + self.epsilon) ** 0.5 * gradient_x  # torch.sqrt rejects the int 0
        G = self.beta * G + (1 - self.beta) * gradient_x * gradient_x
        return x, G
        """,
    ),
    _mistake(
        "rmsprop",
        "eps_dropped",
        "without epsilon",
        "Keep epsilon inside the root: torch.sqrt(G + epsilon) (it also guards against dividing by 0).",
        """
        G = self.beta * G + (1 - self.beta) * gradient_x * gradient_x
        x = x - init_lr / torch.sqrt(G) * gradient_x  # shows where G ~ epsilon
        return x, G
        """,
    ),
    _mistake(
        "rmsprop",
        "lr_inside_sqrt",
        "with init_lr inside the square root",
        "Only G + epsilon goes under the square root: divide init_lr by that root, and leave init_lr outside it.",
        """
        G = self.beta * G + (1 - self.beta) * gradient_x * gradient_x
        x = x - torch.sqrt(init_lr / (G + self.epsilon)) * gradient_x
        return x, G
        """,
    ),
    _mistake(
        "rmsprop",
        "half_power_precedence",
        "with ** 1/2 for the square root (it divides by 2 instead)",
        "** binds tighter than /: write (G + epsilon) ** 0.5 or torch.sqrt(G + epsilon).",
        """
        G = self.beta * G + (1 - self.beta) * gradient_x * gradient_x
        x = x - init_lr / (G + self.epsilon) ** 1/2 * gradient_x
        return x, G
        """,
    ),
    _mistake(
        "rmsprop",
        "returns_swapped",
        "that returns (G, x) instead of (x, G)",
        "Return the values in the order the method documents: return x, G.",
        """
        G = self.beta * G + (1 - self.beta) * gradient_x * gradient_x
        x = x - init_lr / torch.sqrt(G + self.epsilon) * gradient_x
        return G, x
        """,
    ),
    _mistake(
        "rmsprop",
        "hard_coded_beta",
        "with beta hard-coded as 0.9 instead of self.beta",
        "Use the optimizer's own hyperparameter (self.beta), not a number typed into the update.",
        """
        G = 0.9 * G + 0.1 * gradient_x * gradient_x  # same as correct at beta = 0.9
        x = x - init_lr / torch.sqrt(G + self.epsilon) * gradient_x
        return x, G
        """,
    ),
    _mistake(
        "rmsprop",
        "averages_g",
        "that averages g instead of g²",
        "Average the squared gradient (g ⊙ g, elementwise), not the gradient itself.",
        """
        G = self.beta * G + (1 - self.beta) * gradient_x  # negative gradients can make G negative: NaN
        x = x - init_lr / torch.sqrt(G + self.epsilon) * gradient_x
        return x, G
        """,
    ),
    _mistake(
        "rmsprop",
        "state_not_stored",
        "that never stores G back (it restarts at 0 every step)",
        "Store the returned state: self.model.params[key], self.G[key] = self.rmsprop(...).",
        """
        for key in self.model.params:
            self.model.params[key], G = self.rmsprop(
                self.model.params[key], self.model.grads[key], self.G[key], self.init_lr
            )
        """,
        method="step",
    ),
    _mistake(
        "rmsprop",
        "state_shared",
        "with one G shared by every parameter key",
        "Keep one moving average per key: read and write self.G[key].",
        """
        first = next(iter(self.model.params))  # shows with two keys or more (of the same shape)
        for key in self.model.params:
            self.model.params[key], self.G[first] = self.rmsprop(
                self.model.params[key], self.model.grads[key], self.G[first], self.init_lr
            )
        """,
        method="step",
    ),
)

_MOMENTUM = (
    _mistake(
        "momentum",
        "sign_error",
        "that adds the gradient step instead of subtracting it (sign error)",
        "delta_x = rho * delta_x - init_lr * gradient_x, then x = x + delta_x.",
        """
        delta_x = self.rho * delta_x + init_lr * gradient_x
        x = x + delta_x
        return x, delta_x
        """,
    ),
    _mistake(
        "momentum",
        "rho_ignored",
        "without the decay rho (past steps never fade)",
        "Multiply the old step by rho: delta_x = rho * delta_x - init_lr * gradient_x.",
        """
        delta_x = delta_x - init_lr * gradient_x  # shows from the second step (delta_x != 0)
        x = x + delta_x
        return x, delta_x
        """,
    ),
    _mistake(
        "momentum",
        "old_state",
        "that moves x by the old delta_x (before adding the new gradient step)",
        "Update delta_x first, then x = x + delta_x with the new delta_x.",
        """
        x = x + delta_x
        delta_x = self.rho * delta_x - init_lr * gradient_x
        return x, delta_x
        """,
    ),
    _mistake(
        "momentum",
        "moving_average_of_gradient",
        "as a moving average of the gradient (rho * d + (1 - rho) * g)",
        "Momentum adds the whole gradient step: delta_x = rho * delta_x - init_lr * gradient_x.",
        """
        delta_x = self.rho * delta_x + (1 - self.rho) * gradient_x
        x = x - init_lr * delta_x
        return x, delta_x
        """,
    ),
    _mistake(
        "momentum",
        "lr_on_delta",
        "that applies init_lr to delta_x instead of to the gradient",
        "delta_x is the step itself: delta_x = rho * delta_x - init_lr * gradient_x, then x = x + delta_x.",
        """
        # x moves exactly as it should (for a constant init_lr); only the returned delta_x is wrong.
        delta_x = self.rho * delta_x - gradient_x
        x = x + init_lr * delta_x
        return x, delta_x
        """,
    ),
    _mistake(
        "momentum",
        "returns_swapped",
        "that returns (delta_x, x) instead of (x, delta_x)",
        "Return the values in the order the method documents: return x, delta_x.",
        """
        delta_x = self.rho * delta_x - init_lr * gradient_x
        x = x + delta_x
        return delta_x, x
        """,
    ),
    _mistake(
        "momentum",
        "hard_coded_rho",
        "with rho hard-coded as 0.9 instead of self.rho",
        "Use the optimizer's own hyperparameter: delta_x = self.rho * delta_x - init_lr * gradient_x.",
        """
        delta_x = 0.9 * delta_x - init_lr * gradient_x  # same as correct at rho = 0.9
        x = x + delta_x
        return x, delta_x
        """,
    ),
    _mistake(
        "momentum",
        "x_step_sign",
        "that subtracts delta_x from x (delta_x already holds the minus sign)",
        "delta_x = rho * delta_x - init_lr * gradient_x is the step itself: x = x + delta_x.",
        """
        delta_x = self.rho * delta_x - init_lr * gradient_x
        x = x - delta_x
        return x, delta_x
        """,
    ),
    _mistake(
        "momentum",
        "velocity_sign_flipped",
        "that keeps delta_x with the opposite sign (x = x - delta_x)",
        "The book's delta_x is the step: delta_x = rho * delta_x - init_lr * gradient_x, then x = x + delta_x.",
        """
        # x moves as it should over a sequence; the returned delta_x has the wrong sign.
        delta_x = self.rho * delta_x + init_lr * gradient_x
        x = x - delta_x
        return x, delta_x
        """,
    ),
    _mistake(
        "momentum",
        "state_not_stored",
        "that never stores delta_x back (it is plain SGD)",
        "Store the returned state: self.model.params[key], self.delta_x[key] = self.momentum(...).",
        """
        for key in self.model.params:
            self.model.params[key], delta_x = self.momentum(
                self.model.params[key], self.model.grads[key], self.delta_x[key], self.init_lr
            )
        """,
        method="step",
    ),
    _mistake(
        "momentum",
        "state_shared",
        "with one delta_x shared by every parameter key",
        "Keep one delta_x per key: read and write self.delta_x[key].",
        """
        first = next(iter(self.model.params))  # shows with two keys or more (of the same shape)
        for key in self.model.params:
            self.model.params[key], self.delta_x[first] = self.momentum(
                self.model.params[key], self.model.grads[key], self.delta_x[first], self.init_lr
            )
        """,
        method="step",
    ),
)

_NESTEROV = (
    _mistake(
        "nesterov",
        "plain_momentum",
        "that is plain momentum (no look-ahead correction, or delta_prev read after delta_x was overwritten)",
        "Use x = x - rho * delta_prev + (1 + rho) * delta_x, with delta_prev the delta_x before the update.",
        """
        delta_x = self.rho * delta_x - init_lr * gradient_x
        x = x + delta_x
        return x, delta_x
        """,
    ),
    _mistake(
        "nesterov",
        "correction_sign",
        "with the look-ahead correction rho * (delta_x - delta_prev) subtracted",
        "Add the correction: x = x - rho * delta_prev + (1 + rho) * delta_x.",
        """
        delta_prev = delta_x
        delta_x = self.rho * delta_x - init_lr * gradient_x
        x = x + self.rho * delta_prev + (1 - self.rho) * delta_x
        return x, delta_x
        """,
    ),
    _mistake(
        "nesterov",
        "sign_error",
        "that adds the gradient step instead of subtracting it (sign error)",
        "delta_x = rho * delta_x - init_lr * gradient_x.",
        """
        delta_prev = delta_x
        delta_x = self.rho * delta_x + init_lr * gradient_x
        x = x - self.rho * delta_prev + (1 + self.rho) * delta_x
        return x, delta_x
        """,
    ),
    _mistake(
        "nesterov",
        "prev_aliases_state",
        "where delta_prev = delta_x is not a copy (updated in place with it)",
        "Update out of place (delta_x = rho * delta_x - init_lr * gradient_x) or save delta_x.clone().",
        """
        # Step 1 is right (delta_x is still the int 0); from then on delta_prev *is* delta_x, so x moves
        # by delta_x alone: one step of this equals plain momentum, a sequence tells the two apart.
        delta_prev = delta_x
        delta_x *= self.rho
        delta_x -= init_lr * gradient_x
        x = x - self.rho * delta_prev + (1 + self.rho) * delta_x
        return x, delta_x
        """,
    ),
    _mistake(
        "nesterov",
        "returns_swapped",
        "that returns (delta_x, x) instead of (x, delta_x)",
        "Return the values in the order the method documents: return x, delta_x.",
        """
        delta_prev = delta_x
        delta_x = self.rho * delta_x - init_lr * gradient_x
        x = x - self.rho * delta_prev + (1 + self.rho) * delta_x
        return delta_x, x
        """,
    ),
    _mistake(
        "nesterov",
        "hard_coded_rho",
        "with rho hard-coded as 0.9 instead of self.rho",
        "Use the optimizer's own hyperparameter self.rho in both places.",
        """
        delta_prev = delta_x
        delta_x = 0.9 * delta_x - init_lr * gradient_x
        x = x - 0.9 * delta_prev + 1.9 * delta_x
        return x, delta_x
        """,
    ),
    _mistake(
        "nesterov",
        "missing_one_plus_rho",
        "without the factor (1 + rho) on the new delta_x",
        "x = x - rho * delta_prev + (1 + rho) * delta_x.",
        """
        delta_prev = delta_x
        delta_x = self.rho * delta_x - init_lr * gradient_x
        x = x - self.rho * delta_prev + delta_x
        return x, delta_x
        """,
    ),
    _mistake(
        "nesterov",
        "x_step_sign",
        "that moves x the opposite way (x = x + rho * delta_prev - (1 + rho) * delta_x)",
        "delta_x already holds the minus sign: x = x - rho * delta_prev + (1 + rho) * delta_x.",
        """
        delta_prev = delta_x
        delta_x = self.rho * delta_x - init_lr * gradient_x
        x = x + self.rho * delta_prev - (1 + self.rho) * delta_x
        return x, delta_x
        """,
    ),
    _mistake(
        "nesterov",
        "state_not_stored",
        "that never stores delta_x back (it restarts at 0 every step)",
        "Store the returned state: self.model.params[key], self.delta_x[key] = self.nesterov(...).",
        """
        for key in self.model.params:
            self.model.params[key], delta_x = self.nesterov(
                self.model.params[key], self.model.grads[key], self.delta_x[key], self.init_lr
            )
        """,
        method="step",
    ),
    _mistake(
        "nesterov",
        "state_shared",
        "with one delta_x shared by every parameter key",
        "Keep one delta_x per key: read and write self.delta_x[key].",
        """
        first = next(iter(self.model.params))  # shows with two keys or more (of the same shape)
        for key in self.model.params:
            self.model.params[key], self.delta_x[first] = self.nesterov(
                self.model.params[key], self.model.grads[key], self.delta_x[first], self.init_lr
            )
        """,
        method="step",
    ),
)

_ADAM = (
    _mistake(
        "adam",
        "no_bias_correction",
        "without bias correction",
        "Divide M by (1 - beta1**t) and G by (1 - beta2**t) before the update.",
        """
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        t = t + 1
        x = x - init_lr / torch.sqrt(G + self.epsilon) * M
        return x, G, M, t
        """,
    ),
    _mistake(
        "adam",
        "bias_correction_m_only",
        "with the bias correction of M only",
        "Bias-correct G too (divide it by 1 - beta2 to the power t) and put the corrected G under the square root.",
        """
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        M_hat = M / (1 - self.beta1**t)
        t = t + 1
        x = x - init_lr / torch.sqrt(G + self.epsilon) * M_hat
        return x, G, M, t
        """,
    ),
    _mistake(
        "adam",
        "bias_correction_g_only",
        "with the bias correction of G only",
        "Bias-correct M too (divide it by 1 - beta1 to the power t) and use the corrected M in the numerator.",
        """
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        G_hat = G / (1 - self.beta2**t)
        t = t + 1
        x = x - init_lr / torch.sqrt(G_hat + self.epsilon) * M
        return x, G, M, t
        """,
    ),
    _mistake(
        "adam",
        "betas_swapped",
        "with beta1 and beta2 swapped",
        "beta1 goes with M (the gradient), beta2 with G (the squared gradient).",
        """
        # At t = 1 from zero state the bias correction hides the swap: shows for t > 1 or M, G != 0.
        M = self.beta2 * M + (1 - self.beta2) * gradient_x
        G = self.beta1 * G + (1 - self.beta1) * gradient_x * gradient_x
        M_hat = M / (1 - self.beta2**t)
        G_hat = G / (1 - self.beta1**t)
        t = t + 1
        x = x - init_lr / torch.sqrt(G_hat + self.epsilon) * M_hat
        return x, G, M, t
        """,
    ),
    _mistake(
        "adam",
        "decay_swapped",
        "with beta and 1 - beta swapped in the moving averages",
        "Swap the weights of both averages: beta1 (beta2) multiplies the old M (G), and 1 - beta1 (1 - beta2) "
        "the new term.",
        """
        M = (1 - self.beta1) * M + self.beta1 * gradient_x
        G = (1 - self.beta2) * G + self.beta2 * gradient_x * gradient_x
        M_hat = M / (1 - self.beta1**t)
        G_hat = G / (1 - self.beta2**t)
        t = t + 1
        x = x - init_lr / torch.sqrt(G_hat + self.epsilon) * M_hat
        return x, G, M, t
        """,
    ),
    _mistake(
        "adam",
        "eps_outside_sqrt",
        "with epsilon added outside the square root",
        "Put epsilon inside the root as the book does: torch.sqrt(G_hat + epsilon).",
        """
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        M_hat = M / (1 - self.beta1**t)
        G_hat = G / (1 - self.beta2**t)
        t = t + 1
        x = x - init_lr / (torch.sqrt(G_hat) + self.epsilon) * M_hat  # shows where G_hat ~ epsilon
        return x, G, M, t
        """,
    ),
    _mistake(
        "adam",
        "missing_sqrt",
        "without the square root",
        "Divide by torch.sqrt(G_hat + epsilon), not by G_hat + epsilon.",
        """
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        M_hat = M / (1 - self.beta1**t)
        G_hat = G / (1 - self.beta2**t)
        t = t + 1
        x = x - init_lr / (G_hat + self.epsilon) * M_hat
        return x, G, M, t
        """,
    ),
    _mistake(
        "adam",
        "t_advanced_early",
        "that bias-corrects with t + 1 (t advanced before the correction)",
        "Bias-correct with the current t, then t = t + 1.",
        """
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        t = t + 1
        M_hat = M / (1 - self.beta1**t)
        G_hat = G / (1 - self.beta2**t)
        x = x - init_lr / torch.sqrt(G_hat + self.epsilon) * M_hat
        return x, G, M, t
        """,
    ),
    _mistake(
        "adam",
        "t_not_advanced",
        "that never advances t (returns t unchanged)",
        "Return t + 1: the next step's bias correction needs the next t.",
        """
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        M_hat = M / (1 - self.beta1**t)
        G_hat = G / (1 - self.beta2**t)
        x = x - init_lr / torch.sqrt(G_hat + self.epsilon) * M_hat
        return x, G, M, t
        """,
    ),
    _mistake(
        "adam",
        "raw_gradient",
        "that steps along the raw gradient instead of M",
        "Use the bias-corrected first moment M_hat in the numerator, not gradient_x.",
        """
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        M_hat = M / (1 - self.beta1**t)
        G_hat = G / (1 - self.beta2**t)
        t = t + 1
        x = x - init_lr / torch.sqrt(G_hat + self.epsilon) * gradient_x
        return x, G, M, t
        """,
    ),
    _mistake(
        "adam",
        "sign_error",
        "that steps up the gradient (sign error)",
        "Subtract the step from x, do not add it: the update moves against the corrected first moment.",
        """
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        M_hat = M / (1 - self.beta1**t)
        G_hat = G / (1 - self.beta2**t)
        t = t + 1
        x = x + init_lr / torch.sqrt(G_hat + self.epsilon) * M_hat
        return x, G, M, t
        """,
    ),
    _mistake(
        "adam",
        "m_average_with_beta2",
        "with beta2 in the average of M (a half swap of the betas)",
        "Average M with beta1, not beta2: beta1 goes with M, beta2 with G.",
        """
        M = self.beta2 * M + (1 - self.beta2) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        M_hat = M / (1 - self.beta1**t)
        G_hat = G / (1 - self.beta2**t)
        t = t + 1
        x = x - init_lr / torch.sqrt(G_hat + self.epsilon) * M_hat
        return x, G, M, t
        """,
    ),
    _mistake(
        "adam",
        "g_average_with_beta1",
        "with beta1 in the average of G (a half swap of the betas)",
        "Average G with beta2, not beta1: beta1 goes with M, beta2 with G.",
        """
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta1 * G + (1 - self.beta1) * gradient_x * gradient_x
        M_hat = M / (1 - self.beta1**t)
        G_hat = G / (1 - self.beta2**t)
        t = t + 1
        x = x - init_lr / torch.sqrt(G_hat + self.epsilon) * M_hat
        return x, G, M, t
        """,
    ),
    _mistake(
        "adam",
        "bias_correction_t_minus_1",
        "that bias-corrects with t - 1 (divides by 0 at t = 1)",
        "Bias-correct with the t you were given (t starts at 1), not t - 1.",
        """
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        M_hat = M / (1 - self.beta1 ** (t - 1))
        G_hat = G / (1 - self.beta2 ** (t - 1))
        t = t + 1
        x = x - init_lr / torch.sqrt(G_hat + self.epsilon) * M_hat
        return x, G, M, t
        """,
    ),
    _mistake(
        "adam",
        "bias_correction_precedence",
        "with (1 - beta) ** t for the bias correction instead of 1 - beta ** t",
        "** binds tighter than -: the correction is 1 - beta1 ** t (and 1 - beta2 ** t), no parentheses around 1 - beta.",
        """
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        M_hat = M / (1 - self.beta1) ** t
        G_hat = G / (1 - self.beta2) ** t
        t = t + 1
        x = x - init_lr / torch.sqrt(G_hat + self.epsilon) * M_hat
        return x, G, M, t
        """,
    ),
    _mistake(
        "adam",
        "half_power_precedence",
        "with ** 1/2 for the square root (it divides by 2 instead)",
        "** binds tighter than /: write (G_hat + epsilon) ** 0.5 or torch.sqrt(G_hat + epsilon).",
        """
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        M_hat = M / (1 - self.beta1**t)
        G_hat = G / (1 - self.beta2**t)
        t = t + 1
        x = x - init_lr / (G_hat + self.epsilon) ** 1/2 * M_hat
        return x, G, M, t
        """,
    ),
    _mistake(
        "adam",
        "eps_dropped",
        "without epsilon",
        "Keep epsilon inside the root: torch.sqrt(G_hat + epsilon).",
        """
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        M_hat = M / (1 - self.beta1**t)
        G_hat = G / (1 - self.beta2**t)
        t = t + 1
        x = x - init_lr / torch.sqrt(G_hat) * M_hat  # shows where G_hat ~ epsilon
        return x, G, M, t
        """,
    ),
    _mistake(
        "adam",
        "lr_inside_sqrt",
        "with init_lr inside the square root",
        "Only the corrected G plus epsilon goes under the square root: divide init_lr by that root, and leave "
        "init_lr outside it.",
        """
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        M_hat = M / (1 - self.beta1**t)
        G_hat = G / (1 - self.beta2**t)
        t = t + 1
        x = x - torch.sqrt(init_lr / (G_hat + self.epsilon)) * M_hat
        return x, G, M, t
        """,
    ),
    _mistake(
        "adam",
        "returns_m_g_swapped",
        "that returns (x, M, G, t) instead of (x, G, M, t)",
        "Return the values in the order the method documents: return x, G, M, t.",
        """
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        M_hat = M / (1 - self.beta1**t)
        G_hat = G / (1 - self.beta2**t)
        t = t + 1
        x = x - init_lr / torch.sqrt(G_hat + self.epsilon) * M_hat
        return x, M, G, t
        """,
    ),
    _mistake(
        "adam",
        "hard_coded_betas",
        "with beta1 and beta2 hard-coded (0.9, 0.999) instead of self.beta1, self.beta2",
        "Use the optimizer's own hyperparameters self.beta1 and self.beta2 everywhere.",
        """
        M = 0.9 * M + 0.1 * gradient_x
        G = 0.999 * G + 0.001 * gradient_x * gradient_x
        M_hat = M / (1 - 0.9**t)
        G_hat = G / (1 - 0.999**t)
        t = t + 1
        x = x - init_lr / torch.sqrt(G_hat + self.epsilon) * M_hat
        return x, G, M, t
        """,
    ),
    _mistake(
        "adam",
        "averages_g",
        "that averages g instead of g² in G",
        "G is the average of the squared gradient (g ⊙ g, elementwise), not of the gradient itself.",
        """
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x  # negative gradients can make G negative: NaN
        M_hat = M / (1 - self.beta1**t)
        G_hat = G / (1 - self.beta2**t)
        t = t + 1
        x = x - init_lr / torch.sqrt(G_hat + self.epsilon) * M_hat
        return x, G, M, t
        """,
    ),
    _mistake(
        "adam",
        "returns_corrected_state",
        "that stores the bias-corrected M and G as the state",
        "Keep M and G uncorrected in the state; use M_hat and G_hat only in this step's update.",
        """
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        M = M / (1 - self.beta1**t)
        G = G / (1 - self.beta2**t)
        t = t + 1
        x = x - init_lr / torch.sqrt(G + self.epsilon) * M
        return x, G, M, t
        """,
    ),
    _mistake(
        "adam",
        "t_shared_across_keys",
        "with t advanced once per key instead of once per step (the book's bug)",
        "t must advance once per step(), not once per key: adam() returns t + 1 and leaves self.t alone (the "
        "given step() passes the same self.t to every key and stores the new t once, after the loop).",
        """
        # The book's step(): shows with two keys or more, where later keys see a larger t.
        for key in self.model.params:
            self.model.params[key], self.G[key], self.M[key], self.t = self.adam(
                self.model.params[key], self.model.grads[key], self.G[key], self.M[key], self.t, self.init_lr
            )
        """,
        method="step",
    ),
    _mistake(
        "adam",
        "state_not_stored",
        "that never stores G, M and t back (they restart every step)",
        "Store the returned state in self.G[key], self.M[key], and the new t in self.t after the loop.",
        """
        for key in self.model.params:
            self.model.params[key], G, M, t = self.adam(
                self.model.params[key], self.model.grads[key], self.G[key], self.M[key], self.t, self.init_lr
            )
        """,
        method="step",
    ),
    _mistake(
        "adam",
        "state_shared",
        "with one G and one M shared by every parameter key",
        "Keep one G and one M per key: read and write self.G[key] and self.M[key].",
        """
        first = next(iter(self.model.params))  # shows with two keys or more (of the same shape)
        next_t = self.t
        for key in self.model.params:
            self.model.params[key], self.G[first], self.M[first], next_t = self.adam(
                self.model.params[key], self.model.grads[key], self.G[first], self.M[first], self.t, self.init_lr
            )
        self.t = next_t
        """,
        method="step",
    ),
)

#: Every known mistake, by rule, in the order diagnosis prefers them when two match equally.
BANK: dict[str, tuple[Mistake, ...]] = {
    "adagrad": _ADAGRAD,
    "rmsprop": _RMSPROP,
    "momentum": _MOMENTUM,
    "nesterov": _NESTEROV,
    "adam": _ADAM,
}


def mistakes_for(rule: str) -> tuple[Mistake, ...]:
    """The known mistakes of `rule`, per-key ones first."""
    optimizer_for(rule)  # names the valid rules if `rule` is not one
    return BANK[rule]


def find(rule: str, slug: str) -> Mistake:
    """The mistake `slug` of `rule`; ValueError listing the known slugs if there is none."""
    for mistake in mistakes_for(rule):
        if mistake.slug == slug:
            return mistake
    known = ", ".join(mistake.slug for mistake in mistakes_for(rule))
    raise ValueError(f"no known mistake {slug!r} for {rule}; known: {known}")
