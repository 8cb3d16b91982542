"""Do the class-level outputs (gradebook CSV, summary, report) say the right thing about a class?

The class below is small enough to compute by hand; its results are real score JSON, made by
`grader.outputs.results.GradeReport` and validated against the shipped schema.
"""

import csv
import io
import json
import math
import os
import re

import jsonschema
import pytest
from PIL import Image

from grader import atomic
from grader.outputs import results as score_json
from grader.outputs.class_report import DISTRIBUTION_NAME, PASS_RATES_NAME, REPORT_NAME, render_markdown, write_report
from grader.outputs.class_summary import Row, format_number, gradebook, neutralise_cell, scores_csv, summary

PARTS = ["adagrad", "adam"]
#: (part, test, points): 10 points of AdaGrad, 5 of Adam, so the class is graded out of 15.
RUBRIC = [
    ("adagrad", "single_step", 4.0),
    ("adagrad", "sequence", 6.0),
    ("adam", "single_step", 2.5),
    ("adam", "sequence", 2.5),
]


def result(failures=None):
    """Score JSON in which the tests named in `failures` ({(part, test): diagnosis}) fail."""
    failures = failures or {}
    tests = tuple(
        score_json.TestResult(
            part,
            test,
            f"{part}: {test}",
            points,
            (part, test) not in failures,
            "" if (part, test) not in failures else "wrong",
            failures.get((part, test)),
        )
        for part, test, points in RUBRIC
    )
    data = score_json.GradeReport("optimizers.py", "0" * 64, tests, "", "0.1.0", 0, ("cpu",), 0.5).to_dict()
    jsonschema.validate(data, json.loads(score_json.SCHEMA_PATH.read_text(encoding="utf-8")))
    return data


def hand_class():
    """ann: full marks (15); ben: 6.5; cat: 10; dan errored; eve timed out."""
    return [
        Row(
            "cat",
            "Cat C",
            "graded",
            result({("adam", "single_step"): "no_bias_correction", ("adam", "sequence"): "no_bias_correction"}),
        ),
        Row("ann", "Ann A", "graded", result()),
        Row(
            "ben",
            "Ben B",
            "graded",
            result({("adagrad", "sequence"): "no_accumulation", ("adam", "single_step"): "no_bias_correction"}),
        ),
        Row("dan", "Dan D", "error", None, "two submissions: a.py and b.py"),
        Row("eve", "Eve E", "timeout", None, "used up its 300 s"),
    ]


def parse(text):
    return list(csv.reader(io.StringIO(text, newline="")))


# ------------------------------------------------------------------------------------------------ the CSV


def test_the_csv_has_student_first_and_a_line_per_student_sorted():
    lines = parse(scores_csv(hand_class(), PARTS))
    assert lines == [
        ["student", "name", "total", "max", "adagrad", "adam", "status"],
        ["ann", "Ann A", "15", "15", "10", "5", "graded"],
        ["ben", "Ben B", "6.5", "15", "4", "2.5", "graded"],
        ["cat", "Cat C", "10", "15", "10", "0", "graded"],
        ["dan", "Dan D", "0", "15", "0", "0", "error"],
        ["eve", "Eve E", "0", "15", "0", "0", "timeout"],
    ]


def test_the_csv_uses_plain_newlines_and_quotes_what_needs_it():
    rows = [Row("zoe", 'Doe, "Zoe"\nJr', "graded", result())]
    text = scores_csv(rows, PARTS)
    assert "\r" not in text and text.endswith("\n")
    assert parse(text)[1][1] == 'Doe, "Zoe"\nJr'  # RFC 4180 quoting round-trips


@pytest.mark.parametrize(
    "name, cell",
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("  =1+1", "'  =1+1"),
        ("\r=1", "'\n=1"),  # a lone CR becomes LF, which the csv module quotes (it leaves a lone CR bare)
    ],
)
def test_a_name_that_would_start_a_formula_is_neutralised(name, cell):
    rows = [Row(name, name, "graded", result())]
    assert parse(scores_csv(rows, PARTS))[1][:2] == [cell, cell]


