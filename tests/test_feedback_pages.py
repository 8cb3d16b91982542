"""The feedback pages as people see them: rendered by a real batch and `check --html`, then loaded in a
real headless Chromium (Debian's `chromium`; the browser tests skip with the reason where it is missing).

One small class (a correct student, a wrong one, a hostile one whose file name, printed output and error
messages carry HTML and <script>), graded once for the module with a rubric of few examples.
Set FEEDBACK_SCREENSHOTS=DIR to keep the screenshots for a look.
"""

import io
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest
from browser_support import Browser, find_chromium
from grading_support import solution_source
from PIL import Image

from grader.explain import edits
from grader.explain.diagnosis import edit_table, explain_fingerprint, probe_fingerprint
from grader.explain.mistakes import Mistake
from grader.inputs.discover import discover
from grader.judge import rubric as rubric_module
from grader.outputs.feedback import class_page, page
from grader.outputs.results import SCHEMA_PATH

ROOT = Path(__file__).resolve().parents[1]
EVIL = '<script>document.body.innerHTML="PWNED"</script><img src=x onerror="document.title=1"><b id="injected">b</b>'
HOSTILE_FILE = "<b id=injected>eve<img src=x onerror=alert(1)>.py"


def _wrong(source):
    """RMSprop without (1 - beta), Momentum stepping uphill, train_f recording the live tensor."""
    for old, new in (
        (
            "G = self.beta * G + (1 - self.beta) * gradient_x * gradient_x",
            "G = self.beta * G + gradient_x * gradient_x",
        ),
        ("delta_x = self.rho * delta_x - init_lr * gradient_x", "delta_x = self.rho * delta_x + init_lr * gradient_x"),
        ("points.append(x.detach().clone())", "points.append(x)"),
    ):
        assert old in source
        source = source.replace(old, new)
    return source


def _hostile(source):
    """Prints HTML at load and in train_f, raises with HTML in Adagrad, blows up in RMSprop."""
    source = source.replace(
        "def train_f(model, optimizer, x_init, epoch):",
        f"print({EVIL!r} * 30)\n\ndef train_f(model, optimizer, x_init, epoch):\n    print({EVIL!r})",
        1,
    )
    source = source.replace(
        "        G = G + gradient_x * gradient_x\n",
        f"        G = G + gradient_x * gradient_x\n        raise ValueError({EVIL!r})\n",
        1,
    )
    old = "        G = self.beta * G + (1 - self.beta) * gradient_x * gradient_x\n"
    assert old in source
    return source.replace(old, old + "        x = x * 1000\n", 1)


def _run(*arguments):
    return subprocess.run(
        [sys.executable, "-m", "grader", *arguments], capture_output=True, text=True, cwd=ROOT, timeout=600
    )


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("feedback")
    rubric = json.loads((ROOT / "grader" / "judge" / "rubric.json").read_text())
    rubric["examples"] = {key: 2 for key in rubric["examples"]}  # few examples: the pages are under test here
    rmsprop = next(part for part in rubric["parts"] if part["tag"] == "rmsprop")
    rmsprop["tests"]["torch_optim"] = {
        "points": 1,
        "visibility": "hidden",
    }  # bob fails it: its verdict stays his secret
    (base / "rubric.json").write_text(json.dumps(rubric))
    source = solution_source()
    submissions = base / "class"
    submissions.mkdir()
    (submissions / "alice.py").write_text(source)
    (submissions / "bob.py").write_text(_wrong(source))
    (submissions / HOSTILE_FILE).write_text(_hostile(source))
    batch = _run(
        "batch", str(submissions), "--out", str(base / "out"), "--jobs", "2", "--rubric", str(base / "rubric.json")
    )
    assert batch.returncode == 0, batch.stderr[-3000:]
    check = _run(
        "check",
        str(submissions / "bob.py"),
        "--rubric",
        str(base / "rubric.json"),
        "--html",
        str(base / "bob-check.html"),
    )
    assert check.returncode == 1, check.stderr[-3000:]
    hostile = next(path.stem for path in (base / "out" / "results").glob("*.json") if path.stem not in ("alice", "bob"))
    return base, base / "out", hostile


# What the pages are made of: anything else in one would have come from a student.
SAFE_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "h1",
    "h2",
    "h3",
    "p",
    "div",
    "span",
    "a",
    "b",
    "br",
    "table",
    "caption",
    "tr",
    "th",
    "td",
    "ul",
    "li",
    "pre",
    "code",
    "img",
    "svg",
    "defs",
    "clippath",
    "rect",
    "g",
    "path",
    "text",
    "use",
    "polyline",
    "circle",
}


