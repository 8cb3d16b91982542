"""AdaGrad's known mistakes, as data: one `known(...)` entry each, in the order diagnosis prefers them.

This file is where a mistake of `reference.Adagrad.adagrad` (or of its `step`) is declared. An entry gives the rule,
a slug (the mistake's name in reports and JSON: "adagrad/<slug>"), the student-facing title (it reads after the
optimizer's name), a one-sentence hint, and the wrong method body as a student would write it, with the reference's
names (x, gradient_x, G, init_lr, self.epsilon); `method="step"` where it replaces step() instead of the per-key
method. Each body's comment says where the mistake shows, so that tests and strategies can reach that regime.
grader.explain.mistakes gathers the tuple into BANK; tests/test_mistakes.py checks that every entry compiles and
that its class and its mutated file agree, tests/test_diagnosis.py that it differs from the rule and that the probes
tell every two entries apart. Trusted side.
"""

from __future__ import annotations

from .mistake import known

MISTAKES = (
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
