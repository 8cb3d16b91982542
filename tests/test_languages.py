"""Do the verdicts follow `--lang`, with the same scores, statuses and diagnoses in every language?

The same submissions are graded in English and in Chinese: only the words may differ. A batch's result
made in one language is not current for a run in another, and a Dask worker, which is no fork of the
driver, is told the language with each task.
"""

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from grading_support import ROOT, rubric_for

from grader import defaults, grading, i18n
from grader.batch import cluster, freshness, runner, worker_lanes
from grader.judge import labels
from grader.outputs import terminal
from grader.platforms import runner as platform

EXAMPLES = ROOT / "examples" / "submissions"
CHINESE = re.compile("[\u4e00-\u9fff]")
#: A solution-like file, one with known mistakes (Adam without bias correction), one whose Adam exits the
#: process, and one that cannot be loaded at all (its top level raises on import).
SUBMISSIONS = ("alice_nguyen.py", "carla_mendes.py", "ivan_petrov.py", "broken.py")
BROKEN = "import numpy\nimport a_module_nobody_has\n"


def _facts(report):
    """Everything a report says that is not words: it must not change with the language."""
    data = report.to_dict()
    extra = {key: value for key, value in data["extra_data"].items() if key not in ("sha256",)}
    return (
        data["score"],
        data["max_score"],
        extra,
        [(t["score"], t["max_score"], t["status"], t["tags"], t["visibility"], t["extra_data"]) for t in data["tests"]],
    )


def _grade(path, zygote, language):
    with i18n.speaking(language):
        return grading.grade(path, zygote=zygote, rubric=rubric_for("adam", "trajectory"))


@pytest.fixture(scope="module")
def graded(zygote, tmp_path_factory):
    """{file: {language: report}} for the four submissions, graded on the Adam and trajectory parts."""
    folder = tmp_path_factory.mktemp("languages")
    (folder / "broken.py").write_text(BROKEN, encoding="utf-8")
    paths = {name: EXAMPLES / name if name != "broken.py" else folder / name for name in SUBMISSIONS}
    return {name: {lang: _grade(path, zygote, lang) for lang in i18n.LANGUAGES} for name, path in paths.items()}


@pytest.mark.parametrize("name", SUBMISSIONS)
def test_the_same_submission_gets_the_same_scores_and_diagnoses_in_every_language(graded, name):
    english, chinese = graded[name]["en"], graded[name]["zh-CN"]
    assert _facts(english) == _facts(chinese)


def test_the_submissions_cover_a_pass_a_known_mistake_a_crash_and_a_load_error(graded):
    facts = {name: graded[name]["en"] for name in SUBMISSIONS}
    assert facts["alice_nguyen.py"].score == facts["alice_nguyen.py"].max_score
    assert "no_bias_correction" in facts["carla_mendes.py"].to_dict()["extra_data"]["diagnoses"]
    assert any("sys.exit" in test.output for test in facts["ivan_petrov.py"].tests)
    assert "a_module_nobody_has" in facts["broken.py"].output and facts["broken.py"].score == 0


@pytest.mark.parametrize("name", SUBMISSIONS)
def test_chinese_verdicts_are_in_chinese_and_english_ones_in_english(graded, name):
    english, chinese = graded[name]["en"], graded[name]["zh-CN"]
    for en_test, zh_test in zip(english.tests, chinese.tests):
        assert not CHINESE.search(en_test.title + en_test.output), en_test.output
        assert CHINESE.search(zh_test.title), zh_test.title  # "Adam: 单次调用 adam() 的结果与参考实现一致"
        if not en_test.passed:
            assert CHINESE.search(zh_test.output), zh_test.output
    assert not CHINESE.search(terminal.render(english))
    assert CHINESE.search(terminal.render(chinese)) and CHINESE.search(chinese.output)


