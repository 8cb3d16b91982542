"""The self-check: one test per rubric test, grouped by part (see grader/plugin.py and rubric.json)."""

from grader.plugin import run_rubric_test


def test_adagrad(request, rubric_test, grading_context):
    run_rubric_test(request, rubric_test, grading_context)


def test_rmsprop(request, rubric_test, grading_context):
    run_rubric_test(request, rubric_test, grading_context)


def test_momentum(request, rubric_test, grading_context):
    run_rubric_test(request, rubric_test, grading_context)


def test_adam(request, rubric_test, grading_context):
    run_rubric_test(request, rubric_test, grading_context)


def test_trajectory(request, rubric_test, grading_context):
    run_rubric_test(request, rubric_test, grading_context)


def test_nesterov(request, rubric_test, grading_context):
    run_rubric_test(request, rubric_test, grading_context)
