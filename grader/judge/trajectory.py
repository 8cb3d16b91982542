"""Trusted side: the checks of the student's train_f, above all the trajectory aliasing bug.

train_f runs in the sandbox on the assignment's bowl f(x) = sum(w x²) (a model that offers what
`OptimizedFunction` offers: params/grads, calling it, backward, f and gradient) with two plain SGD
optimizers: one that updates x in place (`x -= lr * g`) and one that makes a new tensor each step.
Recording the live tensor (or a view of it) survives the second and collapses under the first: every
point becomes the last one. A trajectory that stays at x_init is named for what it is (x never read back
from model.params, or x_init recorded), and the losses are compared too (f at each recorded point).
"""

import ast
import re
import textwrap

import torch
from hypothesis import strategies as st

from grader.i18n import N_, _
from reference import OptimizedFunction, SimpleBatchGD, train_f

from . import compare
from .properties import CheckFailure, NotJudged, answer, expected, require, run_property

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


#: What `require` names when train_f is missing: "your file defines no `train_f`, which the trajectory part needs."
TRAJECTORY_PART = N_("the trajectory part")

#: Characters of train_f read to name its idiom: a real one is under 2,000. The grader reads the submission's
#: own file for it (never the sandbox's word), so hostile text costs linear time within this bound.
MAX_FUNCTION = 20_000
MAX_ARGUMENT = 200  # an appended expression longer than this is no idiom of the table


def train_f_source(chunks):
    """The source of the submission's last top-level `def train_f` (the one the loader leaves defined), found
    in its chunks as the trusted side read them, or "" where there is none. Linear in the chunks' size:
    its lines run from the `def` to the next line that starts a top-level statement."""
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
    list where that list cannot be told), or None. `source` is train_f's text (or a fragment of it), as
    train_f_source reads it: parsed with `ast`, never searched by a backtracking pattern."""
    source = textwrap.dedent(source[:MAX_FUNCTION])
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # cut, odd or hostile text: no idiom named
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


@st.composite
def cases(draw, devices):
    size = draw(st.integers(1, 3))
    values = st.floats(-5, 5, width=32, allow_subnormal=False).filter(lambda value: abs(value) > 0.1)
    return {
        "w": torch.tensor(draw(st.lists(st.sampled_from([0.2, 0.5, 1.0, 2.0]), min_size=size, max_size=size))),
        "x_init": torch.tensor(draw(st.lists(values, min_size=size, max_size=size))),
        "init_lr": draw(st.sampled_from([0.05, 0.1, 0.2])),
        "epoch": draw(st.integers(2, 25)),
        "device": draw(st.sampled_from(devices)),
    }


FIRST_CASE = {
    "w": torch.tensor([0.2, 2.0]),
    "x_init": torch.tensor([3.0, 4.0]),
    "init_lr": 0.1,
    "epoch": 20,
    "device": "cpu",
}


def _expected(case):
    """The reference train_f's (points, losses) on the case."""
    model = OptimizedFunction(case["w"])
    return train_f(model, SimpleBatchGD(case["init_lr"], model), case["x_init"], case["epoch"])


def _call(ctx, case, in_place):
    got = ctx.call(
        "trajectory",
        "train_f",
        "trajectory",
        in_place=in_place,
        w=case["w"],
        x_init=case["x_init"],
        init_lr=case["init_lr"],
        epoch=case["epoch"],
        device=case["device"],
    )
    return answer(got, "train_f", "points", "returned_type", "x_init_after")


def reads_params(source):
    """Does train_f's text read model.params at all (e.g. x = model.params['x'])? True where it cannot tell."""
    if not source:
        return True
    try:
        tree = ast.parse(textwrap.dedent(source[:MAX_FUNCTION]))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return True
    return any(isinstance(node, ast.Attribute) and node.attr == "params" for node in ast.walk(tree))


