"""The rubric's parts: which class and method each optimizer part grades, read off the reference."""

import inspect
from dataclasses import dataclass

import reference
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


RULES = {
    rule.part: rule
    for rule in (
        _rule("adagrad", "AdaGrad", "Adagrad"),
        _rule("rmsprop", "RMSprop", "RMSprop"),
        _rule("momentum", "Momentum", "Momentum"),
        _rule("nesterov", "Nesterov", "Nesterov"),
        _rule("adam", "Adam", "Adam"),
    )
}
