"""The feedback in the students' language, and students' names in their own script.

A page rendered in zh-CN is Chinese wherever the page itself speaks (the verdicts inside are the results'
own), declares its language and a font stack with CJK fonts, and keeps every score; in English it is what
it always was. Plots in Chinese draw every glyph, in matplotlib and in a real browser, with the CJK font CI
installs (Debian's fonts-wqy-microhei; without one those tests skip). A class folder holding `李雷.py` and
`韩梅梅.ipynb` shows those names wherever a person reads who a student is; the ids stay in file names.
"""

import io
import re
import shutil
import warnings

import pytest
from browser_support import Browser, find_chromium
from grading_support import ROOT, solution_source

from grader import i18n
from grader.batch import class_files, runner
from grader.judge import compare, labels
from grader.outputs.class_report import render_markdown
from grader.outputs.class_summary import Row
from grader.outputs.feedback import class_page, fonts, messages, page, plots
from grader.outputs.feedback import runs as runs_module
from grader.outputs.members import display_name

PARTS = ["adagrad", "adam", "trajectory", "nesterov"]
VERDICT = """Adagrad.adagrad returned a wrong x after step 3
Inputs:
  x = tensor([1., 2.])
Expected: tensor([0.9, 1.9])
Got: tensor([1.1, 2.1])"""


def _result(student="student-3a47328a", name="李雷", status="graded", explanation=None):
    """A score JSON with a failed, a passed and a hidden test, a diagnosis and an edit search's explanation."""
    tests = [
        {
            "name": "AdaGrad: matches the rule",
            "score": 0,
            "max_score": 5,
            "status": "failed",
            "output": VERDICT,
            "tags": ["adagrad"],
            "visibility": "visible",
            "extra_data": {"explanation": explanation} if explanation else {},
        },
        {"name": "AdaGrad: torch", "score": 2, "max_score": 2, "status": "passed", "tags": ["adagrad"]},
        {
            "name": "Adam: hidden",
            "score": 0,
            "max_score": 3,
            "status": "failed",
            "tags": ["adam"],
            "visibility": "hidden",
        },
        {"name": "train_f: length", "score": 1, "max_score": 1, "status": "passed", "tags": ["trajectory"]},
        {"name": "Nesterov: rule", "score": 1, "max_score": 1, "status": "passed", "tags": ["nesterov"]},
    ]
    parts = {"adagrad": (2, 7), "adam": (0, 3), "trajectory": (1, 1), "nesterov": (1, 1)}
    return {
        "score": 4,
        "max_score": 12,
        "output": "",
        "tests": tests,
        "extra_data": {
            "student": student,
            "name": name,
            "status": status,
            "submission": f"{student}.py",
            "sha256": "ab" * 32,
            "grader_version": "0.1",
            "seed": 3,
            "devices": ["cpu"],
            "parts": {part: {"score": score, "max_score": most} for part, (score, most) in parts.items()},
        },
    }


EXPLANATION = {
    "edits": 1,
    "text": "",
    "readings": [{"lines": [{"rule": "G = G + g * g", "student": "G = g * g"}], "description": "G is not kept"}],
}


def _runs():
    """A run that parts from the reference, a collapsed trajectory, one that never ran, one that follows."""
    adagrad = list(runs_module.reference_points("adagrad"))[:10] + [(3.0, 3.0)] * 5
    return {
        "adagrad": runs_module._result(runs_module.BOWL_RUNS["adagrad"], "adagrad", adagrad, ""),
        "trajectory": runs_module._result(runs_module.TRAIN_F_RUN, "trajectory", [(1.0, 1.0)] * 5, ""),
        "adam": runs_module._result(runs_module.BOWL_RUNS["adam"], "adam", [], "never ran"),
        "nesterov": runs_module._result(
            runs_module.BOWL_RUNS["nesterov"], "nesterov", list(runs_module.reference_points("nesterov")), ""
        ),
    }


