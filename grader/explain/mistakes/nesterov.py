"""Nesterov's known mistakes, as data: one `known(...)` entry each, in the order diagnosis prefers them.

This file is where a mistake of `reference.Nesterov.nesterov` (or of its `step`) is declared. An entry gives the
rule, a slug (the mistake's name in reports and JSON: "nesterov/<slug>"), the student-facing title (it reads after
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
