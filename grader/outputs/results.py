"""The score of one submission: small frozen dataclasses built in one pass, written as Gradescope JSON.

The JSON is a superset of Gradescope's results.json (score, max_score, execution_time, output, tests
with name/score/max_score/status/output/tags/visibility); grader facts go under extra_data. It is
validated against `results.schema.json` in the tests.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from grader.atomic import write_atomic
from grader.i18n import _

SCHEMA_PATH = Path(__file__).with_name("results.schema.json")
# Characters kept of one test's verdict and of the whole submission's output (an honest verdict is under
# 1,000; the example class's longest is 832). A file whose every error message quotes megabytes of its own
# text must not make every report, page and gradebook of the class as large.
TEST_OUTPUT_CHARACTERS = 8_000
OUTPUT_CHARACTERS = 20_000


def bounded(text, limit):
    """`text` cut to `limit` characters, saying how much was cut."""
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + "\n" + _("[... {count:,} more characters cut]").format(count=len(text) - limit)


@dataclass(frozen=True)
class TestResult:
    """One rubric test's outcome."""

    part: str  # the rubric tag, e.g. "adam"
    test: str  # the rubric test id, e.g. "single_step"
    title: str  # what the student reads as the test's name
    max_score: float
    passed: bool
    output: str  # the verdict: empty when passed, else what went wrong and the likely mistake
    diagnosis: "str | None" = None  # slug of the recognised mistake, if any
    alternatives: tuple = ()  # slugs of mistakes indistinguishable from it on the failing input
    visibility: str = "visible"  # from the rubric: anything else shows the student its name and points only
    # where no known mistake matched: the edit of the rule that reproduces the student (grader.explain.edits), as data
    explanation: "dict | None" = field(default=None, compare=False, hash=False)

    @property
    def score(self):
        return self.max_score if self.passed else 0.0

    def to_dict(self):
        return {
            "name": self.title,
            "score": self.score,
            "max_score": self.max_score,
            "status": "passed" if self.passed else "failed",
            # Translators: the verdict of a test that passed, as Gradescope and PrairieLearn show it.
            "output": bounded(self.output, TEST_OUTPUT_CHARACTERS) or _("passed"),
            "tags": [self.part],
            "visibility": self.visibility,
            "extra_data": {
                "test": self.test,
                "diagnosis": self.diagnosis,
                "also": list(self.alternatives),
                **({"explanation": self.explanation} if self.explanation else {}),
            },
        }


@dataclass(frozen=True)
class GradeReport:
    """All the tests of one submission, with what the grader knows about the run."""

    submission: str  # file name
    sha256: str
    tests: tuple
    output: str  # about the submission as a whole: load errors, skipped statements
    grader_version: str
    seed: int
    devices: tuple
    execution_time: float
    status: str = "graded"  # "graded"; "error": could not be read or loaded; "timeout": ran out of time
    batch: "dict | None" = None  # batch grading's facts: student id, display name, LMS layout, fingerprint
    isolation: "dict | None" = (
        None  # what kept the student's code apart: {"level": "full"|"landlock"|"reduced", "summary", "detail"}
    )
    stopped: "dict | None" = (
        None  # {"reason", "times"} when the hard deadline ended its grading (grading.grade_bounded)
    )

    @property
    def score(self):
        return sum(test.score for test in self.tests)

    @property
    def max_score(self):
        return sum(test.max_score for test in self.tests)

    def part_scores(self):
        """{part: (score, max_score)} in rubric order."""
        scores = {}
        for test in self.tests:
            got, most = scores.get(test.part, (0.0, 0.0))
            scores[test.part] = (got + test.score, most + test.max_score)
        return scores

    def to_dict(self):
        return {
            "score": self.score,
            "max_score": self.max_score,
            "execution_time": round(self.execution_time, 3),
            "output": bounded(self.output, OUTPUT_CHARACTERS),
            "tests": [test.to_dict() for test in self.tests],
            "extra_data": {
                "submission": self.submission,
                "status": self.status,
                "sha256": self.sha256,
                "grader_version": self.grader_version,
                "seed": self.seed,
                "devices": list(self.devices),
                "parts": {part: {"score": got, "max_score": most} for part, (got, most) in self.part_scores().items()},
                "diagnoses": sorted({test.diagnosis for test in self.tests if test.diagnosis}),
                **({"isolation": self.isolation} if self.isolation else {}),
                **({"stopped": self.stopped} if self.stopped else {}),
                **(self.batch or {}),
            },
        }


def write_json(report, path, mode=0o666):
    """Write the report atomically: a crash leaves the old file or the new one, never half of one.

    mode: see write_atomic (the batch writes its results PRIVATE).
    """
    return write_atomic(path, json.dumps(report.to_dict(), indent=2) + "\n", mode)
