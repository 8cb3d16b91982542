"""The one registry of the rubric's parts: every part, in order, with what the rest of the kit derives
from it (the rubric's tags, the stub's blanks and bonus, the self-check's tests, the result schema's
tags). An optimizer part also knows the class and method it grades, read off the reference."""

import inspect
from dataclasses import dataclass

import reference
from grader.i18n import N_
from reference import rules


@dataclass(frozen=True)
class Rule:
    """An optimizer part: the class and per-key method a student writes, and how to call the reference."""

    part: str  # the rubric tag, e.g. "adam"
    title: str  # e.g. "Adam"
    class_name: str  # e.g. "Adam"
    hyper: tuple  # constructor arguments after (init_lr, model), in order, e.g. ("beta1", "beta2", "epsilon")
    state: tuple  # per-key method arguments between gradient_x and init_lr, e.g. ("G", "M", "t")

    @property
    def method(self):
        return self.part

    @property
    def reference_class(self):
        return getattr(reference, self.class_name)

    @property
    def has_t(self):
        return "t" in self.state

    def reference_update(self, x, gradient_x, state, init_lr, hyper):
        """The reference's per-key update: (x, *new_state)."""
        return getattr(rules, self.part)(x, gradient_x, *state, init_lr, **dict(zip(self.hyper, hyper)))


def _rule(part, title, class_name):
    cls = getattr(reference, class_name)
    hyper = tuple(list(inspect.signature(cls.__init__).parameters)[3:])  # after self, init_lr, model
    arguments = list(inspect.signature(getattr(cls, part)).parameters)  # self, x, gradient_x, ..., init_lr
    return Rule(part=part, title=title, class_name=class_name, hyper=hyper, state=tuple(arguments[3:-1]))


@dataclass(frozen=True)
class Part:
    """One part of the rubric: its tag (in results, the CSV and the self-check's test names), and what
    the student's file must hold for it."""

    tag: str  # e.g. "adam"
    title: str  # e.g. "Adam"
    rule: "Rule | None" = None  # an optimizer part's class and method; None for the trajectory (train_f)
    role: str = "exercise"  # "exercise": blank in the stub, graded; "bonus": kept in the stub, off by
    # default; "given": in the stub as written (train_f), graded as the student leaves it

    @property
    def qualname(self):
        """The function a student writes for it, e.g. "Adam.adam" (None for the trajectory)."""
        return f"{self.rule.class_name}.{self.rule.method}" if self.rule else None


PARTS = {
    part.tag: part
    for part in (
        Part("adagrad", "AdaGrad", _rule("adagrad", "AdaGrad", "Adagrad")),
        Part("rmsprop", "RMSprop", _rule("rmsprop", "RMSprop", "RMSprop")),
        Part("momentum", "Momentum", _rule("momentum", "Momentum", "Momentum")),
        Part("adam", "Adam", _rule("adam", "Adam", "Adam")),
        # The titles are shown translated (`_(part.title)`): the optimizers' names read the same in every language.
        Part("trajectory", N_("train_f trajectory"), role="given"),
        Part("nesterov", N_("Nesterov (bonus)"), _rule("nesterov", "Nesterov", "Nesterov"), role="bonus"),
    )
}

#: The optimizer parts' rules, by tag.
RULES = {tag: part.rule for tag, part in PARTS.items() if part.rule is not None}
#: The functions blanked in the stub, and those kept complete as an optional bonus.
EXERCISES = tuple(part.qualname for part in PARTS.values() if part.role == "exercise")
BONUS = tuple(part.qualname for part in PARTS.values() if part.role == "bonus")
