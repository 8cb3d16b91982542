"""Does `pytest grader`, the students' self-check, say the right things and exit with the right code?"""

import re
import subprocess
import sys

import pytest
import torch
from grading_support import OPTIMIZER_PARTS, ROOT, replace_function, solution_source

from grader import grading
from grader.sandbox.launcher import Zygote


def _pytest_grader(*args):
    return subprocess.run(
        [sys.executable, "-m", "pytest", "grader", "-p", "no:cacheprovider", "-rA", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )


@pytest.mark.selfcheck
def test_the_unmodified_stub_fails_the_four_blanks_and_nothing_else():
    result = _pytest_grader()  # the default submission: assignments/optimizers.py
    assert result.returncode == 1, result.stdout[-3000:]
    failed = set(re.findall(r"^FAILED grader/test_submission.py::test_(\w+)\[(\w+)\]", result.stdout, re.M))
    passed = set(re.findall(r"^PASSED grader/test_submission.py::test_(\w+)\[(\w+)\]", result.stdout, re.M))
    assert {part for part, _ in failed} == set(OPTIMIZER_PARTS) and len(failed) == 16
    assert {part for part, _ in passed} == {"trajectory"}
    assert result.stdout.count("is not implemented yet: implement ") >= 16
    assert re.search(r"^total\s+5 / 45$", result.stdout, re.M)
    assert "optimkit grader: submission assignments/optimizers.py, seed 20261121" in result.stdout


@pytest.mark.selfcheck
def test_a_correct_submission_passes_with_exit_code_zero(tmp_path):
    submission = tmp_path / "mine.py"
    submission.write_text(solution_source(), encoding="utf-8")
    result = _pytest_grader("--submission", str(submission), "--nesterov", "--seed", "7")
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"^total\s+50 / 50$", result.stdout, re.M) and "seed 7" in result.stdout


@pytest.mark.selfcheck
def test_the_courses_train_f_passes_with_advice_about_x_init(tmp_path):
    course = """
def train_f(model, optimizer, x_init, epoch):
    import copy
    x = x_init
    all_x, losses = [], []
    for _ in range(epoch):
        all_x.append(copy.deepcopy(x.numpy()))
        losses.append(model(x))
        model.backward()
        optimizer.step()
        x = model.params['x']
    return all_x, losses
"""
    submission = tmp_path / "mine.py"
    submission.write_text(replace_function(solution_source(), "train_f", course), encoding="utf-8")
    result = _pytest_grader("--submission", str(submission), "-k", "trajectory")
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"^trajectory\s+5 / 5$", result.stdout, re.M)
    assert "Advice, not graded" in result.stdout and "changed the caller's x_init" in result.stdout


def test_a_missing_submission_is_a_usage_error(tmp_path):
    result = _pytest_grader("--submission", str(tmp_path / "nowhere.py"))
    assert result.returncode == 4 and "nowhere.py: no such file" in result.stderr


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here; this case runs on a GPU machine")
def test_the_solution_gets_full_marks_on_cuda(tmp_path):
    with Zygote() as zygote:
        path = tmp_path / "optimizers.py"
        path.write_text(solution_source(), encoding="utf-8")
        report = grading.grade(path, zygote=zygote, devices=("cuda",))
    assert report.devices == ("cuda",)
    assert [(test.title, test.output) for test in report.tests if not test.passed] == []