@pytest.mark.parametrize("text", ["ann", "O'Brien", "Müller, Jürgen", "a=b", "1-2"])
def test_an_ordinary_name_is_left_alone(text):
    assert neutralise_cell(text) == text


@pytest.mark.parametrize(
    "value, text",
    [
        (10.0, "10"),
        (10, "10"),
        (2.5, "2.5"),
        (0.1 + 0.2, "0.3"),
        (0.0, "0"),
        (-0.0, "0"),
        (46.0, "46"),
        (1e7, "10000000"),
        (1 / 3, "0.333333"),
        (None, ""),
    ],
)
def test_numbers_are_plain_decimals(value, text):
    assert format_number(value) == text


def test_when_every_student_errored_max_is_left_empty():
    rows = [Row("a", "A", "error", None, "unreadable"), Row("b", "B", "timeout", None, "slow")]
    assert parse(scores_csv(rows, PARTS))[1:] == [
        ["a", "A", "0", "", "0", "0", "error"],
        ["b", "B", "0", "", "0", "0", "timeout"],
    ]


def test_a_timed_out_student_keeps_the_points_of_a_partial_result():
    partial = result({("adam", "sequence"): None})
    (entry,) = gradebook([Row("a", "A", "timeout", partial, "ran out of time in adam")], PARTS)
    assert (entry["total"], entry["max"], entry["parts"]) == (12.5, 15.0, {"adagrad": 10.0, "adam": 2.5})


def test_an_empty_class_gives_just_the_header():
    assert scores_csv([], PARTS) == "student,name,total,max,adagrad,adam,status\n"


# --------------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: Row("a", "A", "passed", None), "Invalid status"),
        (lambda: Row("a", "A", "graded", None), "graded but has no result"),
        (lambda: Row("", "A", "error", None, "x"), "Invalid student"),
        (lambda: Row("a", "A", "graded", {**result(), "score": float("nan")}), "score should be a finite number"),
        (lambda: Row("a", "A", "graded", {**result(), "tests": "none"}), "'tests' should be a list"),
        (lambda: Row("a", "A", "graded", {**result(), "extra_data": None}), "'extra_data' should be an object"),
    ],
    ids=["unknown status", "graded without result", "empty id", "nan score", "tests not a list", "bad extra_data"],
)
def test_a_bad_row_is_refused_at_the_door(make, words):
    with pytest.raises(ValueError, match=words):
        make()


def test_two_rows_for_one_student_are_refused():
    rows = [Row("a", "A", "graded", result()), Row("a", "A", "error", None, "x")]
    with pytest.raises(ValueError, match="Duplicate students: 'a'"):
        scores_csv(rows, PARTS)


# -------------------------------------------------------------------------------------------- the summary


def test_the_summary_counts_and_score_statistics_match_a_hand_computation():
    facts = summary(hand_class(), PARTS)
    assert facts["counts"] == {"students": 5, "graded": 3, "errors": 1, "timeouts": 1, "full_marks": 1}
    assert facts["max_score"] == 15.0
    # Totals 15, 6.5, 10: mean 10.5, deviations 4.5, -4, -0.5, population variance 36.5 / 3.
    stdev = round(math.sqrt(36.5 / 3), 6)
    assert facts["score"]["points"] == {"mean": 10.5, "median": 10.0, "min": 6.5, "max": 15.0, "stdev": stdev}
    assert facts["score"]["fraction"] == {
        "mean": 0.7,
        "median": round(10 / 15, 6),
        "min": round(6.5 / 15, 6),
        "max": 1.0,
        "stdev": round(math.sqrt(36.5 / 3) / 15, 6),
    }


