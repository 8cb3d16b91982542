"""What is wrong with what train_f recorded, and why: written once, for the grader and for the student's
self-check (the release copies this file into the bundle unchanged, beside closeness.py; a test holds
that the copy is byte for byte).

train_f runs on the assignment's bowl f(x) = sum(w x²) with two plain SGD optimizers: one that updates x
in place (`x -= lr * g`) and one that makes a new tensor each step. Recording the live tensor (or a view
of it) survives the second and collapses under the first: every point becomes the last one. A trajectory
that stays at x_init is named for what it is (x never read back from model.params, or x_init recorded),
and the losses are compared too (f at each recorded point).

Standalone: the standard library, numpy, closeness.py and the kit's language module. train_f's text is
read from the submission as the trusted side read it and parsed with `ast`, never searched by a
backtracking pattern, so hostile text costs linear time within MAX_FUNCTION characters.
"""

import ast
import re
import textwrap

import numpy as np

from . import closeness  # beside this file, in the kit's grader/judge/ and in the bundle's grader/

# The kit's catalogs (grader/i18n); copied into the release's self-check, this module finds the bundle's own.
try:
    from ..i18n import N_, _
except ImportError:
    from .i18n import N_, _  # type: ignore[import-not-found,no-redef]

# What a student may append to the trajectory, and whether it is a view of x (so in-place updates show).
# The first full match wins, so the bare name (which also matches `x.data`) comes last.
SNAPSHOT_IDIOMS = (
    (r"{x}\.numpy\(\)", True, N_("x.numpy(), a numpy view of the same memory")),
    (r"copy\.copy\({x}\)", True, N_("copy.copy(x): a shallow copy of a tensor shares its storage")),
    (r"{x}\.detach\(\)", True, N_("x.detach(), which shares the storage")),
    (r"{x}\.data", True, N_("x.data, which shares the storage")),
    (r"{x}\[:\]", True, N_("x[:], a view")),
    (r"{x}\.view\(.*\)", True, N_("x.view(...), a view")),
    (r"torch\.as_tensor\({x}\)", True, N_("torch.as_tensor(x), which returns x itself")),
    (r"(?:np|numpy)\.asarray\({x}\)", True, N_("np.asarray(x), a view of the same memory")),
    (r"{x}\.cpu\(\)", True, N_("x.cpu(), which returns x itself for a CPU tensor (and hides the bug on a GPU)")),
    (r"{x}\.clone\(\)", False, "x.clone()"),
    (r"copy\.deepcopy\({x}\)", False, "copy.deepcopy(x)"),
    (r"{x}\.tolist\(\)", False, "x.tolist()"),
    (r"(?:np|numpy)\.array\({x}\)", False, "np.array(x)"),
    (r"{x}", True, N_("the tensor x itself")),
)
FIX = N_("record a real copy instead: x.clone() (or copy.deepcopy(x), x.tolist(), x.numpy().copy())")

# What each diagnosis of this part means, and its fix: (title, hint), for reports; marked here, translated
# where they are shown.
MISTAKES = {
    "trajectory_aliasing": (
        N_("train_f records views of x, so in-place updates collapse the trajectory (the 'shallow copy' bug)"),
        FIX,
    ),
    "missing_initial_point": (
        N_("train_f records x after each step, not before: x_init is missing"),
        N_("append x before calling optimizer.step()"),
    ),
    "wrong_length": (
        N_("train_f records the wrong number of points"),
        N_("record exactly one point per step, before it"),
    ),
    "x_init_mutated": (N_("train_f updates the caller's x_init in place"), N_("start from x = x_init.clone()")),
    "constant_trajectory": (
        N_("train_f records the same point, x_init, at every step"),
        N_("after optimizer.step(), read the new point back (x = model.params['x']) and record x"),
    ),
    "loss_after_step": (
        N_("train_f records the loss after the step, not at the recorded point"),
        N_("record loss = model(x) before optimizer.step(), at the point you record"),
    ),
    "wrong_losses": (
        N_("train_f's losses are not f at the recorded points"),
        N_("record loss = model(x) at each point"),
    ),
}

READ_BACK = N_(
    "the optimizer stores the new point in model.params['x'] (a new tensor each step when it updates out "
    "of place), so read it back after optimizer.step(): x = model.params['x']"
)
#: The advice item x_init_untouched is not judged while the trajectory itself is wrong.
NOT_JUDGED = N_(
    "not judged: train_f's trajectory with an optimizer that updates in place is wrong (see the in_place test)"
)
X_INIT_CHANGED = N_(
    "train_f changed the caller's x_init: with an optimizer that updates in place, the first step writes into "
    "the very tensor that was passed in. Start from x_init.clone() if the caller's tensor must stay as it was."
)

#: Characters of train_f read to name its idiom: a real one is under 2,000.
MAX_FUNCTION = 20_000
MAX_ARGUMENT = 200  # an appended expression longer than this is no idiom of the table


