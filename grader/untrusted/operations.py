"""Untrusted side: the only things the trusted grader can ask a loaded submission to do.

Each operation takes plain data (tensors already decoded), calls the student's code, and returns plain
data plus facts the trusted side cannot see from outside (was an input mutated, does a state tensor share
memory with a gradient). The trusted side decides what any of it means.
"""

import inspect

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


def _same_values(before, after):
    return (isinstance(after, torch.Tensor) and after.shape == before.shape and after.dtype == before.dtype
            and bool(torch.equal(after.detach().cpu(), before)))


def per_key(namespace, class_name, method, hyper, init_lr, arguments, device):
    """One call of a per-key method, e.g. Adam(init_lr, model, *hyper).adam(x, g, G, M, t, init_lr).

    `arguments` is the list of positional arguments before init_lr. Returns the method's result and the
    indexes of tensor arguments whose values it changed.
    """
    arguments = [_on(value, device) for value in arguments]
    model = Model({"x": arguments[0]})
    optimizer = _find(namespace, class_name)(init_lr, model, *hyper)
    before = [value.detach().cpu().clone() if isinstance(value, torch.Tensor) else None for value in arguments]
    result = getattr(optimizer, method)(*arguments, init_lr)
    mutated = [index for index, (value, old) in enumerate(zip(arguments, before))
               if old is not None and not _same_values(old, value)]
    return {"result": result, "mutated": mutated}


def _storage(value):
    try:
        return value.untyped_storage().data_ptr() if isinstance(value, torch.Tensor) else None
    except RuntimeError:
        return None


def _snapshot(value):
    return value.detach().clone() if isinstance(value, torch.Tensor) else value


def run_steps(namespace, class_name, hyper, init_lr, params, gradients, device):
    """Run the student's optimizer through `step()` once per entry of `gradients` on a model of `params`.

    Per step: the parameters after it, whether every gradient is still the object we set with its
    values, which state entries share memory with a gradient, and the optimizer's `t` if it has one.
    """
    model = Model({key: _on(value, device) for key, value in params.items()})
    optimizer = _find(namespace, class_name)(init_lr, model, *hyper)
    steps = []
    for step_gradients in gradients:
        given = {key: _on(value, device).clone() for key, value in step_gradients.items()}
        model.grads = dict(given)
        optimizer.step()
        grads_intact = {key: model.grads.get(key) is given[key]
                        and _same_values(step_gradients[key], model.grads[key]) for key in given}
        gradient_storage = {_storage(value) for value in given.values()} - {None}
        aliased = sorted(
            f"{attribute}[{key!r}]"
            for attribute, state in vars(optimizer).items() if isinstance(state, dict) and state is not model.params
            for key, value in state.items() if _storage(value) in gradient_storage
        )
        t = getattr(optimizer, "t", None)
        steps.append({
            # Copies: an optimizer that updates in place would otherwise rewrite the earlier steps.
            "params": {key: _snapshot(value) for key, value in model.params.items()},
            "grads_intact": grads_intact,
            "aliased": aliased,
            "t": t if isinstance(t, int) and not isinstance(t, bool) else None,
        })
    return steps


class Sphere:
    """f(x) = sum(w * x²) with the book's Op protocol, defined here so train_f is tested on its own."""

    def __init__(self, w):
        self.w = w
        self.params = {"x": torch.zeros_like(w)}
        self.grads = {"x": torch.zeros_like(w)}

    def __call__(self, x):
        self.params["x"] = x
        return (self.w * x * x).sum()

    def backward(self):
        self.grads["x"] = 2 * self.w * self.params["x"]


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
    model = Sphere(w.to(device))
    x_init = x_init.to(device)
    x_init_before = x_init.detach().cpu().clone()
    optimizer = (InPlaceSGD if in_place else OutOfPlaceSGD)(init_lr, model)
    returned = train_f(model, optimizer, x_init, epoch)
    points = returned[0] if isinstance(returned, (tuple, list)) and len(returned) == 2 else returned
    return {
        "points": _as_array(points),
        "returned_type": type(returned).__name__,
        "x_init_changed": not _same_values(x_init_before, x_init),
    }


def source(namespace, name):
    """The source of the submission's function `name` (the trusted side looks in it for a known bug's
    idiom), or "" where there is none. Asked for only then: it differs from student to student."""
    try:
        return inspect.getsource(_find(namespace, name))[:5000]
    except (OSError, TypeError, LookupError):
        return ""


OPERATIONS = {"per_key": per_key, "run_steps": run_steps, "trajectory": trajectory, "source": source}
