"""A known mistake: what one entry of the bank is, and the rule tables it is checked against. Trusted side.

A `Mistake` replaces one method of a reference optimizer (its per-key method, e.g. `Adam.adam`, or its
`step`) with `body`, the source text of a wrong body that uses the reference's variable names. That text
is the only definition of the mistake; everything else is derived from it:

    Mistake.function()         the body compiled into a function with the method's exact signature
    Mistake.optimizer_class()  a subclass of the reference optimizer with that method replaced
    Mistake.update(...)        for a per-key mistake, the pure call (like `reference.rules`)

`known(...)` is the constructor the data files (adagrad.py ... adam.py, beside this one) declare entries with;
`mutate` (splice.py) swaps a body into any Python file.
"""

from __future__ import annotations

import functools
import inspect
import keyword
import linecache
import textwrap
from dataclasses import dataclass
from types import SimpleNamespace

import torch

from grader.i18n import _
from reference import Adagrad, Adam, Momentum, Nesterov, RMSprop

#: The reference optimizer of each graded rule; its per-key method carries the rule's name.
_OPTIMIZERS = {"adagrad": Adagrad, "rmsprop": RMSprop, "momentum": Momentum, "nesterov": Nesterov, "adam": Adam}
RULES = tuple(_OPTIMIZERS)


def optimizer_for(rule: str) -> type[Adagrad | RMSprop | Momentum | Nesterov | Adam]:
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
    """Student-facing, reads after the optimizer's name: "Adam without bias correction". English, as the catalogs'
    message (tools/extract_mistakes.py finds it): students read it through `named()`, in their language."""
    hint: str
    """One sentence on how to fix it. English, as the catalogs' message: students read it through `fix()`."""
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

    def named(self) -> str:
        """The mistake as students read it, in the language this process speaks: "Adam without bias correction"."""
        # Translators: a known mistake's name. {optimizer} is the optimizer's class name (Adagrad, RMSprop, Momentum,
        # Nesterov, Adam) and {title} the mistake's title, written in English to read after that name
        # ("without bias correction", "that never advances t"); order the two as the language needs.
        return _("{optimizer} {title}").format(optimizer=optimizer_for(self.rule).__name__, title=_(self.title))

    def fix(self) -> str:
        """The hint (one sentence on how to fix it), in the language this process speaks."""
        return _(self.hint)

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
    namespace: dict = {"torch": torch}
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
        "__module__": __package__,  # grader.explain.mistakes, as before the split
        "__qualname__": name,
        "mistake": mistake,
    }
    return type(name, (base,), namespace)


def known(rule, slug, title, hint, body, method=None):
    """One entry of the bank (the data files' constructor): a Mistake of `rule`'s per-key method unless `method`."""
    return Mistake(rule=rule, slug=slug, title=title, hint=hint, method=method or rule, body=body)