def _tags(text):
    """(tag, attributes) of every start tag, as an HTML parser reads the page."""
    found = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

        handle_startendtag = handle_starttag

    Collector().feed(text)
    return found


def _runs(out, student):
    return json.loads((out / "feedback" / f".{student}.runs.json").read_text())


@pytest.mark.classes
def test_every_student_gets_a_page_and_the_class_a_report(graded):
    _, out, hostile = graded
    assert sorted(path.name for path in (out / "feedback").glob("*.html")) == sorted(
        f"{name}.html" for name in ("alice", "bob", hostile)
    )
    assert (out / "report.html").is_file() and (out / "report.md").is_file()


@pytest.mark.classes
def test_the_plots_show_the_students_own_runs(graded):
    _, out, hostile = graded
    alice, bob, eve = _runs(out, "alice"), _runs(out, "bob"), _runs(out, hostile)
    for part, run in alice.items():  # a correct student follows the reference all the way
        assert run["parts_at"] is None and len(run["student"]) == len(run["reference"]) > 1, part
    assert bob["adagrad"]["parts_at"] is None
    assert bob["rmsprop"]["parts_at"] == 1 and bob["momentum"]["parts_at"] == 1  # step 0 is the shared start
    collapsed = bob["trajectory"]["student"]  # as the student saw it: every point is the last one
    assert len(collapsed) == 20 and all(point == collapsed[-1] for point in collapsed)
    assert collapsed[-1] != bob["trajectory"]["reference"][0] and bob["trajectory"]["parts_at"] == 0
    assert eve["adagrad"]["student"] == [] and "ValueError" in eve["adagrad"]["note"]
    assert 0 < len(eve["rmsprop"]["student"]) < 50 and "beyond" in eve["rmsprop"]["note"]


@pytest.mark.classes
def test_student_text_is_escaped_in_the_html(graded):
    base, out, hostile = graded
    for path in [out / "feedback" / f"{hostile}.html", out / "report.html", base / "bob-check.html"]:
        tags = _tags(path.read_text())
        assert not {name for name, _ in tags} - SAFE_TAGS, path
        assert not [
            (name, attrs)
            for name, attrs in tags
            if any(key.startswith("on") or value == "injected" for key, value in attrs)
        ], path
        assert all(
            value.startswith("data:image/png;base64,")
            for name, attrs in tags
            if name == "img"
            for key, value in attrs
            if key == "src"
        )
    text = (out / "feedback" / f"{hostile}.html").read_text()
    assert "&lt;script&gt;document.body.innerHTML" in text  # shown, as text


def test_a_hidden_test_shows_its_name_and_points_only():
    result = {
        "score": 0,
        "max_score": 4,
        "output": "",
        "extra_data": {"parts": {"adam": {"score": 0, "max_score": 4}}},
        "tests": [
            {
                "name": "Adam: secret test",
                "score": 0,
                "max_score": 4,
                "status": "failed",
                "tags": ["adam"],
                "visibility": "hidden",
                "output": "should be 1.25, got 31337.25 on x = 3.0",
            }
        ],
    }
    html = page.render(result, student="someone")
    assert "Adam: secret test" in html and "0 / 4" in html
    assert "31337" not in html and "failed" not in html
    shown = page.render({**result, "tests": [{**result["tests"][0], "visibility": "visible"}]}, student="someone")
    assert "31337" in shown and "failed" in shown


def test_an_explanation_shows_the_rules_line_next_to_the_students():
    """A failure that no known mistake matches but an edit of the rule explains (grader.explain.edits): the page shows
    the rule's line and what the student's code computes, once (not again in the raw verdict text)."""
    mistake = Mistake(
        "momentum",
        "rho_on_the_step",
        "(t)",
        "(t).",
        "momentum",
        """
        delta_x = self.rho * delta_x - init_lr * gradient_x
        return x + self.rho * delta_x, delta_x
        """,
    )
    found = explain_fingerprint("momentum", probe_fingerprint("momentum", mistake))
    assert isinstance(found, edits.Explanation) and edit_table("momentum") is not None
    output = f"x should be 1, got 2\nDiagnosis: Momentum: your update matches none of the known ... mistakes, but: {found.text}"
    result = {
        "score": 0,
        "max_score": 4,
        "output": "",
        "extra_data": {"parts": {"momentum": {"score": 0, "max_score": 4}}},
        "tests": [
            {
                "name": "Momentum: single calls",
                "score": 0,
                "max_score": 4,
                "status": "failed",
                "tags": ["momentum"],
                "visibility": "visible",
                "output": output,
                "extra_data": {"test": "single_step", "diagnosis": None, "also": [], "explanation": found.to_dict()},
            }
        ],
    }
    html = page.render(result, student="someone")
    assert "What your code computes" in html and html.count("x = x + self.rho * delta_x") == 1
    assert "x = x + delta_x" in html