def test_the_summary_gives_each_part_its_mean_and_pass_rate_in_rubric_order():
    parts = summary(hand_class(), PARTS)["parts"]
    assert list(parts) == PARTS
    assert parts["adagrad"] == {
        "max_score": 10.0,
        "mean": 8.0,
        "mean_fraction": 0.8,
        "full_marks": 2,
        "pass_rate": 0.666667,
    }
    assert parts["adam"] == {
        "max_score": 5.0,
        "mean": 2.5,
        "mean_fraction": 0.5,
        "full_marks": 1,
        "pass_rate": 0.333333,
    }


def test_the_summary_gives_each_test_its_pass_rate_in_rubric_order():
    tests = summary(hand_class(), PARTS)["tests"]
    assert list(tests) == ["adagrad/single_step", "adagrad/sequence", "adam/single_step", "adam/sequence"]
    assert [(test["passed"], test["pass_rate"]) for test in tests.values()] == [
        (3, 1.0),
        (2, 0.666667),
        (1, 0.333333),
        (2, 0.666667),
    ]
    assert tests["adam/single_step"]["name"] == "adam: single_step"


def test_diagnoses_count_students_once_most_frequent_first():
    # cat has no_bias_correction on two tests: one student, counted once.
    assert summary(hand_class(), PARTS)["diagnoses"] == [
        {"part": "adam", "slug": "no_bias_correction", "count": 2, "students": ["ben", "cat"]},
        {"part": "adagrad", "slug": "no_accumulation", "count": 1, "students": ["ben"]},
    ]


def test_the_same_slug_in_two_parts_is_two_mistakes():
    failures = {("adagrad", "sequence"): "sign_error", ("adam", "sequence"): "sign_error"}
    rows = [Row("a", "A", "graded", result(failures))]
    keys = [(entry["part"], entry["slug"]) for entry in summary(rows, PARTS)["diagnoses"]]
    assert keys == [("adagrad", "sign_error"), ("adam", "sign_error")]


def test_students_not_graded_are_listed_with_their_messages_and_left_out_of_the_numbers():
    facts = summary(hand_class(), PARTS)
    assert facts["errors"] == [{"student": "dan", "name": "Dan D", "message": "two submissions: a.py and b.py"}]
    assert facts["timeouts"] == [{"student": "eve", "name": "Eve E", "message": "used up its 300 s"}]
    assert all("dan" not in entry["students"] for entry in facts["diagnoses"])


def test_the_summary_is_json_and_does_not_depend_on_row_order():
    rows = hand_class()
    first, second = summary(rows, PARTS), summary(list(reversed(rows)), PARTS)
    assert json.dumps(first) == json.dumps(second)


@pytest.mark.parametrize(
    "rows, students",
    [
        ([], 0),
        ([Row("a", "A", "error", None, "unreadable"), Row("b", "B", "timeout", None, "slow")], 2),
    ],
    ids=["no rows", "all errors"],
)
def test_a_class_with_nobody_graded_has_no_statistics(rows, students):
    facts = summary(rows, PARTS)
    assert facts["counts"]["students"] == students and facts["counts"]["graded"] == 0
    assert facts["score"] is None and facts["max_score"] is None
    assert facts["parts"]["adam"] == {
        "max_score": None,
        "mean": None,
        "mean_fraction": None,
        "full_marks": 0,
        "pass_rate": None,
    }
    assert facts["tests"] == {} and facts["diagnoses"] == []


def test_a_single_student_has_zero_spread():
    facts = summary([Row("ann", "Ann", "graded", result())], PARTS)
    assert facts["score"]["points"] == {"mean": 15.0, "median": 15.0, "min": 15.0, "max": 15.0, "stdev": 0.0}
    assert facts["counts"]["full_marks"] == 1


def zero_part_result():
    tests = (
        score_json.TestResult("adam", "single_step", "adam: single_step", 5.0, True, ""),
        score_json.TestResult(
            "trajectory", "in_place", "trajectory: in_place", 0.0, False, "collapsed", "trajectory_aliasing"
        ),
    )
    return score_json.GradeReport("optimizers.py", "", tests, "", "0.1.0", 0, ("cpu",), 0.1).to_dict()