def _text(html):
    """What a reader sees of a page: its text outside tags and styles, the plots' labels included."""
    html = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


# ------------------------------------------------------------------------------------------ the page


def test_a_page_in_chinese_says_everything_of_its_own_in_chinese():
    with i18n.speaking("zh-CN"):
        html = page.render(_result(explanation=EXPLANATION), _runs())
    assert html.startswith('<!DOCTYPE html>\n<html lang="zh-CN">')
    text = _text(html)
    for chinese in ("反馈：李雷", "4 / 12 分", "反例", "期望值", "实际值", "隐藏测试", "（0 / 3 分）"):
        assert chinese in text, chinese
    for chinese in ("参考实现", "你的实现", "开始偏离处", "train_f 轨迹", "Nesterov（附加题）", "原地更新 x 的优化器"):
        assert chinese in text, chinese
    assert "在第 10 步偏离参考实现" in html  # the plot's own label, in the SVG
    assert "对更新规则做 1 处修改" in text and "更新规则" in text and "你的代码" in text
    # What the page itself says in English is gone; what the results say (test names, the verdict) stays theirs.
    for english in (
        "Feedback:",
        "points",
        "counterexample",
        "expected",
        "hidden test",
        "reference",
        "yours",
        "where they part",
        "steps from",
        "What your code computes",
        "the rule",
        "Notes",
        "Fix:",
        "passed",
        "failed",
        "parts from the reference",
        "in place",
    ):
        assert english not in text.replace("AdaGrad: matches the rule", ""), english
    assert "Adagrad.adagrad returned a wrong x after step 3" in text


def test_the_same_result_has_the_same_numbers_in_both_languages():
    numbers = {}
    for language in i18n.LANGUAGES:
        with i18n.speaking(language):
            numbers[language] = re.findall(r"\d+(?:\.\d+)? / \d+", _text(page.render(_result(), _runs())))
    assert numbers["en"] == numbers["zh-CN"] and len(numbers["en"]) > 6


def test_an_english_page_speaks_english_and_declares_it():
    html = page.render(_result(student="alice", name="Alice"), _runs())
    assert html.startswith('<!DOCTYPE html>\n<html lang="en">')
    text = _text(html)
    for english in ("Feedback: alice", "4 / 12 points", "counterexample", "hidden test", "- - reference", "— yours"):
        assert english in text, english
    assert "Alice" in text and not re.search(r"[\u3000-\u9fff\uff00-\uffef]", text)


def test_the_font_stack_puts_cjk_fonts_after_the_latin_ones():
    html = page.render(_result(), None)
    stack = re.search(r"body\{font-family:([^;]*);", html).group(1)
    assert stack.startswith('system-ui,-apple-system,"Segoe UI",') and stack.endswith(",sans-serif")
    for family in ("Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei"):
        assert f'"{family}"' in stack


def test_a_run_note_is_written_in_the_language_spoken():
    with i18n.speaking("zh-CN"):
        _points, note = runs_module.points_of([], 3)
        setting = runs_module.describe(runs_module.BOWL_RUNS["adam"])
    assert note == "3 步只给出了 0 个点"
    assert setting.startswith("Adam（超参数 init_lr=") and setting.endswith("出发运行 20 步")


def test_the_class_page_stays_english_and_the_students_page_it_writes_does_not(tmp_path):
    """The class page is the instructor's; a page it writes for a student is in the students' language."""
    rows = [Row("student-3a47328a", "李雷", "graded", _result())]
    with i18n.speaking("zh-CN"):
        html = class_page.render(rows, PARTS, {"student-3a47328a": _runs()})
    assert html.startswith('<!DOCTYPE html>\n<html lang="en">') and "Class report" in html
    assert 'href="feedback/student-3a47328a.html">李雷</a>' in html


# ------------------------------------------------------------------------------------------ the names


