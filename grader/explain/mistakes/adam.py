"""Adam's known mistakes, as data: one `known(...)` entry each, in the order diagnosis prefers them.

This file is where a mistake of `reference.Adam.adam` (or of its `step`) is declared. An entry gives the rule, a
slug (the mistake's name in reports and JSON: "adam/<slug>"), the student-facing title (it reads after the
optimizer's name), a one-sentence hint, and the wrong method body as a student would write it, with the reference's
names (x, gradient_x, G, M, t, init_lr, self.beta1, self.beta2, self.epsilon); `method="step"` where it replaces
step() instead of the per-key method. Each body's comment says where the mistake shows, so that tests and strategies
can reach that regime. grader.explain.mistakes gathers the tuple into BANK; tests/test_mistakes.py checks that every
entry compiles and that its class and its mutated file agree, tests/test_diagnosis.py that it differs from the rule
and that the probes tell every two entries apart. Trusted side.
"""

from __future__ import annotations

from .mistake import known

MISTAKES = (
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
    known(
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
