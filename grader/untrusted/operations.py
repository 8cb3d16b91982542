"""Untrusted side: the only things the trusted grader can ask a loaded submission to do.

Each operation takes plain data (tensors already decoded), calls the student's code, and returns plain
data: results, and where asked, the values of the caller's tensors after the call. It draws no
conclusion (was an input changed, is state tied to a gradient): the student's code can patch anything
in this process, this module included, so every conclusion is drawn on the trusted side, from values
compared with the reference's.
"""

import numpy as np
import torch


class Model:
    """The smallest model the book's optimizers accept: `params` and `grads` dicts with the same keys."""

    def __init__(self, params):
        self.params = dict(params)
        self.grads = {key: torch.zeros_like(value) for key, value in params.items()}


def _find(namespace, name):
    if name not in namespace:
        raise LookupError(f"the submission defines no `{name}`")
    return namespace[name]


def _on(value, device):
    return value.to(device) if isinstance(value, torch.Tensor) else value


def _snapshot(value):
    """A tensor's values now, apart from later in-place changes; anything else as it is."""
    return value.detach().clone() if isinstance(value, torch.Tensor) else value


def per_key(namespace, class_name, method, hyper, init_lr, arguments, device, report_arguments=False):
    """One call of a per-key method, e.g. Adam(init_lr, model, *hyper).adam(x, g, G, M, t, init_lr).

    `arguments` is the list of positional arguments before init_lr. Returns the method's result and,
    with report_arguments, the values of those arguments after the call (to see which it changed).
    """
    arguments = [_on(value, device) for value in arguments]
    model = Model({"x": arguments[0]})
    optimizer = _find(namespace, class_name)(init_lr, model, *hyper)
    result = getattr(optimizer, method)(*arguments, init_lr)
    answer = {"result": result}
    if report_arguments:
        answer["arguments"] = [_snapshot(value) for value in arguments]
    return answer


def run_steps(
    namespace, class_name, hyper, init_lr, params, gradients, device, gradients_in_place=False, report_gradients=False
):
    """Run the student's optimizer through `step()` once per entry of `gradients` on a model of `params`.

    Gradients arrive as the book's backward() gives them, a new tensor per key and step, or with
    gradients_in_place as autograd gives them: written into the same tensor each step (so state that
    shares memory with a gradient changes with it). Per step: the parameters after it and, with
    report_gradients, what model.grads holds after it.
    """
    model = Model({key: _on(value, device) for key, value in params.items()})
    optimizer = _find(namespace, class_name)(init_lr, model, *hyper)
    written = {key: torch.zeros_like(value) for key, value in model.params.items()}
    steps = []
    for step_gradients in gradients:
        for key, value in step_gradients.items():  # the same dict object: an optimizer may keep model.grads
            if gradients_in_place:
                model.grads[key] = written[key]
                written[key].copy_(_on(value, device))
            else:
                model.grads[key] = _on(value, device).clone()
        optimizer.step()
        # Copies: an optimizer that updates in place would otherwise rewrite the earlier steps.
        step = {"params": {key: _snapshot(value) for key, value in model.params.items()}}
        if report_gradients:
            step["grads"] = {key: _snapshot(value) for key, value in model.grads.items()}
        steps.append(step)
    return steps


class OptimizedFunction:
    """f(x) = sum(w * x²) as the assignment's `OptimizedFunction` offers it: `params`/`grads`, `forward` (also
    by calling the model), `backward`, and `f(x)` / `gradient(x)` at any point. Defined here (the worker never
    imports the kit) so that train_f is tested on its own, with a model like the ones it was written for."""

    def __init__(self, w):
        self.w = w
        self.params = {"x": torch.zeros_like(w)}
        self.grads = {"x": torch.zeros_like(w)}

    def f(self, x):
        return (self.w.to(x.device, x.dtype) * x * x).sum(-1)

    def gradient(self, x):
        return 2 * self.w.to(x.device, x.dtype) * x

    def forward(self, x):
        self.params["x"] = x
        return self.f(x)

    def __call__(self, x):
        return self.forward(x)

    def backward(self):
        self.grads["x"] = self.gradient(self.params["x"])


Sphere = OptimizedFunction  # the name this model had


class InPlaceSGD:
    """Updates with `x -= lr * g`: the same tensor object changes, as `x -= ...` optimizers do."""

    def __init__(self, init_lr, model):
        self.init_lr, self.model = init_lr, model

    def step(self):
        for key in self.model.params:
            self.model.params[key] -= self.init_lr * self.model.grads[key]


class OutOfPlaceSGD(InPlaceSGD):
    """Updates with `x = x - lr * g`: a new tensor every step."""

    def step(self):
        for key in self.model.params:
            self.model.params[key] = self.model.params[key] - self.init_lr * self.model.grads[key]


def _as_array(value):
    """The student's trajectory as one float64 array, read *now* (so views show their final values)."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().to(torch.float64)
    try:
        items = [item.detach().cpu().numpy() if isinstance(item, torch.Tensor) else item for item in value]
        return torch.from_numpy(np.array(items, dtype=np.float64))
    except (TypeError, ValueError, RuntimeError):
        return value  # the trusted side reports what kind of thing came back


def trajectory(namespace, in_place, w, x_init, init_lr, epoch, device):
    """Call the student's train_f(model, optimizer, x_init, epoch) with an in-place or out-of-place SGD."""
    train_f = _find(namespace, "train_f")
    model = OptimizedFunction(w.to(device))
    x_init = x_init.to(device)
    optimizer = (InPlaceSGD if in_place else OutOfPlaceSGD)(init_lr, model)
    returned = train_f(model, optimizer, x_init, epoch)
    pair = isinstance(returned, (tuple, list)) and len(returned) == 2
    points = returned[0] if pair else returned
    return {
        "points": _as_array(points),
        "losses": _as_array(returned[1]) if pair else None,  # read now, as the points are
        "returned_type": type(returned).__name__,
        "x_init_after": _snapshot(x_init),  # the caller's tensor, compared with what was sent
    }


def bowl(namespace, class_name, hyper, init_lr, w, x_init, steps):
    """The student's optimizer alone on the bowl f(x) = sum(w x²) (a feedback page's plot): the point
    before each of `steps` steps, as copies. Gradients are computed here; nothing is judged."""
    model = Model({"x": x_init.clone()})
    optimizer = _find(namespace, class_name)(init_lr, model, *hyper)
    points = []
    for _ in range(steps):
        x = model.params["x"]
        points.append(_snapshot(x))
        model.grads["x"] = 2 * w * x
        optimizer.step()
    return points


OPERATIONS = {"per_key": per_key, "run_steps": run_steps, "trajectory": trajectory, "bowl": bowl}