@pytest.mark.parametrize(
    ("student", "name", "shown"),
    [
        ("student-3a47328a", "李雷", "李雷"),  # a plain folder's 李雷.py: the id is only its file-name spelling
        ("Jose", "José", "José"),
        ("4822", "王小明", "王小明 (4822)"),  # Canvas: the id is the LMS's, which tells two 王小明 apart
        ("student-3a47328a-2", "李雷", "李雷 (student-3a47328a-2)"),
        ("smithjane_4821", "smithjane", "smithjane_4821"),  # an ASCII name: as it always was
        ("alice", "alice", "alice"),
        ("alice", "", "alice"),
        ("alice", None, "alice"),
    ],
)
def test_a_name_is_shown_in_its_own_script_and_an_ascii_one_as_before(student, name, shown):
    assert display_name(student, name) == shown


def _columns(text):
    return class_files.columns(text)


def test_the_class_table_keeps_its_columns_with_wide_names(tmp_path):
    rows = [
        Row("alice", "alice", "graded", _result("alice", "alice")),
        Row("student-3a47328a", "李雷", "graded", _result()),
        Row("student-da16ee61", "韩梅梅", "graded", _result("student-da16ee61", "韩梅梅")),
        Row("Jose", "José", "graded", _result("Jose", "José")),
    ]
    lines = class_files.table(rows, PARTS, tmp_path).splitlines()
    assert [line.split()[0] for line in lines[2:6]] == ["alice", "李雷", "韩梅梅", "José"]
    assert "student-" not in "\n".join(lines[:6])
    # Where each line's "total" column starts, in terminal columns: the same on every line.
    starts = {_columns(line[: line.index("4/12")]) for line in lines[2:6]}
    assert len(starts) == 1 and _columns(lines[0][: lines[0].index("total")]) + len("total") == min(starts) + 4
    assert _columns("李雷") == 4 and _columns("José") == 4 and _columns("e\u0301") == 1


def test_ascii_names_leave_the_class_table_as_it_was(tmp_path):
    rows = [Row("alice", "Alice Smith", "graded", _result("alice", "Alice Smith"))]
    lines = class_files.table(rows, PARTS, tmp_path).splitlines()
    assert lines[0].startswith("student  ") and lines[2].startswith("alice    ")


def test_report_md_says_who_made_a_mistake_by_name():
    result = _result()
    result["tests"][0]["extra_data"] = {"diagnosis": "no_square_root"}
    text = render_markdown([Row("student-3a47328a", "李雷", "graded", result)], PARTS)
    mistakes = text.split("## Mistakes by frequency")[1].split("## Not graded")[0]
    assert "| 1 | 李雷 |" in mistakes and "student-3a47328a" not in mistakes


@pytest.mark.classes
def test_a_class_of_chinese_names_reads_them_everywhere(tmp_path):
    """李雷.py and 韩梅梅.ipynb, graded by the batch in zh-CN: their names in the table, the pages, the class
    page and the report; their ids in the file names; full marks, as the same code gets in English."""
    submissions = tmp_path / "class"
    submissions.mkdir()
    (submissions / "李雷.py").write_text(solution_source(), encoding="utf-8")
    shutil.copy(ROOT / "examples" / "submissions" / "hana_sato.ipynb", submissions / "韩梅梅.ipynb")
    out = tmp_path / "out"
    with i18n.speaking("zh-CN"):
        entries, results = runner.run(submissions, out, runner.Settings(jobs=2, budget=120, feedback=True))
        table = class_files.write_outputs(entries, results, out)
        class_page.write(entries, results, out)
    ids = {entry.name: entry.student for entry in entries}
    assert set(ids) == {"李雷", "韩梅梅"} and all(student.startswith("student-") for student in ids.values())
    assert results[ids["李雷"]]["score"] == results[ids["李雷"]]["max_score"]
    rows = table.splitlines()[2:4]
    assert sorted(line.split()[0] for line in rows) == ["李雷", "韩梅梅"]
    assert len({_columns(line[: re.search(r"\d+/\d+", line).start()]) for line in rows}) == 1
    for name, student in ids.items():
        html = (out / "feedback" / f"{student}.html").read_text(encoding="utf-8")
        assert f"<title>反馈：{name}</title>" in html and f"<h1>反馈：{name}</h1>" in html
        assert f">{name}</a>" in (out / "report.html").read_text(encoding="utf-8")
        assert f"{student},{name}," in (out / "scores.csv").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------ glyphs


