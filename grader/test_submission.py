"""The self-check: one test function per part of the registry (grader/judge/parts.py), parametrized by the
plugin with one case per rubric test (see grader/plugin.py and rubric.json)."""

from grader.judge.parts import PARTS
from grader.plugin import run_rubric_test


def _part_test(tag):
    def test(request, rubric_test, grading_context):
        run_rubric_test(request, rubric_test, grading_context)

    test.__name__ = test.__qualname__ = f"test_{tag}"
    return test


globals().update({f"test_{tag}": _part_test(tag) for tag in PARTS})