def test_terminal_controls_and_bidi_overrides_in_student_text_are_shown_as_escapes():
    """What the student raised or printed may hold terminal controls (recolour, clear the screen of
    whoever `cat`s the page) and bidirectional overrides (reorder the text after them on the page, as in
    "Trojan Source"): shown as visible escapes, as the terminal report shows them."""
    sneaky = "boom\x1b[2J\x1b[32m 10 / 10 \u202e01 / 0\x07"
    result = {
        "score": 0,
        "max_score": 4,
        "output": sneaky,
        "extra_data": {"parts": {"adam": {"score": 0, "max_score": 4}}},
        "tests": [
            {
                "name": "Adam: single calls",
                "score": 0,
                "max_score": 4,
                "status": "failed",
                "tags": ["adam"],
                "visibility": "visible",
                "output": sneaky,
            }
        ],
    }
    html = page.render(result, student="eve\x1b[8m")
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", html)
    assert "boom\\x1b[2J" in html and "\\u202e01 / 0" in html and "eve\\x1b[8m" in html


@pytest.mark.classes
def test_no_feedback_writes_no_pages(tmp_path):
    """--no-feedback: results and report.md as always, no HTML (a class of one that cannot be graded:
    a folder holding two files, so no lane starts and the test stays quick)."""
    (tmp_path / "class" / "two").mkdir(parents=True)
    for name in ("a.py", "b.py"):
        (tmp_path / "class" / "two" / name).write_text("x = 1\n")
    result = _run("batch", str(tmp_path / "class"), "--out", str(tmp_path / "out"), "--no-feedback")
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "out" / "results" / "two.json").is_file() and (tmp_path / "out" / "report.md").is_file()
    assert not (tmp_path / "out" / "feedback").exists() and not (tmp_path / "out" / "report.html").exists()
    # A later run with pages, its results current: the class page writes the missing student pages.
    entries = discover(tmp_path / "class")
    results = {
        entry.student: json.loads((tmp_path / "out" / "results" / f"{entry.student}.json").read_text())
        for entry in entries
    }
    class_page.write(entries, results, tmp_path / "out")
    assert "not graded" in (tmp_path / "out" / "feedback" / "two.html").read_text()
    assert (tmp_path / "out" / "report.html").is_file()


# ---------------------------------------------------------------------------------------------- browser

CHECKS = """(() => {
  const plots = Array.from(document.querySelectorAll('svg.plot'));
  return {
    images: Array.from(document.images).map(image => [image.complete, image.naturalWidth, image.naturalHeight]),
    plots: plots.map(svg => { const box = svg.getBoundingClientRect(); return [box.width, box.height,
      svg.querySelectorAll('polyline').length]; }),
    parted: document.querySelectorAll('svg.plot circle[stroke="#cc0000"]').length,
    scripts: document.scripts.length,
    injected: document.querySelectorAll('#injected, [onerror], iframe, object, embed').length,
    title: document.title,
    text: document.body.innerText,
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href')),
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  };
})()"""


@pytest.fixture(scope="module")
def browser():
    executable = find_chromium()
    if executable is None:
        pytest.skip("no Chromium here: `apt-get install -y chromium` (Debian's package) to run the browser checks")
    running = Browser(executable)
    yield running
    running.close()


def _load(browser, path, name):
    problems, seen, png = browser.load(path, CHECKS)
    folder = os.environ.get("FEEDBACK_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{name}.png").write_bytes(png)
    assert problems == [], problems
    assert all(complete and width > 0 and height > 0 for complete, width, height in seen["images"]), seen["images"]
    assert all(width > 50 and height > 50 for width, height, _ in seen["plots"]), seen["plots"]
    assert seen["scripts"] == 0 and seen["injected"] == 0 and seen["text"].strip() != "PWNED"
    assert seen["overflow"] <= 0, "the page is wider than the window"
    _not_blank(png)
    return seen


