"""RMSprop's known mistakes, as data: one `known(...)` entry each, in the order diagnosis prefers them.

This file is where a mistake of `reference.RMSprop.rmsprop` (or of its `step`) is declared. An entry gives the rule,
a slug (the mistake's name in reports and JSON: "rmsprop/<slug>"), the student-facing title (it reads after the
optimizer's name), a one-sentence hint, and the wrong method body as a student would write it, with the reference's
names (x, gradient_x, G, init_lr, self.beta, self.epsilon); `method="step"` where it replaces step() instead of the
per-key method. Each body's comment says where the mistake shows, so that tests and strategies can reach that
regime. grader.explain.mistakes gathers the tuple into BANK; tests/test_mistakes.py checks that every entry compiles
and that its class and its mutated file agree, tests/test_diagnosis.py that it differs from the rule and that the
probes tell every two entries apart. Trusted side.
"""

from __future__ import annotations

from .mistake import known

MISTAKES = (
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
