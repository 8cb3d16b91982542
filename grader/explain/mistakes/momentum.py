"""Momentum's known mistakes, as data: one `known(...)` entry each, in the order diagnosis prefers them.

This file is where a mistake of `reference.Momentum.momentum` (or of its `step`) is declared. An entry gives the
rule, a slug (the mistake's name in reports and JSON: "momentum/<slug>"), the student-facing title (it reads after
the optimizer's name), a one-sentence hint, and the wrong method body as a student would write it, with the
reference's names (x, gradient_x, delta_x, init_lr, self.rho); `method="step"` where it replaces step() instead of
the per-key method. Each body's comment says where the mistake shows, so that tests and strategies can reach that
regime. grader.explain.mistakes gathers the tuple into BANK; tests/test_mistakes.py checks that every entry compiles
and that its class and its mutated file agree, tests/test_diagnosis.py that it differs from the rule and that the
probes tell every two entries apart. Trusted side.
"""

from __future__ import annotations

from .mistake import known

MISTAKES = (
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
