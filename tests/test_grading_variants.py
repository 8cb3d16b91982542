"""Does every legitimate way of writing the exercise get full marks?"""

import pytest
from grading_support import Variant, as_notebook, grade_text, replace_function, solution_source, variant_failures

VARIANTS = {
    "adagrad-in-place": Variant(
        "adagrad",
        "adagrad",
        """
        G = G + gradient_x ** 2
        x -= init_lr * gradient_x / torch.sqrt(G + self.epsilon)
        return x, G
    """,
    ),
    "adagrad-state-updated-in-place": Variant(
        "adagrad",
        "adagrad",
        """
        G += gradient_x * gradient_x   # a new tensor on the first step (G is the int 0), in place later
        return x - init_lr * gradient_x / (G + self.epsilon).sqrt(), G
    """,
    ),
    "rmsprop-other-order": Variant(
        "rmsprop",
        "rmsprop",
        """
        G = (1 - self.beta) * gradient_x ** 2 + self.beta * G
        step = gradient_x / (G + self.epsilon) ** 0.5
        return x - init_lr * step, G
    """,
    ),
    "momentum-in-place": Variant(
        "momentum",
        "momentum",
        """
        delta_x = self.rho * delta_x - init_lr * gradient_x
        x += delta_x
        return x, delta_x
    """,
    ),
    "momentum-float64-state": Variant(
        "momentum",
        "momentum",
        """
        delta_x = self.rho * delta_x - init_lr * gradient_x.double()
        return (x.double() + delta_x).to(x.dtype), delta_x
    """,
    ),
    "adam-float64-state": Variant(
        "adam",
        "adam",
        """
        g = gradient_x.double()
        M = self.beta1 * M + (1 - self.beta1) * g
        G = self.beta2 * G + (1 - self.beta2) * g * g
        M_hat = M / (1 - self.beta1 ** t)
        G_hat = G / (1 - self.beta2 ** t)
        x = (x.double() - init_lr * M_hat / torch.sqrt(G_hat + self.epsilon)).to(x.dtype)
        return x, G, M, t + 1
    """,
    ),
    "adam-folded-bias-correction": Variant(
        "adam",
        "adam",
        """
        import math
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        correction2 = 1 - self.beta2 ** t
        step_size = init_lr * math.sqrt(correction2) / (1 - self.beta1 ** t)
        return x - step_size * M / torch.sqrt(G + self.epsilon * correction2), G, M, t + 1
    """,
    ),
    "adam-step-counters-in-a-dict-beside-t": Variant(
        "adam",
        "step",
        """
        if not hasattr(self, "steps"):  # self.t stays as the constructor set it
            self.steps = {key: 1 for key in self.model.params}
        for key in self.model.params:
            self.model.params[key], self.G[key], self.M[key], self.steps[key] = self.adam(
                self.model.params[key], self.model.grads[key], self.G[key], self.M[key], self.steps[key], self.init_lr)
    """,
    ),
    "adam-in-place-on-clones": Variant(
        "adam",
        "adam",
        """
        M = torch.zeros_like(x) if isinstance(M, int) else M.clone()
        G = torch.zeros_like(x) if isinstance(G, int) else G.clone()
        M.mul_(self.beta1).add_(gradient_x, alpha=1 - self.beta1)
        G.mul_(self.beta2).addcmul_(gradient_x, gradient_x, value=1 - self.beta2)
        M_hat = M / (1 - self.beta1 ** t)
        G_hat = G / (1 - self.beta2 ** t)
        x = x.clone()
        x.sub_(init_lr * M_hat / torch.sqrt(G_hat + self.epsilon))
        return x, G, M, t + 1
    """,
    ),
    "adagrad-in-place-on-a-clone": Variant(
        "adagrad",
        "adagrad",
        """
        G = torch.zeros_like(x) if isinstance(G, int) else G.clone()
        G.addcmul_(gradient_x, gradient_x)
        x -= init_lr / torch.sqrt(G + self.epsilon) * gradient_x
        return x, G
    """,
    ),
    "momentum-torch-buffer-from-a-clone": Variant(
        "momentum",
        "step",
        """
        if not hasattr(self, "buffer"):
            self.buffer = {}
        for key in self.model.params:  # torch.optim's form: delta_x = -init_lr * buffer
            g = self.model.grads[key]
            self.buffer[key] = self.rho * self.buffer[key] + g if key in self.buffer else g.clone()
            self.model.params[key] = self.model.params[key] - self.init_lr * self.buffer[key]
    """,
    ),
    "adam-per-key-step-counter": Variant(
        "adam",
        "step",
        """
        if not isinstance(self.t, dict):
            self.t = {key: self.t for key in self.model.params}
        for key in self.model.params:
            self.model.params[key], self.G[key], self.M[key], self.t[key] = self.adam(
                self.model.params[key], self.model.grads[key], self.G[key], self.M[key], self.t[key], self.init_lr)
    """,
    ),
}

TRAIN_F = """
def train_f(model, optimizer, x_init, epoch):
    import copy
    x = {start}
    all_x, losses = [], []
    for _ in range(epoch):
        all_x.append({snapshot})
        losses.append(model(x))
        model.backward()
        optimizer.step()
        x = model.params['x']
    return {returned}, losses
"""

TRAJECTORIES = {
    "tolist": dict(start="x_init.clone()", snapshot="x.tolist()", returned="torch.tensor(all_x)"),
    "deepcopy": dict(start="copy.deepcopy(x_init)", snapshot="copy.deepcopy(x)", returned="all_x"),
    "numpy-copy": dict(start="x_init.clone()", snapshot="x.detach().numpy().copy()", returned="all_x"),
    # The course's own fix: the caller's x_init is updated in place (advice, no deduction).
    "course": dict(start="x_init", snapshot="copy.deepcopy(x.numpy())", returned="all_x"),
    "detach-clone-stack": dict(
        start="x_init.detach().clone()", snapshot="x.detach().clone()", returned="torch.stack(all_x)"
    ),
}

NOISE = """
print("loading my optimizers")
import matplotlib.pyplot as plt
plt.plot([1, 2, 3])
plt.show()
for epoch in range(10**9):
    pass
history = [step for step in range(5)]
if __name__ == "__main__":
    while True:
        pass
"""


@pytest.mark.parametrize("name", VARIANTS)
def test_a_correct_variant_gets_full_marks(name, zygote, tmp_path):
    assert variant_failures(VARIANTS[name], tmp_path, zygote) == []


@pytest.mark.parametrize("name", TRAJECTORIES)
def test_a_correct_train_f_gets_full_marks(name, zygote, tmp_path):
    source = replace_function(solution_source(), "train_f", TRAIN_F.format(**TRAJECTORIES[name]))
    report = grade_text(source, tmp_path, zygote, "trajectory")
    assert [(test.title, test.output) for test in report.tests if not test.passed] == []


@pytest.mark.parametrize("form", ["py", "ipynb"])
def test_noisy_top_level_code_neither_hangs_nor_costs_points(form, zygote, tmp_path):
    source = solution_source() + NOISE
    text, name = (source, "optimizers.py") if form == "py" else (as_notebook(source), "optimizers.ipynb")
    report = grade_text(text, tmp_path, zygote, "adam", "trajectory", name=name)
    assert [(test.title, test.output) for test in report.tests if not test.passed] == []