def train_f_source(chunks):
    """The source of the submission's last top-level `def train_f` (the one the loader leaves defined), found
    in its chunks ({"source": text} each, as the submission was read), or "" where there is none. Linear in
    the chunks' size: its lines run from the `def` to the next line that starts a top-level statement."""
    found = ""
    for chunk in chunks:
        lines = chunk["source"].split("\n")
        starts = [index for index, line in enumerate(lines) if line.startswith(("def train_f(", "def train_f ("))]
        if not starts:
            continue
        body = [lines[starts[-1]]]
        for line in lines[starts[-1] + 1 :]:
            if line[:1] not in ("", " ", "\t", "#", ")"):
                break
            body.append(line)
        found = "\n".join(body)[:MAX_FUNCTION]
    return found


def _parsed(source):
    try:
        return ast.parse(textwrap.dedent(source[:MAX_FUNCTION]))
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # cut, odd or hostile text
        return None


def _appends(tree):
    """(list name, appended expression) of each `NAME.append(expression)` or `obj.NAME.append(...)` in source
    order."""
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "append"
        and len(node.args) == 1
        and not node.keywords
    ]
    calls.sort(key=lambda node: (node.lineno, node.col_offset))
    for call in calls:
        target = call.func.value
        name = target.id if isinstance(target, ast.Name) else target.attr if isinstance(target, ast.Attribute) else ""
        yield name, call.args[0]


def _trajectory_list(tree, appended):
    """The name of the list train_f returns as its trajectory (in its first returned value), or None.

    `losses.append(loss)` before `points.append(x.numpy())` must not make the report blame `loss`: only
    appends to the list that is returned as the trajectory say how the points were recorded.
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Return) and node.value is not None:
            first = node.value.elts[0] if isinstance(node.value, ast.Tuple) and node.value.elts else node.value
            names = [name.id for name in ast.walk(first) if isinstance(name, ast.Name) and name.id in appended]
            if names:
                return names[0]
    return None


def snapshot_idiom(source):
    """(is_view, description) for the first recognised `.append(...)` to train_f's trajectory list (to any
    list where that list cannot be told), or None. `source`: train_f's text (or a fragment of it)."""
    source = textwrap.dedent(source[:MAX_FUNCTION])
    tree = _parsed(source)
    if tree is None:
        return None
    appends = list(_appends(tree))
    trajectory_list = _trajectory_list(tree, {name for name, _argument in appends})
    for target, argument in appends:
        if trajectory_list is not None and target != trajectory_list:
            continue
        text = ast.get_source_segment(source, argument) or ""
        if len(text) > MAX_ARGUMENT:
            continue
        for pattern, is_view, description in SNAPSHOT_IDIOMS:
            if re.fullmatch(pattern.format(x=r"[A-Za-z_][\w.]*(?:\[['\"]\w+['\"]\])?"), text.strip()):
                return is_view, description
    return None


def records_x_init(source):
    """Does train_f append x_init itself (or something made of it) to its trajectory list?"""
    tree = _parsed(source) if source else None
    if tree is None:
        return False
    appends = list(_appends(tree))
    trajectory_list = _trajectory_list(tree, {name for name, _argument in appends})
    return any(
        isinstance(node, ast.Name) and node.id == "x_init"
        for target, argument in appends
        if trajectory_list is None or target == trajectory_list
        for node in ast.walk(argument)
    )


def reads_params(source):
    """Does train_f's text read model.params at all (e.g. x = model.params['x'])? True where it cannot tell."""
    tree = _parsed(source) if source else None
    if tree is None:
        return True
    return any(isinstance(node, ast.Attribute) and node.attr == "params" for node in ast.walk(tree))