def _draw(labels, rc):
    """A feedback plot's texts drawn by matplotlib with `rc`; returns the warnings of missing glyphs."""
    import matplotlib  # noqa: PLC0415 -- as the grader: only where a plot is drawn
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    with warnings.catch_warnings(record=True) as caught, matplotlib.rc_context(rc):
        warnings.simplefilter("always")
        figure = Figure(figsize=(4, 4))
        axes = figure.add_subplot()
        reference = runs_module.reference_points("adagrad")
        axes.plot(*zip(*reference), "--", label=labels["reference"])
        axes.plot(*zip(*reference), label=labels["yours"])
        axes.set_title(labels["title"])
        axes.legend()
        FigureCanvasAgg(figure)
        figure.savefig(io.BytesIO(), format="png")
    return [str(warning.message) for warning in caught if "missing from" in str(warning.message)]


def test_a_plot_in_chinese_draws_every_glyph_in_matplotlib():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fonts.MissingCJKFont)
        families = fonts.matplotlib_families()
    if len(families) == 1:
        pytest.skip("no CJK font installed (Debian: apt-get install fonts-wqy-microhei; .ci/run installs it)")
    with i18n.speaking("zh-CN"):
        labels = {
            "title": i18n._("{part} on the bowl f(x) = 0.2·x1² + 2·x2²").format(part=page._part_title("trajectory")),
            "reference": i18n._("reference"),
            "yours": i18n._("yours"),
        }
    assert _draw(labels, fonts.matplotlib_rc()) == []
    assert _draw(labels, {}), "matplotlib's own font should lack the Chinese glyphs: the check would see nothing"


def test_without_a_cjk_font_matplotlib_is_told_once_and_draws(monkeypatch):
    monkeypatch.setattr(fonts, "CJK_FAMILIES", ("No Such CJK Font",))
    monkeypatch.setattr(fonts, "_FILE_HINTS", ("no-such-font-file",))
    fonts.matplotlib_families.cache_clear()
    try:
        with pytest.warns(fonts.MissingCJKFont, match="no CJK font"):
            assert len(fonts.matplotlib_families()) == 1
        with warnings.catch_warnings():
            warnings.simplefilter("error", fonts.MissingCJKFont)
            assert fonts.matplotlib_rc()["font.family"] == list(fonts.matplotlib_families())  # said once
    finally:
        fonts.matplotlib_families.cache_clear()


#: Run in the loaded page: the heading's text and font-family, and a control only tofu can draw.
FONT_CHECKS = r"""(() => {
  const control = document.createElement('p');
  control.id = 'no-font-has-it';
  control.textContent = '\u{10FFFD}\u{10FFFD}\u{10FFFD}';
  document.body.appendChild(control);
  const heading = document.querySelector('h1');
  return {heading: heading.innerText, family: getComputedStyle(heading).fontFamily,
          lang: document.documentElement.lang};
})()"""


def _cjk_glyphs(platform_fonts):
    """How many glyphs of a node a CJK font drew, as the browser reports the fonts it used."""
    return sum(font["glyphCount"] for font in platform_fonts or [] if font["familyName"] in fonts.CJK_FAMILIES)


