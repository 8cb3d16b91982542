"""What the optimizer parts' tests say: a single step, a run of steps, and the invariants of step(), written
once, for the grader (checks.py and invariants.py draw the cases and call the sandbox) and for the student's
self-check (the release copies this file into the bundle unchanged, beside closeness.py and labels.py; a
test holds that the copy is byte for byte).

step() must leave model.grads alone, keep no state tied to them, keep each parameter's dtype and device,
and advance t once per step(); every one of these is judged from the values that came back (closeness's
Array), never from a conclusion drawn in the student's process.
"""

import numpy as np

from . import closeness, labels  # beside this file, in the kit's grader/judge/ and in the bundle's grader/

# The kit's catalogs (grader/i18n); copied into the release's self-check, this module finds the bundle's own.
try:
    from ..i18n import N_, _, ngettext
except ImportError:
    from .i18n import N_, _, ngettext  # type: ignore[import-not-found,no-redef]

# How to leave gradient_x alone, in each rule's own terms (it is model.grads[key]). Said without the rule's
# own lines: a hint names what to change, never the solution (the release's scan holds the bundle to it).
READ_ONLY_HINT = {
    "adagrad": N_(
        "square gradient_x into a new tensor (gradient_x * gradient_x or gradient_x ** 2) and add that to G, "
        "never gradient_x *= ... or gradient_x **= 2"
    ),
    "rmsprop": N_(
        "square gradient_x into a new tensor (gradient_x * gradient_x or gradient_x ** 2) for the moving "
        "average of G, never gradient_x *= ... or gradient_x **= 2"
    ),
    "adam": N_("use new names (M = ..., G = ...) built from gradient_x, never gradient_x *= ... or gradient_x **= 2"),
    "momentum": N_(
        "build the new delta_x as a new tensor from gradient_x, never gradient_x *= init_lr or gradient_x -= ..."
    ),
    "nesterov": N_(
        "build the new delta_x as a new tensor from gradient_x, never gradient_x *= init_lr or gradient_x -= ..."
    ),
}


def unchanged(got, sent):
    """Whether `got` (as received) holds exactly the values of the Array `sent`, in its dtype and shape."""
    return (
        isinstance(got, closeness.Array)
        and got.dtype == sent.dtype
        and tuple(got.shape) == tuple(sent.shape)
        and got.array is not None
        and np.array_equal(got.array, sent.array)
    )


def gradient_changed(part, class_name, method):
    """The verdict on a per-key call that changed the gradient_x it was given."""
    return _("{qualname}() changes gradient_x in place; it must only read it ({hint})").format(
        qualname=f"{class_name}.{method}", hint=_(READ_ONLY_HINT.get(part, READ_ONLY_HINT["adagrad"]))
    )


def step_kind_problem(class_name, k, observed, sent, dtypes, device):
    """(verdict, diagnosis slug) when step k changed a gradient, a parameter's dtype or its device, else None.

    observed: {"params": {key: Array}, "grads": {key: Array}} as received after step k; sent: the gradients
    of step k ({key: Array}); dtypes: {key: the parameter's dtype name}; device: "cpu" or "cuda"."""
    observed = observed if isinstance(observed, dict) else {}
    grads, params = observed.get("grads"), observed.get("params")
    broken = sorted(key for key in sent if not isinstance(grads, dict) or not unchanged(grads.get(key), sent[key]))
    if broken:
        return _("{qualname} changed {grad} at step {k}: the optimizer must not modify gradients").format(
            qualname=f"{class_name}.step()", grad=f"model.grads[{broken[0]!r}]", k=k
        ), "gradient_mutated"
    for key, value in params.items() if isinstance(params, dict) else ():
        if isinstance(value, closeness.Array) and key in dtypes:
            if value.dtype != dtypes[key]:
                return _("step() turned {param} from {dtype} into {got}; keep the parameter's dtype").format(
                    param=f"model.params[{key!r}]", dtype=dtypes[key], got=value.dtype
                ), None
            if value.device.split(":")[0] != device:
                return _("step() moved {param} from {device} to {got}").format(
                    param=f"model.params[{key!r}]", device=device, got=value.device
                ), None
    return None


def single_step_failure(title, method, problem, inputs, device, expected, got):
    """A per-key call off the reference: the problem, the inputs (name, value) as sent, and both results.
    Values are closeness's (Array, tuples of them)."""
    lines = [f"  {name} = {closeness.describe(value)}" for name, value in inputs]
    lines.append("  " + _(labels.ON_DEVICE).format(device=device))
    return (
        _("{title}, one call of {method}(): {problem}").format(title=title, method=method, problem=problem)
        + f"\n{_(labels.INPUTS)}\n"
        + "\n".join(lines)
        + "\n"
        + labels.expected_and_got(closeness.describe(expected), closeness.describe(got))
    )


def sequence_failure(title, case, oracle, found):
    """A run of step() off `oracle` (its name, translated) at step k: found is (k, problem). case: params
    ({key: Array}), gradients ([{key: Array}] a step), dtype, device, init_lr, hyper ([(name, value)])."""
    k, problem = found
    keys = ", ".join(f"{key} {list(value.shape)}" for key, value in case["params"].items())
    return (
        _(
            "{title}, {calls} of step() on a model with keys {keys} ({dtype}, {device}, init_lr={init_lr}, "
            "{hyper}), against {oracle}: {problem}"
        ).format(
            title=title,
            calls=calls(len(case["gradients"])),
            keys=keys,
            dtype=case["dtype"],
            device=case["device"],
            init_lr=repr(case["init_lr"]),
            hyper=", ".join(f"{name}={value!r}" for name, value in case["hyper"]),
            oracle=oracle,
            problem=problem,
        )
        + "\n"
        + labels.labelled(_(labels.START), closeness.describe(case["params"]))
        + "\n"
        + labels.labelled(_(labels.GRADIENTS_OF_STEP).format(k=k), closeness.describe(case["gradients"][k - 1]))
    )


def calls(count):
    """'3 calls', in the language's own plural."""
    return ngettext("{count} call", "{count} calls", count).format(count=count)


def where(count, shapes, dtype, device):
    """The run an invariants case is: how many steps, on which keys (shapes: {key: shape}), dtype and device."""
    keys = ", ".join(f"{key} {list(shape)}" for key, shape in shapes.items())
    return _("{calls} of step() on a model with keys {keys} ({dtype}, {device})").format(
        calls=calls(count), keys=keys, dtype=dtype, device=device
    )


def single_values_too(title, method, problem):
    """The verdict on a per-key call whose values are off, in the invariants test."""
    return _(
        "{title}, one call of {method}(): {problem}. This test requires right values too (see the single_step test)."
    ).format(title=title, method=method, problem=problem)


def state_aliases_gradient(title, where_text, problem, class_name):
    """The verdict when parameters are off only while gradients are written in place (right with new ones)."""
    return _(
        "{title}, {where}, each gradient written into the same tensor as autograd does: {problem}. With a "
        "new gradient tensor every step the parameters are right, so {class_name} keeps state that shares "
        "memory with a gradient, and the next gradient written into it changes that state: start the state "
        "from a copy (or from 0) rather than from gradient_x itself"
    ).format(title=title, where=where_text, problem=problem, class_name=class_name)


def sequence_values_too(title, where_text, problem):
    """The verdict on parameters off the reference (with new gradients too), in the invariants test."""
    return _("{title}, {where}: {problem}. This test requires right values too (see the sequence test).").format(
        title=title, where=where_text, problem=problem
    )
