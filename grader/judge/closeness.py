"""Whether a value that came back is close enough to the expected one, and what to say when it is not:
written once, for the grader and for the student's self-check (the release copies this file into the
bundle unchanged: release/contents.py SHARED_FILES, and a test holds that the copy is byte for byte).

Standalone: the standard library, numpy and the kit's language module only. The self-check's pytest side
never imports torch, so values arrive here as `Array` (a tensor's kind and its numbers as float64, which
holds every float16, bfloat16, float32 and float64 exactly) or `Other` (anything that is not data); the
grader turns what its wire format decoded into these (compare.py).

Tolerance: two correct implementations with different orders of operations differ by rounding only;
over k steps that stays within 8·k·u (u the unit roundoff of the coarser dtype) relative to |expected| + S,
S the largest |x| expected so far (reference/torch_check.py `tolerance` has the reasoning, and
tests/test_closeness.py holds that the two agree). A wrong rule is off by the order of a whole step.
"""

from dataclasses import dataclass

import numpy as np

# The kit's catalogs (grader/i18n); copied into the release's self-check, this module finds the bundle's own.
try:
    from ..i18n import N_, _
except ImportError:
    from .i18n import N_, _  # type: ignore[import-not-found,no-redef]

#: Unit roundoff of each floating dtype, by its name without "torch.".
UNIT_ROUNDOFF = {"float64": 2.0**-53, "float32": 2.0**-24, "float16": 2.0**-11, "bfloat16": 2.0**-8}
TENSOR_TYPES = ("Tensor", "Parameter")
#: A value off the tolerance, in one line (the feedback page reads its two numbers back: messages.py).
SHOULD_BE = N_("{name} should be {expected}, got {got} (relative error {error:.2g})")
SHOWN_NUMBERS = 12  # a tensor with more entries is described by its shape


@dataclass(frozen=True)
class Array:
    """A tensor as it came back: its class name, dtype name (as "float32"), shape, device, and its numbers
    as a float64 numpy array of that shape (None where they are not real numbers, as a complex tensor's)."""

    type: str
    dtype: str
    shape: tuple
    device: str
    array: object

    @property
    def floating(self):
        return self.dtype in UNIT_ROUNDOFF


@dataclass(frozen=True)
class Other:
    """Something that came back and is not data: its type name and a short repr."""

    type: str
    repr: str


def array(values, dtype="float32"):
    """An Array of plain numbers (the expected values of a case)."""
    values = np.asarray(values, dtype=np.float64)
    return Array("Tensor", dtype, tuple(values.shape), "cpu", values)


def unit(*dtypes):
    """The unit roundoff of the coarsest of `dtypes` (an unknown one counts as the coarsest, bfloat16)."""
    return max(UNIT_ROUNDOFF.get(dtype, UNIT_ROUNDOFF["bfloat16"]) for dtype in dtypes)


def tolerance(k, *dtypes):
    """Relative tolerance after k steps of two correct implementations: 8·k·u."""
    return 8 * k * unit(*dtypes)


def distinct(expected, got, digits=6):
    """The two numbers as text with at least `digits` significant digits, and as many more as it takes for the
    text to differ where the numbers do (up to repr: 17 digits)."""
    for precision in range(digits, 18):
        a, b = f"{expected:.{precision}g}", f"{got:.{precision}g}"
        if a != b or expected == got:
            return a, b
    return repr(expected), repr(got)


def _number(value, dtype):
    """The shortest text that reads back as `value` in its own dtype (0.1 in float32 is 0.1, not 0.100000001)."""
    kind = {"float16": np.float16, "float32": np.float32}.get(dtype)
    if kind is not None and np.isfinite(value):
        return str(kind(value))
    return repr(float(value)) if dtype in UNIT_ROUNDOFF else repr(int(value))


