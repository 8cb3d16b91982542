"""Does the grader give the solution full marks, the stubs exactly their blanks, and valid, stable JSON?"""

import json
import subprocess
import sys

import pytest
from grading_support import OPTIMIZER_PARTS, ROOT, as_notebook, grade_text, rubric_for, solution_source, validate

from grader.explain.mistakes import find, mutate


@pytest.fixture(scope="module")
def solution_report(zygote, tmp_path_factory):
    return grade_text(
        solution_source(), tmp_path_factory.mktemp("solution"), zygote, *OPTIMIZER_PARTS, "trajectory", "nesterov"
    )


def test_the_solution_gets_full_marks(solution_report):
    failed = [(test.title, test.output) for test in solution_report.tests if not test.passed]
    assert failed == []
    assert solution_report.score == solution_report.max_score == rubric_for(nesterov=True).max_score
    assert {test.part for test in solution_report.tests} == {*OPTIMIZER_PARTS, "trajectory", "nesterov"}


def test_the_score_json_validates_and_names_every_part(solution_report):
    data = validate(solution_report)
    assert data["extra_data"]["parts"]["adam"] == {"score": 10.0, "max_score": 10.0}
    assert len(data["extra_data"]["sha256"]) == 64 and data["extra_data"]["diagnoses"] == []
    assert all(len(test["tags"]) == 1 for test in data["tests"])


def test_the_same_submission_gets_the_same_json(zygote, tmp_path):
    def without_time(report):
        data = report.to_dict()
        del data["execution_time"]
        return json.dumps(data, sort_keys=True)

    buggy = mutate(solution_source(), find("adam", "no_bias_correction"))
    first = grade_text(buggy, tmp_path, zygote, "adam")
    second = grade_text(buggy, tmp_path, zygote, "adam")
    assert first.score < first.max_score
    assert without_time(first) == without_time(second)


def test_the_stubs_fail_exactly_the_four_blanks(zygote, tmp_path):
    stub = (ROOT / "assignments" / "optimizers.py").read_text(encoding="utf-8")
    report = grade_text(stub, tmp_path, zygote)
    for test in report.tests:
        if test.part in OPTIMIZER_PARTS:
            assert not test.passed and "is not implemented yet" in test.output, test.title
        else:
            assert test.passed, (test.title, test.output)
    validate(report)


def test_a_notebook_solution_gets_full_marks(zygote, tmp_path):
    report = grade_text(as_notebook(solution_source()), tmp_path, zygote, "adam", "trajectory", name="optimizers.ipynb")
    assert [test.output for test in report.tests if not test.passed] == []
    assert "Skipped" in report.output  # the notebook's training loop was not run


@pytest.mark.commands
def test_check_command_prints_the_report_and_writes_json(tmp_path):
    submission = tmp_path / "student.py"
    submission.write_text(solution_source(), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "grader", "check", str(submission), "--json", str(tmp_path / "out" / "score.json")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("student.py: 45 / 45 points")
    data = json.loads((tmp_path / "out" / "score.json").read_text())
    assert data["score"] == data["max_score"] == 45


@pytest.mark.commands
def test_check_command_exits_nonzero_for_a_missing_part(tmp_path):
    submission = tmp_path / "empty.py"
    submission.write_text("", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "grader", "check", str(submission)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 1
    assert "empty.py: 0 / 45 points" in result.stdout and "defines no `Adagrad`" in result.stdout


@pytest.mark.attacks
def test_check_command_stops_at_its_time_budget(tmp_path):
    submission = tmp_path / "slow.py"
    # Every call sleeps just under the per-call limit: only the submission's budget stops the run early.
    submission.write_text(
        solution_source() + "\nimport time\n_step = Adam.adam\n"
        "def slow(self, *args, **kwargs):\n    time.sleep(4)\n    return _step(self, *args, **kwargs)\n"
        "Adam.adam = slow\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "grader", "check", str(submission), "--timeout", "8"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "not graded: the submission used up its 8 s" in result.stdout
    assert "[PASS]" in result.stdout  # the parts graded before the budget ran out keep their verdicts