def test_english_verdicts_read_as_before(graded):
    """The English words are those the grader wrote before it had a choice of language."""
    carla = graded["carla_mendes.py"]["en"]
    failed = next(test for test in carla.tests if test.part == "adam" and test.test == "single_step")
    assert failed.title == "Adam: single calls of adam() match the reference"
    assert "Adam, one call of adam(): the returned x" in failed.output
    assert "\nInputs:\n  x = " in failed.output and "\n  on cpu\nExpected: " in failed.output
    assert "\nGot:      " in failed.output and "\nLikely mistake: " in failed.output
    ivan = graded["ivan_petrov.py"]["en"]
    assert any(
        "called sys.exit(" in test.output and "; a submission must not exit" in test.output for test in ivan.tests
    )
    broken = graded["broken.py"]["en"]
    assert "your file defines no `Adam`, which Adam needs. Loading it reported:" in broken.tests[0].output
    assert broken.output.startswith("Graded broken.py (sha256 ")


def test_chinese_verdicts_keep_the_labels_the_feedback_page_reads(graded):
    carla = graded["carla_mendes.py"]["zh-CN"]
    failed = next(test for test in carla.tests if test.part == "adam" and test.test == "single_step")
    with i18n.speaking("zh-CN"):
        for label in (labels.INPUTS, labels.EXPECTED, labels.GOT, labels.LIKELY_MISTAKE):
            assert f"\n{i18n._(label)}" in failed.output, label
        assert i18n._(labels.EXPECTED) != labels.EXPECTED


def test_a_load_error_is_said_in_chinese(zygote, tmp_path):
    report = _grade(tmp_path / "nowhere.py", zygote, "zh-CN")
    assert report.status == "error" and "文件不存在" in report.tests[0].output


# ------------------------------------------------------------------------------------------- batch


def test_the_fingerprint_of_an_english_result_is_what_it_was_and_another_language_changes_it(tmp_path):
    settings = runner.Settings(jobs=1, budget=60)
    before = json.dumps(
        [
            freshness.__version__,
            hashlib.sha256(Path(settings.rubric_path).read_bytes()).hexdigest(),
            settings.seed,
            ["cpu"],
        ]
    )
    assert freshness.fingerprint(settings, ["cpu"]) == hashlib.sha256(before.encode()).hexdigest()[:16]
    assert freshness.fingerprint(settings, ["cpu"], "zh-CN") != freshness.fingerprint(settings, ["cpu"], "en")
    with i18n.speaking("zh-CN"):
        assert freshness.fingerprint(settings, ["cpu"]) == freshness.fingerprint(settings, ["cpu"], "zh-CN")


TRAJECTORY_RUBRIC = {
    "title": "the trajectory only",
    "parts": [{"tag": "trajectory", "title": "train_f trajectory", "tests": {"out_of_place": 2, "in_place": 3}}],
    "examples": {"out_of_place": 2, "in_place": 2},
}


def test_a_batch_in_chinese_regrades_what_an_english_batch_graded(tmp_path):
    submissions = tmp_path / "class"
    submissions.mkdir()
    (submissions / "emeka.py").write_text((EXAMPLES / "emeka_obi.py").read_text(encoding="utf-8"), encoding="utf-8")
    rubric = tmp_path / "rubric.json"
    rubric.write_text(json.dumps(TRAJECTORY_RUBRIC), encoding="utf-8")
    settings = runner.Settings(jobs=1, budget=60, rubric_path=rubric)
    out = tmp_path / "out"

    def batch(language):
        with i18n.speaking(language):
            _entries, results = runner.run(submissions, out, settings)
        return results["emeka"], (out / "results" / "emeka.json").stat().st_mtime_ns

    english, english_written = batch("en")
    chinese, chinese_written = batch("zh-CN")
    again, again_written = batch("zh-CN")
    assert chinese_written != english_written and again_written == chinese_written  # regraded, then current
    assert english["score"] == chinese["score"] == 2 and again == chinese
    failed = [
        (test["output"], zh["output"]) for test, zh in zip(english["tests"], chinese["tests"]) if test["score"] == 0
    ]
    assert failed and all(not CHINESE.search(en) and CHINESE.search(zh) for en, zh in failed)
    assert [test["extra_data"] for test in english["tests"]] == [test["extra_data"] for test in chinese["tests"]]