def describe(value):
    """A short readable form of a value that came back or was sent, for messages."""
    if isinstance(value, Array):
        details = _("{dtype}, shape {shape}").format(dtype=value.dtype, shape=list(value.shape))
        if value.device != "cpu":
            details += _(", on {device}").format(device=value.device)
        if value.array is None:
            return _("a {type} ({details})").format(type=value.type, details=details)
        if value.array.size > SHOWN_NUMBERS or (value.array.size == 0 and len(value.shape) > 1):  # never row by row
            return _("tensor of shape {shape}").format(shape=list(value.shape)) + f" ({details})"
        numbers = [_number(number, value.dtype) for number in value.array.reshape(-1)]
        text = numbers[0] if value.shape == () else _nested(numbers, list(value.shape))
        return _("{values} ({details})").format(values=text, details=details)
    if isinstance(value, Other):
        return _("a {type} ({details})").format(type=value.type, details=value.repr)
    if isinstance(value, tuple):
        return "(" + ", ".join(describe(item) for item in value) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(describe(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key!r}: {describe(item)}" for key, item in value.items()) + "}"
    return repr(value)


def _nested(numbers, shape):
    """Numbers in row-major order, bracketed as a tensor of `shape` prints."""
    if len(shape) <= 1:
        return "[" + ", ".join(numbers) + "]"
    size = len(numbers) // shape[0] if shape[0] else 0
    return "[" + ", ".join(_nested(numbers[i * size : (i + 1) * size], shape[1:]) for i in range(shape[0])) + "]"


def tensor_problem(got, expected, name, k=1, scale=None, exact_dtype=True, band=None):
    """None if `got` (as received) matches the Array `expected`; else a sentence saying what is wrong.

    k: steps taken (the tolerance grows with it); scale: S, the largest |value| expected so far (default:
    expected's own); exact_dtype: got must keep expected's dtype; band: an extra allowance per entry, a
    float64 array of expected's shape (what rounded hyperparameters may move a correct result by)."""
    if not isinstance(got, Array):
        kind = _("a {type}").format(type=got.type) if isinstance(got, Other) else describe(got)
        return _("{name} should be a tensor, got {kind}").format(name=name, kind=kind)
    if got.type not in TENSOR_TYPES:
        return _("{name} should be a plain torch.Tensor, got a {type}").format(name=name, type=got.type)
    if tuple(got.shape) != tuple(expected.shape):
        return _("{name} should have shape {expected}, got shape {got}").format(
            name=name, expected=list(expected.shape), got=list(got.shape)
        )
    if exact_dtype and got.dtype != expected.dtype:
        return _("{name} should keep dtype {expected}, got {got}").format(
            name=name, expected=expected.dtype, got=got.dtype
        )
    if not got.floating or got.array is None:
        return _("{name} should hold floating-point values, got {got}").format(name=name, got=got.dtype)
    mine, theirs = got.array, expected.array
    if got.dtype == expected.dtype and np.array_equal(mine, theirs):
        return None  # bit for bit (the common case: the book's order of operations); no NaN can be here
    finite = np.isfinite(theirs)
    if not np.isfinite(mine[finite]).all():
        return _("{name} holds inf or nan where the expected values are finite").format(name=name)
    if scale is None:
        scale = float(np.abs(theirs[finite]).max()) if finite.any() else 0.0
    bound = tolerance(k, got.dtype, expected.dtype) * (np.abs(theirs) + scale) + (0.0 if band is None else band)
    with np.errstate(invalid="ignore"):
        off = (np.abs(mine - theirs) > bound) & finite
    if not off.any():
        return None
    index = tuple(int(i) for i in np.argwhere(off)[0])
    where = f"[{', '.join(map(str, index))}]" if index else ""
    wanted, value = float(theirs[index]), float(mine[index])
    shown_expected, shown_got = distinct(wanted, value, 9)
    error = abs(value - wanted) / max(abs(wanted), 1e-300)
    return _(SHOULD_BE).format(name=f"{name}{where}", expected=shown_expected, got=shown_got, error=error)


def int_problem(got, expected, name):
    """t comes back as a Python int (a tensor holding one integral value is accepted too)."""
    if isinstance(got, Array) and got.array is not None and got.array.size == 1 and got.dtype != "bool":
        got = float(got.array.reshape(-1)[0])
    if isinstance(got, bool) or not isinstance(got, (int, float)) or got != expected:
        return _("{name} should be {expected}, got {got}").format(name=name, expected=expected, got=describe(got))
    return None


