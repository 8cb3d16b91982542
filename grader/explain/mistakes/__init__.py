"""The bank of known mistakes: each one is a method body, written as a student would write it. Trusted side.

Where a mistake is declared: one data file per optimizer, beside this one (adagrad.py, rmsprop.py,
momentum.py, nesterov.py, adam.py), each a tuple of `known(rule, slug, title, hint, body)` entries. To add a
mistake, append an entry to its optimizer's file; nothing else of the code needs to change, but its title and hint
are messages of the catalogs (tools/extract_mistakes.py finds them): run `python -m tools.catalogs update` and
translate them in grader/i18n/<locale>/LC_MESSAGES/mistakes.po. Students read them through `Mistake.named()` and
`Mistake.fix()`, in the language the process speaks. The tools:

    mistake.py   `Mistake` (one entry), `known`, and the rule tables (RULES, optimizer_for, hyperparameters,
                 state_names) read from the reference
    splice.py    `mutate(source, mistake)`: any Python file defining the optimizer class, with the body swapped in
    here         BANK (every entry, by rule), mistakes_for, find; and every public name above, re-exported

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

from . import adagrad, adam, momentum, nesterov, rmsprop
from .mistake import RULES, Mistake, hyperparameters, optimizer_for, state_names
from .splice import mutate

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

#: Every known mistake, by rule, in the order diagnosis prefers them when two match equally.
BANK: dict[str, tuple[Mistake, ...]] = {
    "adagrad": adagrad.MISTAKES,
    "rmsprop": rmsprop.MISTAKES,
    "momentum": momentum.MISTAKES,
    "nesterov": nesterov.MISTAKES,
    "adam": adam.MISTAKES,
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