def test_a_cluster_task_carries_the_drivers_language(tmp_path):
    """A Dask worker is no fork of the driver: each task is told the language."""

    class Sent(Exception):
        pass

    class Client:
        def submit(self, function, *arguments, **options):
            raise Sent(function, arguments)

    settings = runner.Settings(jobs=1, budget=60)
    batch = cluster._Batch(tmp_path, settings, rubric_for("adam"), ("cpu",), None)
    entry = SimpleNamespace(path=tmp_path / "optimizers.py", student="someone")
    for language in i18n.LANGUAGES:
        with i18n.speaking(language), pytest.raises(Sent) as sent:
            batch.grade(Client(), [(entry, b"")], "lanes")
        function, arguments = sent.value.args
        assert function is worker_lanes.grade_on_worker and arguments[-1] == language


def test_a_worker_grades_in_the_language_its_task_names(tmp_path, monkeypatch):
    spoken = []

    class Lane:
        def sibling(self):
            return self

        def close(self):
            pass

    class Lanes:
        rubric, seed, graded_on, replay = None, 0, ("cpu",), None

        def take(self):
            return Lane()

        def give_back(self, lane):
            pass

    worker = SimpleNamespace(plugins={"lanes": Lanes()})
    monkeypatch.setattr(worker_lanes, "get_worker", lambda: worker)
    monkeypatch.setattr(grading, "grade_bounded", lambda *arguments, **options: (spoken.append(i18n.language()), None))
    with i18n.speaking("en"):
        worker_lanes.grade_on_worker("lanes", "optimizers.py", b"", 60, False, "zh-CN")
        assert spoken == ["zh-CN"]
        worker_lanes.grade_on_worker("lanes", "optimizers.py", b"", 60, False)
        assert spoken == ["zh-CN", "en"]


# --------------------------------------------------------------------------------------- pytest grader


def test_pytest_grader_speaks_the_language_it_is_given(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "grader", "-p", "no:cacheprovider", "--lang", "zh-CN"]
        + ["--submission", str(tmp_path / "nowhere.py")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert result.returncode == 4 and "nowhere.py：文件不存在" in result.stderr, result.stderr[-2000:]


# ------------------------------------------------------------------------------------------- platforms


def test_a_platforms_autograder_grades_in_the_language_it_was_made_in(tmp_path):
    assert "lang" not in json.loads(platform.Settings().to_json())  # an English autograder's settings as before
    with i18n.speaking("zh-CN"):
        made = platform.Settings()
    (tmp_path / platform.SETTINGS_FILE).write_text(made.to_json(), encoding="utf-8")
    (tmp_path / platform.RUBRIC_FILE).write_bytes(Path(defaults.RUBRIC).read_bytes())
    loaded = platform.load_settings(tmp_path / platform.SETTINGS_FILE)
    assert loaded.language == "zh-CN"
    with i18n.speaking("en"):  # what run_autograder's process speaks before it reads the settings
        report = platform.grade(tmp_path / "no-submission-here", loaded, tmp_path)
    assert report.status == "error" and CHINESE.search(report.tests[0].output), report.tests[0].output


def test_the_full_isolation_summary_marked_for_translation_is_the_sandboxs_own():
    """The sandbox's side speaks English only; the report translates its summary of the full level."""
    levels = (ROOT / "grader" / "untrusted" / "confine" / "levels.py").read_text(encoding="utf-8")
    assert f'"summary": "{terminal.FULL_ISOLATION}"' in levels
    with i18n.speaking("zh-CN"):
        assert CHINESE.search(i18n._(terminal.FULL_ISOLATION))