def trajectory_problem(got, expected, expected_losses, in_place, source=""):
    """(what is wrong, diagnosis slug) for train_f's answer, or (None, None).

    got: {"points", "losses", "returned_type"} as received (closeness values); expected: the reference's
    points, a float64 array [epoch, size] of float32 numbers; expected_losses: its losses, [epoch];
    source: train_f's text, or a function giving it (read only where a message needs it)."""
    points = got.get("points")
    if not isinstance(points, closeness.Array) or points.array is None:
        return _(
            "train_f should return (trajectory, losses) with the trajectory as a tensor, array or list of points; "
            "it returned a {type} whose trajectory is {value}"
        ).format(type=got.get("returned_type"), value=closeness.describe(points)), None
    epoch = expected.shape[0]
    values = points.array
    if values.size == 0:  # an empty list or tensor: nothing was recorded
        return (
            _(
                "train_f(..., epoch={epoch}) should record {epoch} points (x before each step, starting with "
                "x_init), got none"
            ).format(epoch=epoch),
            "wrong_length",
        )
    shape = list(values.shape)
    values = values.reshape(values.shape[0], -1) if values.ndim else values
    if values.ndim != 2 or values.shape[1] != expected.shape[1]:
        return _("the trajectory should have shape [{epoch}, {size}], got {shape}").format(
            epoch=epoch, size=expected.shape[1], shape=shape
        ), None
    with np.errstate(over="ignore"):  # a value beyond float32's range is inf there, as torch makes it
        as_float32 = values.astype(np.float32)
    first = as_float32[0].astype(np.float64)
    if (
        values.shape[0] == epoch
        and np.allclose(first, expected[1], rtol=1e-5, atol=1e-6)
        and not np.allclose(first, expected[0])
    ):
        return (
            _("the trajectory misses its initial point: record x before each step, so the first point is x_init"),
            "missing_initial_point",
        )
    if values.shape[0] != epoch:
        return (
            _(
                "train_f(..., epoch={epoch}) should record {epoch} points (x before each step, starting with "
                "x_init), got {count}"
            ).format(epoch=epoch, count=values.shape[0]),
            "wrong_length",
        )
    moves = not np.array_equal(expected[0], expected[-1])
    if epoch > 1 and moves and bool((as_float32 == expected[0].astype(np.float32)).all()):
        text = source() if callable(source) else source
        if records_x_init(text) or (in_place and reads_params(text)):
            why = _(
                "it records x_init (or a copy of it made before the loop) instead of x as it is before each step; "
                "record x itself with x.clone()"
            )
        else:
            why = _("x never changes in your loop: {read_back}").format(read_back=_(READ_BACK))
        return _("every recorded point is x_init {point}: {why}").format(
            point=[float(np.float32(value)) for value in expected[0]], why=why
        ), "constant_trajectory"
    if in_place and epoch > 1 and bool((values == values[-1]).all()) and moves:
        idiom = snapshot_idiom(source() if callable(source) else source)
        # Translators: the leading space separates it from the sentence before it, in English only.
        cause = _(" It records {idiom}.").format(idiom=_(idiom[1])) if idiom and idiom[0] else ""
        return _(
            "every recorded point equals the last one: the trajectory holds views of the live tensor x, "
            "which the in-place update keeps changing (the 'shallow copy' bug).{cause} Fix: {fix}"
        ).format(cause=cause, fix=_(FIX)), "trajectory_aliasing"
    # operations.py made the points one float64 tensor whatever train_f returned: its class is no verdict's.
    problem = closeness.tensor_problem(
        closeness.Array("Tensor", points.dtype, values.shape, "cpu", values),
        closeness.array(expected),
        _("the trajectory"),
        k=epoch,
        exact_dtype=False,
    )
    if problem:
        return problem, None
    return _loss_problem(got, epoch, expected_losses)


def _loss_problem(got, epoch, expected_losses):
    """The losses must be f at the recorded points, one per point."""
    losses = got.get("losses")
    if losses is None:
        return (
            _(
                "train_f should return (trajectory, losses); it returned a {type}, so its losses cannot be compared"
            ).format(type=got.get("returned_type")),
            "wrong_losses",
        )
    if not isinstance(losses, closeness.Array) or losses.array is None:
        return (
            _("train_f's losses should be a tensor, array or list of numbers; got {value}").format(
                value=closeness.describe(losses)
            ),
            "wrong_losses",
        )
    values = losses.array
    if values.size != epoch:
        return _(
            "train_f(..., epoch={epoch}) should record {epoch} losses (f at each recorded point), got {count} "
            "values of shape {shape}"
        ).format(epoch=epoch, count=values.size, shape=list(values.shape)), "wrong_losses"
    values = values.reshape(-1)

    def off(mine, theirs):
        return closeness.tensor_problem(
            closeness.Array("Tensor", losses.dtype, mine.shape, "cpu", mine),
            closeness.array(theirs),
            _("the losses"),
            k=epoch,
            exact_dtype=False,
        )

    problem = off(values, np.asarray(expected_losses, dtype=np.float64))
    if not problem:
        return None, None
    if epoch > 1 and off(values[:-1], np.asarray(expected_losses[1:], dtype=np.float64)) is None:
        return (
            _(
                "{problem}: your losses are f after each step (losses[i] is f at point i + 1); record the loss "
                "before optimizer.step(), at the point you record"
            ).format(problem=problem),
            "loss_after_step",
        )
    return _("{problem} (each loss should be f at the recorded point before the step)").format(
        problem=problem
    ), "wrong_losses"


def failure(in_place, case, problem):
    """The failing case's account: which optimizer train_f ran with, on which bowl and device, then `problem`.
    case: w, x_init (lists), init_lr, epoch, device."""
    how = (
        _("an optimizer that updates x in place (x -= lr * g)")
        if in_place
        else _("an optimizer that makes a new x each step")
    )
    return _(
        "train_f with {how}, w={w}, x_init={x_init}, init_lr={init_lr}, epoch={epoch} on {device}: {problem}"
    ).format(how=how, problem=problem, **case)


def x_init_problem(after, x_init):
    """X_INIT_CHANGED unless the caller's x_init (as received after the run) still holds `x_init`."""
    if (
        isinstance(after, closeness.Array)
        and after.array is not None
        and tuple(after.shape) == (len(x_init),)
        and np.array_equal(after.array.astype(np.float32), np.asarray(x_init, dtype=np.float32))
    ):
        return None
    return _(X_INIT_CHANGED)
