"""The rubric: which parts are graded, the points of each test, how many examples each test tries.

It lives in `rubric.json` beside this file; an instructor edits a copy and passes `--rubric FILE`.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from . import defaults
from .checks import OPTIMIZER_CHECKS
from .parts import RULES
from .trajectory import TRAJECTORY_CHECKS

class RubricError(ValueError):
    """A rubric file that cannot be used, with the file and the entry at fault."""


@dataclass(frozen=True)
class RubricTest:
    part: str  # tag, e.g. "adam"
    test: str  # e.g. "single_step"
    points: float
    title: str  # e.g. "Adam: single calls of adam() match the reference"
    check: object  # check(ctx, rule)
    rule: object  # the parts.Rule, or None for the trajectory


@dataclass(frozen=True)
class Rubric:
    title: str
    tests: tuple  # RubricTest, in the file's order
    examples: dict

    @property
    def parts(self):
        return tuple(dict.fromkeys(test.part for test in self.tests))

    @property
    def max_score(self):
        return sum(test.points for test in self.tests)


def load(path=defaults.RUBRIC, enable=()):
    """Read a rubric; parts named in `enable` are graded even where the file disables them."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise RubricError(f"{path}: {error}") from None
    tests = []
    for index, part in enumerate(data.get("parts", [])):
        tag = part.get("tag")
        if tag not in RULES and tag != "trajectory":
            raise RubricError(f"{path}: parts[{index}] has tag {tag!r}; known: {', '.join([*RULES, 'trajectory'])}")
        if not part.get("enabled", True) and tag not in enable:
            continue
        checks = TRAJECTORY_CHECKS if tag == "trajectory" else OPTIMIZER_CHECKS
        for test, points in part.get("tests", {}).items():
            if test not in checks:
                raise RubricError(f"{path}: part {tag!r} has test {test!r}; known: {', '.join(checks)}")
            if not isinstance(points, (int, float)) or isinstance(points, bool) or points < 0:
                raise RubricError(f"{path}: part {tag!r}, test {test!r}: points must be a number >= 0, got {points!r}")
            check, title = checks[test]
            rule = RULES.get(tag)
            note = ", advances t once per step()" if rule is not None and rule.has_t else ""
            title = title.format(method=tag, t_note=note)
            tests.append(RubricTest(tag, test, points, f"{part.get('title', tag)}: {title}", check, rule))
    examples = data.get("examples", {})
    if not all(isinstance(count, int) and count >= 1 for count in examples.values()):
        raise RubricError(f"{path}: examples must map test names to whole numbers >= 1")
    return Rubric(title=data.get("title", "optimizers"), tests=tuple(tests), examples=examples)