def _not_blank(png):
    image = Image.open(io.BytesIO(png)).convert("L")
    histogram = image.histogram()
    assert image.width > 500 and image.height > 500
    assert sum(histogram[:200]) > 0.01 * image.width * image.height, "the screenshot is (nearly) blank"


@pytest.mark.browser
def test_a_correct_students_page_in_a_browser(browser, graded):
    _, out, _ = graded
    seen = _load(browser, out / "feedback" / "alice.html", "alice")
    assert seen["title"] == "Feedback: alice" and "45 / 45 points" in seen["text"]
    assert len(seen["plots"]) == 5 and all(lines == 2 for _, _, lines in seen["plots"])  # reference and hers
    assert seen["parted"] == 0 and "failed" not in seen["text"]


@pytest.mark.browser
def test_a_wrong_students_page_in_a_browser(browser, graded):
    base, out, _ = graded
    for path, name in ((out / "feedback" / "bob.html", "bob"), (base / "bob-check.html", "bob-check")):
        seen = _load(browser, path, name)
        assert seen["parted"] == 3  # RMSprop, Momentum, and the collapsed train_f
        text = seen["text"]
        assert "RMSprop that adds g² without the factor (1 - beta)" in text and "first diverging step" in text
        assert "shallow copy" in text and "expected" in text and "got" in text
        assert "All 20 points are the same point" in text
        hidden = re.findall(r"hidden test (.*)\n?", text)
        assert hidden == ["RMSprop: step() matches torch.optim (0 / 1 points)"], hidden
        secret = next(
            test
            for test in json.loads((out / "results" / "bob.json").read_text())["tests"]
            if test["visibility"] == "hidden"
        )
        assert secret["status"] == "failed" and secret["output"].splitlines()[0] not in text


@pytest.mark.browser
def test_a_hostile_students_page_in_a_browser(browser, graded):
    _, out, hostile = graded
    seen = _load(browser, out / "feedback" / f"{hostile}.html", "hostile")
    assert seen["title"] == f"Feedback: {hostile}"
    assert EVIL in seen["text"]  # what the student printed and raised, shown as text
    assert "beyond" in seen["text"]  # the run that blew up is drawn up to where it did, and said


@pytest.mark.browser
def test_the_class_report_in_a_browser(browser, graded):
    _, out, _hostile = graded
    seen = _load(browser, out / "report.html", "report")
    assert len(seen["images"]) == 2  # score distribution, pass rate per part
    assert len(seen["plots"]) == 5 * 3 - 1  # a thumbnail per part and student, but eve's AdaGrad never ran
    assert {"feedback/alice.html", "feedback/bob.html"} <= set(seen["links"])
    assert "rmsprop/missing_one_minus_beta" in seen["text"] and re.search(r"momentum\S*\s", seen["text"])


@pytest.mark.classes
def test_the_rubric_sets_a_tests_visibility(tmp_path, graded):
    data = json.loads((ROOT / "grader" / "judge" / "rubric.json").read_text())
    data["parts"][0]["tests"]["sequence"] = {"points": 3, "visibility": "after_due_date"}
    (tmp_path / "ok.json").write_text(json.dumps(data))
    loaded = rubric_module.load(tmp_path / "ok.json")
    assert {(test.part, test.test): test.visibility for test in loaded.tests}[
        ("adagrad", "sequence")
    ] == "after_due_date"
    data["parts"][0]["tests"]["sequence"] = {"points": 3, "visibility": "secret"}
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(rubric_module.RubricError, match="visibility"):
        rubric_module.load(tmp_path / "bad.json")

    _, out, _ = graded
    jsonschema.validate(json.loads((out / "results" / "bob.json").read_text()), json.loads(SCHEMA_PATH.read_text()))


@pytest.mark.classes
def test_a_regrade_without_runs_drops_the_old_ones(tmp_path, graded):
    """The class page draws the runs saved beside a page: a later grading that has none (a timeout)
    must not leave the earlier grading's runs to stand for it."""
    _, out, _ = graded
    result = json.loads((out / "results" / "bob.json").read_text())
    page.write(tmp_path, "bob", result, _runs(out, "bob"))
    assert (tmp_path / ".bob.runs.json").is_file()
    page.write(tmp_path, "bob", result, None)
    assert not (tmp_path / ".bob.runs.json").exists() and (tmp_path / "bob.html").is_file()
