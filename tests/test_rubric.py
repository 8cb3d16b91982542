"""Does the rubric read what an instructor writes: points, tests turned off (advice), tests turned on?"""

import json

import pytest

from grader import defaults
from grader.assignment import BONUS, EXERCISES
from grader.judge import rubric
from grader.judge.parts import PARTS
from grader.outputs.results import SCHEMA_PATH


def _write(tmp_path, tests):
    path = tmp_path / "rubric.json"
    path.write_text(json.dumps({"parts": [{"tag": "trajectory", "tests": tests}]}))
    return path


def test_the_shipped_rubric_gives_x_init_as_advice_and_45_points():
    shipped = rubric.load(defaults.RUBRIC)
    assert shipped.max_score == 45
    assert [(test.part, test.test, test.points) for test in shipped.advice] == [("trajectory", "x_init_untouched", 0)]
    assert "x_init_untouched" not in {test.test for test in shipped.tests}


def test_enabling_the_item_grades_it():
    enabled = rubric.load(defaults.RUBRIC, enable=("trajectory/x_init_untouched",))
    assert enabled.max_score == 46 and enabled.advice == ()
    assert [test.points for test in enabled.tests if test.test == "x_init_untouched"] == [1]


@pytest.mark.parametrize(
    "entry, graded, points",
    [
        (2, True, 2),
        ({"points": 2}, True, 2),
        ({"points": 2, "enabled": True}, True, 2),
        ({"points": 2, "enabled": False}, False, 2),
    ],
)
def test_a_test_entry_is_a_number_or_points_with_a_switch(entry, graded, points, tmp_path):
    loaded = rubric.load(_write(tmp_path, {"x_init_untouched": entry}))
    assert [test.points for test in loaded.tests] == ([points] if graded else [])
    assert len(loaded.advice) == (0 if graded else 1)


@pytest.mark.parametrize(
    "entry",
    [
        {"points": 1, "enabled": "no"},
        {"points": 1, "weight": 2},
        {"enabled": False},
        {"points": -1},
        True,
        float("nan"),
    ],
)
def test_a_bad_entry_is_refused_with_its_place(entry, tmp_path):
    with pytest.raises(rubric.RubricError, match="'trajectory', test 'x_init_untouched'"):
        rubric.load(_write(tmp_path, {"x_init_untouched": entry}))


def test_every_list_of_parts_is_the_registry():
    """Do the result schema's tags, the shipped rubric's parts and the stub's blanks all come from (or
    agree with) the one registry, grader/judge/parts.py?"""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    tags = schema["properties"]["tests"]["items"]["properties"]["tags"]["items"]["enum"]
    assert tags == list(PARTS)
    shipped = json.loads((defaults.RUBRIC).read_text(encoding="utf-8"))
    assert [part["tag"] for part in shipped["parts"]] == list(PARTS)
    assert set(EXERCISES) | set(BONUS) == {part.qualname for part in PARTS.values() if part.rule is not None}