def _problem(got, expected, in_place, source=None):
    """(what is wrong, diagnosis slug) for train_f's answer, or (None, None). expected: (points, losses);
    source: train_f's text, or a function giving it (read only where a message needs it)."""
    expected, expected_losses = expected
    points = got["points"]
    if not isinstance(points, compare.WireTensor):
        return _(
            "train_f should return (trajectory, losses) with the trajectory as a tensor, array or list of points; "
            "it returned a {type} whose trajectory is {value}"
        ).format(type=got["returned_type"], value=compare.describe(points)), None
    epoch = expected.shape[0]
    if points.tensor.numel() == 0:  # an empty list or tensor: nothing was recorded
        return (
            _(
                "train_f(..., epoch={epoch}) should record {epoch} points (x before each step, starting with "
                "x_init), got none"
            ).format(epoch=epoch),
            "wrong_length",
        )
    shape = list(points.tensor.shape)
    points = points.tensor.reshape(points.tensor.shape[0], -1) if points.tensor.dim() else points.tensor
    if points.dim() != 2 or points.shape[1] != expected.shape[1]:
        return _("the trajectory should have shape [{epoch}, {size}], got {shape}").format(
            epoch=epoch, size=expected.shape[1], shape=shape
        ), None
    if (
        points.shape[0] == epoch
        and torch.allclose(points[0].float(), expected[1], rtol=1e-5, atol=1e-6)
        and not torch.allclose(points[0].float(), expected[0])
    ):
        return (
            _("the trajectory misses its initial point: record x before each step, so the first point is x_init"),
            "missing_initial_point",
        )
    if points.shape[0] != epoch:
        return (
            _(
                "train_f(..., epoch={epoch}) should record {epoch} points (x before each step, starting with "
                "x_init), got {count}"
            ).format(epoch=epoch, count=points.shape[0]),
            "wrong_length",
        )
    moves = not torch.equal(expected[0], expected[-1])
    if epoch > 1 and moves and bool((points.float() == expected[0]).all()):
        if not reads_params(source() if callable(source) else source):
            why = _("x never changes in your loop: {read_back}").format(read_back=_(READ_BACK))
        elif in_place:
            why = _(
                "it records x_init (or a copy of it made before the loop) instead of x as it is before each step; "
                "record x itself with x.clone()"
            )
        else:
            why = _("x never changes in your loop: {read_back}").format(read_back=_(READ_BACK))
        return _("every recorded point is x_init {point}: {why}").format(
            point=expected[0].tolist(), why=why
        ), "constant_trajectory"
    if in_place and epoch > 1 and bool((points == points[-1]).all()) and moves:
        return "collapsed", "trajectory_aliasing"
    problem = compare.problem_with_tensor(
        compare.WireTensor(points, "cpu", "Tensor"), expected, _("the trajectory"), k=epoch, exact_dtype=False
    )
    if problem:
        return problem, None
    return _loss_problem(got, expected, expected_losses)


def _loss_problem(got, expected, expected_losses):
    """The losses must be f at the recorded points, one per point."""
    epoch = expected.shape[0]
    losses = got.get("losses")
    if losses is None:
        return (
            _(
                "train_f should return (trajectory, losses); it returned a {type}, so its losses cannot be compared"
            ).format(type=got["returned_type"]),
            "wrong_losses",
        )
    if not isinstance(losses, compare.WireTensor):
        return (
            _("train_f's losses should be a tensor, array or list of numbers; got {value}").format(
                value=compare.describe(losses)
            ),
            "wrong_losses",
        )
    values = losses.tensor
    if values.numel() != epoch:
        return _(
            "train_f(..., epoch={epoch}) should record {epoch} losses (f at each recorded point), got {count} "
            "values of shape {shape}"
        ).format(epoch=epoch, count=values.numel(), shape=list(values.shape)), "wrong_losses"
    values = values.reshape(-1)
    problem = compare.problem_with_tensor(
        compare.WireTensor(values, "cpu", "Tensor"), expected_losses, _("the losses"), k=epoch, exact_dtype=False
    )
    if not problem:
        return None, None
    after = expected_losses[1:]
    if (
        epoch > 1
        and compare.problem_with_tensor(
            compare.WireTensor(values[:-1], "cpu", "Tensor"), after, "the losses", k=epoch, exact_dtype=False
        )
        is None
    ):
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


