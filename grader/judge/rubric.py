"""The rubric: which parts are graded, the points of each test, how many examples each test tries.

It lives in `rubric.json` beside this file; an instructor edits a copy and passes `--rubric FILE`.
A test's points are a number, or {"points": N, "enabled": false} for a test that is not graded: it
still runs, and what it finds is advice in the feedback (the shipped rubric does this for
`x_init_untouched`, which the unit does not ask for). A part with "enabled": false (the Nesterov
bonus) does not run at all. `load(enable=...)` turns on parts ("nesterov") and tests
("trajectory/x_init_untouched") that the file leaves off.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from grader import defaults
from grader.errors import OptimkitError
from grader.i18n import N_, _

from .checks import check_sequence, check_single_step, check_torch_optim
from .invariants import check_invariants
from .parts import PARTS, RULES
from .trajectory import TRAJECTORY_CHECKS

MAX_BYTES = 1024 * 1024  # a rubric larger than this is refused, not parsed
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")  # Gradescope's, as in the schema
#: The shipped rubric's title: shown translated; a title of the instructor's own is shown as written.
SHIPPED_TITLE = N_("Optimizers: AdaGrad, RMSprop, Momentum, Adam and the trajectory")

#: The optimizer parts' checks (checks.py, invariants.py), each with its title (what the student reads as the test's
#: name), marked here and translated where it is shown (RubricTest.title).
OPTIMIZER_CHECKS = {
    "single_step": (check_single_step, N_("single calls of {method}() match the reference")),
    "sequence": (check_sequence, N_("step() over several steps and keys matches the reference")),
    "torch_optim": (check_torch_optim, N_("step() matches torch.optim")),
    # Translators: {t_note} is empty, or ", advances t once per step()" (translated too).
    "invariants": (check_invariants, N_("step() keeps grads, dtype and device intact{t_note}")),
}
#: The invariants test's title adds this for an optimizer that counts its steps (Adam's t).
T_NOTE = N_(", advances t once per step()")


class RubricError(OptimkitError, ValueError):
    """A rubric file that cannot be used, with the file and the entry at fault."""


@dataclass(frozen=True)
class RubricTest:
    part: str  # tag, e.g. "adam"
    test: str  # e.g. "single_step"
    points: float
    heading: str  # the part's title as the rubric gives it, e.g. "Adam"
    check: object  # check(ctx, rule)
    rule: object  # the parts.Rule, or None for the trajectory
    visibility: str = "visible"  # Gradescope's: "hidden" etc. show a student the test's name and points only
    name: str = ""  # the check's own title as marked (OPTIMIZER_CHECKS), e.g. "single calls of {method}() ..."

    @property
    def title(self):
        """What the student reads as the test's name, in the language this process speaks when it is read
        (a Dask worker's task sets it): e.g. "Adam: single calls of adam() match the reference". The part's
        title is translated where it is the shipped one (parts.PARTS), kept as written where the rubric
        gives its own."""
        shipped = PARTS[self.part].title if self.part in PARTS else None
        heading = _(shipped) if shipped is not None and self.heading == shipped else self.heading
        note = _(T_NOTE) if self.rule is not None and self.rule.has_t else ""
        name = _(self.name) if self.name else ""  # _("") would be the catalog's header
        return f"{heading}: {name.format(method=self.part, t_note=note)}"


@dataclass(frozen=True)
class Rubric:
    title: str
    tests: tuple  # RubricTest, in the file's order
    examples: dict
    advice: tuple = ()  # RubricTest (points 0) of the tests not graded: their findings are notes, not scores

    @property
    def parts(self):
        return tuple(dict.fromkeys(test.part for test in self.tests))

    @property
    def max_score(self):
        return sum(test.points for test in self.tests)


def load(path=defaults.RUBRIC, enable=()):
    """Read a rubric; parts ("nesterov") and tests ("trajectory/x_init_untouched") named in `enable` are
    graded even where the file disables them."""
    path = Path(path)
    data = _read(path)
    tests, advice = [], []
    parts = data.get("parts", [])
    if not isinstance(parts, list):
        raise RubricError(f"{path}: 'parts' must be a list of parts, got {type(parts).__name__}")
    for index, part in enumerate(parts):
        if not isinstance(part, dict) or not isinstance(part.get("tests", {}), dict):
            raise RubricError(
                f"{path}: parts[{index}] must be an object with a 'tag' and 'tests' "
                "({test: points}), as in the shipped rubric.json"
            )
        tag = part.get("tag")
        if tag not in PARTS:
            raise RubricError(f"{path}: parts[{index}] has tag {tag!r}; known: {', '.join(PARTS)}")
        if not part.get("enabled", True) and tag not in enable:
            continue
        checks = OPTIMIZER_CHECKS if PARTS[tag].rule is not None else TRAJECTORY_CHECKS
        for test, entry in part.get("tests", {}).items():
            if test not in checks:
                raise RubricError(f"{path}: part {tag!r} has test {test!r}; known: {', '.join(checks)}")
            points, graded = _points(path, tag, test, entry)
            visibility = entry.get("visibility", "visible") if isinstance(entry, dict) else "visible"
            check, name = checks[test]
            rule = RULES.get(tag)
            heading = part.get("title", tag)
            if graded or f"{tag}/{test}" in enable:
                tests.append(RubricTest(tag, test, points, heading, check, rule, visibility, name))
            else:
                advice.append(RubricTest(tag, test, 0, heading, check, rule, name=name))
    examples = data.get("examples", {})
    if not isinstance(examples, dict) or not all(isinstance(count, int) and count >= 1 for count in examples.values()):
        raise RubricError(f"{path}: examples must map test names to whole numbers >= 1")
    title = data.get("title", "optimizers")
    title = _(SHIPPED_TITLE) if title == SHIPPED_TITLE else title
    return Rubric(title=title, tests=tuple(tests), examples=examples, advice=tuple(advice))


def _read(path):
    """The rubric file's JSON object, read within bounds: a rubric is a few kB (the shipped one 1 kB)."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_BYTES + 1)
    except OSError as error:
        raise RubricError(f"{path}: {error.strerror or error}") from None
    if len(data) > MAX_BYTES:
        raise RubricError(f"{path}: larger than {MAX_BYTES // 1024} kB; a rubric is a few kB")
    try:
        data = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:  # RecursionError: nested too deep
        raise RubricError(f"{path}: not a JSON rubric: {type(error).__name__}: {str(error)[:200]}") from None
    if not isinstance(data, dict):
        raise RubricError(f"{path}: a rubric is a JSON object with 'parts', as in the shipped rubric.json")
    return data


def _points(path, tag, test, entry):
    """(points, graded) of a test's entry: a number, or {"points": N, "enabled": bool, "visibility": V}."""
    graded = True
    if isinstance(entry, dict):
        unknown = set(entry) - {"points", "enabled", "visibility"}
        if (
            unknown
            or not isinstance(entry.get("enabled", True), bool)
            or entry.get("visibility", "visible") not in VISIBILITIES
        ):
            raise RubricError(
                f"{path}: part {tag!r}, test {test!r}: expected a number or "
                f'{{"points": N, "enabled": true or false, "visibility": one of '
                f"{', '.join(VISIBILITIES)}}}, got {entry!r}"
            )
        graded, entry = entry.get("enabled", True), entry.get("points")
    if not isinstance(entry, (int, float)) or isinstance(entry, bool) or not entry >= 0:
        raise RubricError(f"{path}: part {tag!r}, test {test!r}: points must be a number >= 0, got {entry!r}")
    return entry, graded