def test_a_part_worth_nothing_has_no_pass_rate():
    facts = summary([Row("a", "A", "graded", zero_part_result())], ["adam", "trajectory"])
    assert facts["parts"]["trajectory"]["pass_rate"] is None
    assert facts["parts"]["trajectory"]["mean_fraction"] is None
    assert facts["parts"]["adam"]["pass_rate"] == 1.0


# --------------------------------------------------------------------------------------------- the report


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    return folder, write_report(hand_class(), PARTS, folder)


def test_the_report_and_its_plots_are_written_plots_first(written):
    folder, paths = written
    assert paths == [folder / DISTRIBUTION_NAME, folder / PASS_RATES_NAME, folder / REPORT_NAME]
    assert sorted(os.listdir(folder)) == sorted(path.name for path in paths)  # no temporary file left
    # Readable by the grading user only: the report names students and their scores.
    assert all(path.stat().st_mode & 0o777 == 0o600 for path in paths)


def test_the_report_mentions_every_student_and_links_the_plots(written):
    folder, _ = written
    text = (folder / REPORT_NAME).read_text(encoding="utf-8")
    for row in hand_class():
        assert f"| {row.student} | {row.name} |" in text
    assert f"]({DISTRIBUTION_NAME})" in text and f"]({PASS_RATES_NAME})" in text
    assert "two submissions: a.py and b.py" in text and "used up its 300 s" in text


def test_the_report_names_mistakes_with_the_banks_title(written):
    folder, _ = written
    text = (folder / REPORT_NAME).read_text(encoding="utf-8")
    bias = text.index("Adam without bias correction")
    accumulation = text.index("Adagrad that replaces G by g² instead of adding to it")
    assert bias < accumulation  # most frequent first
    assert "| 2 | ben, cat |" in text


def test_a_trajectory_mistake_is_shown_with_its_title():
    text = render_markdown([Row("a", "A", "graded", zero_part_result())], ["adam", "trajectory"])
    assert "| `trajectory/trajectory_aliasing` | train\\_f records views of x" in text
    assert "n/a" in text  # the trajectory part, worth 0 points, has no pass rate


def test_the_plots_are_valid_pngs(written):
    folder, _ = written
    for name in (DISTRIBUTION_NAME, PASS_RATES_NAME):
        with Image.open(folder / name) as image:
            image.verify()
            assert image.format == "PNG" and image.size[0] > 300


def test_writing_twice_gives_the_same_bytes(written, tmp_path):
    _folder, paths = written
    again = write_report(list(reversed(hand_class())), PARTS, tmp_path)
    assert [path.read_bytes() for path in again] == [path.read_bytes() for path in paths]


def test_a_hostile_name_cannot_break_the_report():
    name = "![x](http://evil.example/t.png) <script>alert(1)</script> | **bold**"
    text = render_markdown([Row("mallory", name, "error", None, "`rm -rf` |\nnext line")], PARTS)
    assert "<script>" not in text and "![x]" not in text and "**bold**" not in text
    line = next(line for line in text.splitlines() if line.startswith("| mallory"))
    assert len(re.findall(r"(?<!\\)\|", line)) == 5  # four cells, whatever the name holds


@pytest.mark.parametrize(
    "rows",
    [[], [Row("a", "A", "error", None, "x")], [Row("solo", "Solo", "graded", result())]],
    ids=["empty class", "all errors", "single student"],
)
def test_any_class_gets_a_complete_report(rows, tmp_path):
    paths = write_report(rows, PARTS, tmp_path / "out")
    assert [path.name for path in paths] == [DISTRIBUTION_NAME, PASS_RATES_NAME, REPORT_NAME]
    for path in paths[:2]:
        with Image.open(path) as image:
            image.verify()
    assert (tmp_path / "out" / REPORT_NAME).read_text(encoding="utf-8").startswith("# Class report")


def test_an_interrupted_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / REPORT_NAME
    target.write_text("old", encoding="utf-8")

    def interrupted(source, destination):
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic.write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == [REPORT_NAME]