def _trajectory_check(ctx, in_place):
    require(ctx, "train_f", _(TRAJECTORY_PART))
    how = (
        _("an optimizer that updates x in place (x -= lr * g)")
        if in_place
        else _("an optimizer that makes a new x each step")
    )

    def body(case):
        got = _call(ctx, case, in_place)
        source = lambda: train_f_source(getattr(ctx.sandbox, "chunks", None) or [])  # noqa: E731 - read if needed
        problem, slug = _problem(got, expected(case, "reference", lambda: _expected(case)), in_place, source)
        if problem == "collapsed":
            idiom = snapshot_idiom(source())
            # Translators: the leading space separates it from the sentence before it, in English only.
            cause = _(" It records {idiom}.").format(idiom=_(idiom[1])) if idiom and idiom[0] else ""
            problem = _(
                "every recorded point equals the last one: the trajectory holds views of the live tensor x, "
                "which the in-place update keeps changing (the 'shallow copy' bug).{cause} Fix: {fix}"
            ).format(cause=cause, fix=_(FIX))
        if problem:
            raise CheckFailure(
                _(
                    "train_f with {how}, w={w}, x_init={x_init}, init_lr={init_lr}, epoch={epoch} on {device}: "
                    "{problem}"
                ).format(
                    how=how,
                    w=case["w"].tolist(),
                    x_init=case["x_init"].tolist(),
                    init_lr=case["init_lr"],
                    epoch=case["epoch"],
                    device=case["device"],
                    problem=problem,
                ),
                diagnosis=slug,
            )

    run_property(
        ctx, "trajectory", "in_place" if in_place else "out_of_place", cases(ctx.devices), body, first=dict(FIRST_CASE)
    )


def check_out_of_place(ctx, rule=None):
    _trajectory_check(ctx, in_place=False)


def check_in_place(ctx, rule=None):
    _trajectory_check(ctx, in_place=True)


def check_x_init_untouched(ctx, rule=None):
    """train_f leaves the caller's x_init as it was, with an optimizer that updates in place.

    The unit does not ask for it (the course's own train_f starts from `x = x_init`), so the shipped
    rubric gives it no points: it runs as advice. The trajectory must be right too, so that nothing but a
    working train_f can pass it: the caller's tensor is the one value here that the submission reports.
    """
    try:
        require(ctx, "train_f", _(TRAJECTORY_PART))
        got = _call(ctx, FIRST_CASE, in_place=True)
    except CheckFailure as failure:
        raise NotJudged(failure.message) from None
    problem, _slug = _problem(got, _expected(FIRST_CASE), in_place=True)
    if problem:
        raise NotJudged(
            _(
                "not judged: train_f's trajectory with an optimizer that updates in place is wrong (see the "
                "in_place test)"
            )
        )
    after = got["x_init_after"]
    if not (
        isinstance(after, compare.WireTensor)
        and after.tensor.shape == FIRST_CASE["x_init"].shape
        and bool(torch.equal(after.tensor.to(FIRST_CASE["x_init"].dtype), FIRST_CASE["x_init"]))
    ):
        raise CheckFailure(
            _(
                "train_f changed the caller's x_init: with an optimizer that updates in place, the first step "
                "writes into the very tensor that was passed in. Start from x_init.clone() if the caller's tensor "
                "must stay as it was."
            ),
            diagnosis="x_init_mutated",
        )


#: Each test's title, marked here and translated where it is shown (rubric.RubricTest.title).
TRAJECTORY_CHECKS = {
    "out_of_place": (check_out_of_place, N_("train_f records the trajectory (optimizer updating out of place)")),
    "in_place": (check_in_place, N_("train_f records the trajectory (optimizer updating in place)")),
    "x_init_untouched": (check_x_init_untouched, N_("train_f leaves the caller's x_init unchanged")),
}