def largest(values):
    """The largest |value| among the finite entries of Arrays (0.0 where there are none)."""
    found = [np.abs(value.array[np.isfinite(value.array)]) for value in values if value.array is not None]
    return max((float(entries.max()) for entries in found if entries.size), default=0.0)


def returned_problem(method, names, got, expected, x_in, bands=None):
    """The first problem with what one call of the per-key `method` returned (a tuple of `names`: "x", then
    the state), or None. x_in: the x it was given (its size sets the scale of x's tolerance); bands: an
    allowance per returned value (None for t), as tensor_problem takes."""
    if not isinstance(got, tuple) or len(got) != len(names):
        return _("{method}() should return a tuple ({names}), got {value}").format(
            method=method, names=", ".join(names), value=describe(got)
        )
    scale = largest([x_in, expected[0]])
    for index, name in enumerate(names):
        label = _("the returned {name}").format(name=name)
        if name == "t":
            problem = int_problem(got[index], expected[index], label)
        else:
            problem = tensor_problem(
                got[index],
                expected[index],
                label,
                scale=scale if name == "x" else None,
                exact_dtype=name == "x",
                band=None if bands is None else bands[index],
            )
        if problem:
            return problem
    return None


def steps_problem(got, expected, bands=None):
    """(step, sentence) for the first step whose parameters are off, or None. got: the model's parameters
    after each step as received ({key: Array} each); expected: [{key: Array}, ...]; bands: [{key: allowance}]."""
    if not isinstance(got, list) or len(got) != len(expected):
        return 1, _("step() did not report its parameters")
    scale = 0.0
    for k, (observed, wanted) in enumerate(zip(got, expected), start=1):
        scale = max(scale, largest(wanted.values()))
        if not isinstance(observed, dict) or set(observed) != set(wanted):
            return k, _("after step {k}, model.params should have the keys {keys}, got {value}").format(
                k=k, keys=sorted(wanted), value=describe(observed)
            )
        for key in sorted(wanted):
            problem = tensor_problem(
                observed[key],
                wanted[key],
                f"model.params[{key!r}]",
                k=k,
                scale=scale,
                band=None if bands is None else bands[k - 1][key],
            )
            if problem:
                return k, _("after step {k}: {problem}").format(k=k, problem=problem)
    return None


def same_outputs(mine, theirs, k=1):
    """Whether two answers are the same outputs (a student's and a mistake's recorded ones): the same
    structure, NaN and inf at the same places, numbers within twice the tolerance. A list of parameter
    dicts is a run of steps: its k-th entry is judged after k steps."""
    if isinstance(theirs, Array):
        if not isinstance(mine, Array) or tuple(mine.shape) != tuple(theirs.shape) or mine.array is None:
            return False
        a, b = mine.array, theirs.array
        if not np.array_equal(np.isfinite(a), np.isfinite(b)):
            return False
        finite = np.isfinite(b)
        scale = float(np.abs(b[finite]).max()) if finite.any() else 0.0
        bound = 2 * tolerance(k, mine.dtype, theirs.dtype) * (np.abs(b[finite]) + scale)
        return bool((np.abs(a[finite] - b[finite]) <= bound).all())
    if isinstance(theirs, (tuple, list)):
        if not isinstance(mine, (tuple, list)) or len(mine) != len(theirs):
            return False
        steps = isinstance(theirs, list) and bool(theirs) and isinstance(theirs[0], dict)
        return all(same_outputs(m, t, index + 1 if steps else k) for index, (m, t) in enumerate(zip(mine, theirs)))
    if isinstance(theirs, dict):
        return (
            isinstance(mine, dict)
            and set(mine) == set(theirs)
            and all(same_outputs(mine[key], theirs[key], k) for key in theirs)
        )
    if isinstance(mine, Array) and mine.array is not None and mine.array.size == 1:
        mine = float(mine.array.reshape(-1)[0])
    return mine == theirs