@pytest.mark.browser
def test_a_page_in_chinese_renders_with_a_cjk_font_in_a_browser(tmp_path):
    """The heading's Chinese is drawn by a CJK font of the page's stack, glyph by glyph as the browser says
    (a missing font gives tofu: the control, a code point no font has, shows what that looks like)."""
    executable = find_chromium()
    if executable is None:
        pytest.skip("no Chromium here: `apt-get install -y chromium` (Debian's package) to run the browser checks")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fonts.MissingCJKFont)
        if len(fonts.matplotlib_families()) == 1:
            pytest.skip("no CJK font installed (Debian: apt-get install fonts-wqy-microhei; .ci/run installs it)")
    with i18n.speaking("zh-CN"):
        html = page.render(_result(), _runs())
    path = tmp_path / "李雷.html"
    path.write_text(html, encoding="utf-8")
    browser = Browser(executable)
    try:
        problems, seen, _png = browser.load(path, FONT_CHECKS, fonts_of=("h1", "#no-font-has-it"))
        drawn = browser.platform_fonts
    finally:
        browser.close()
    assert problems == [] and seen["lang"] == "zh-CN" and seen["heading"] == "反馈：李雷"
    assert any(f'"{family}"' in seen["family"] or family in seen["family"] for family in fonts.CJK_FAMILIES), seen
    assert _cjk_glyphs(drawn["h1"]) >= len("反馈：李雷"), drawn["h1"]
    assert _cjk_glyphs(drawn["#no-font-has-it"]) == 0, drawn  # tofu is drawn by no CJK font: the check can fail


def test_plots_label_their_parting_step_in_the_language_spoken():
    run = _runs()["adagrad"]
    with i18n.speaking("zh-CN"):
        svg = plots.run_svg(run, "t")
    assert f"在第 {run['parts_at']} 步偏离参考实现" in svg
    assert f"parts from the reference at step {run['parts_at']}" in plots.run_svg(run, "t")


def test_an_english_verdicts_rows_are_named_in_the_language_spoken():
    """The counterexample's row names are the page's words: in zh-CN even where the verdict is still English."""
    verdict = (
        "x should be 1, got 2 after step 2\nInputs:\n  x = 1\n  on cpu\nStart: {'W': 1}\nGradients of step 2: {'W': 3}"
    )
    rows = {}
    for language in i18n.LANGUAGES:
        with i18n.speaking(language):
            rows[language] = [name for name, _value in messages.parse(verdict).inputs]
    assert rows["en"] == ["input x", "input device", "start", "gradients of step 2"]
    assert rows["zh-CN"] == ["输入 x", "输入所在设备", "起点", "第 2 步的梯度"]


def test_a_verdict_written_in_chinese_is_read_into_its_table():
    """The grader's own Chinese labels (grader.judge.labels, compare.SHOULD_BE), read back by the page: the
    device line, the step() rows, the one-line "应为 A，实际得到 B" form and the notes' starts."""
    with i18n.speaking("zh-CN"):
        one_line = i18n._(compare.SHOULD_BE).format(name="x", expected="0.45", got="0.44", error=0.02)
        message = "\n".join(
            [
                one_line,
                "  " + i18n._(labels.INPUTS),
                "    x = 1.0",
                "    " + i18n._(labels.ON_DEVICE).format(device="cuda"),
                labels.labelled(i18n._(labels.START), "{'W': 1}"),
                labels.labelled(i18n._(labels.GRADIENTS_OF_STEP).format(k=2), "{'W': 3}"),
            ]
        )
        verdict = messages.parse(message)
        notes = page._notes("已评分 a.py（sha256 1）。\n注意：一条\n更多\n跳过了 2 条顶层语句")
    assert (verdict.expected, verdict.got) == ("0.45", "0.44")
    rows = dict(verdict.inputs)
    assert rows["输入所在设备"] == "cuda" and rows["起点"] == "{'W': 1}" and rows["第 2 步的梯度"] == "{'W': 3}"
    assert verdict.rest == []
    assert notes.count("<li>") == 3 and "<pre>更多</pre>" in notes
