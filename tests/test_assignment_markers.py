"""Does every broken marker or unjoinable module stop the generator with an error naming the file and line?

Each case copies the reference into a temporary folder, breaks one thing in one file, and generates from
the copy: a silent stub (a solution handed out, or the wrong code blanked) must be impossible.
"""

import re
import shutil

import pytest

from grader.assignment import AssignmentError, build_assignment, read_module, regions_of
from grader.assignment.pipeline import reference_folder

# Anchors in reference/optimizers.py, each unique: where a test breaks a marker.
ADAGRAD_BEGIN = "        # BEGIN SOLUTION\n        G = G + gradient_x * gradient_x\n"
ADAGRAD_END = (
    "        return x, G\n"
    "        # END SOLUTION\n"
    "\n"
    "    def step(self):\n"
    "        for key in self.model.params:\n"
    "            self.model.params[key], self.G[key] = self.adagrad("
)
MOMENTUM_BEGIN = (
    "        # BEGIN SOLUTION\n        delta_x = self.rho * delta_x - init_lr * gradient_x\n        x = x + delta_x\n"
)
MOMENTUM_END = (
    "        return x, delta_x\n"
    "        # END SOLUTION\n"
    "\n"
    "    def step(self):\n"
    "        for key in self.model.params:\n"
    "            self.model.params[key], self.delta_x[key] = self.momentum("
)
ADAGRAD_DOCSTRING = '        """One AdaGrad update of one parameter; returns (x, G).\n'
BEGIN_LINE, END_LINE = "        # BEGIN SOLUTION\n", "        # END SOLUTION\n"


def _drop(anchor, line):
    """The edit that removes `line` from `anchor`."""
    return anchor, anchor.replace(line, "", 1)


def _replace_once(text, old, new):
    assert text.count(old) == 1, f"the test's anchor {old!r} is not unique in the reference"
    return text.replace(old, new)


# (file, (old, new) replacements, the line the error must name, a phrase its message must contain).
# The line is given as (its text, which occurrence) and found in the edited file (a line equal to the
# text, or starting with it once stripped), so that the cases do not depend on the reference's numbering.
CASES = [
    pytest.param(
        "optimizers.py",
        [_drop(ADAGRAD_END, END_LINE)],
        ("# BEGIN SOLUTION", 0),
        "is not closed before the next",
        id="adagrad-end-missing",
    ),
    pytest.param(
        "optimizers.py",
        [("        return x, G, M, t\n        # END SOLUTION\n", "        return x, G, M, t\n")],
        ("# BEGIN SOLUTION", -1),
        "never closed",
        id="last-end-missing",
    ),
    pytest.param(
        "optimizers.py",
        [_drop(ADAGRAD_BEGIN, BEGIN_LINE)],
        ("# END SOLUTION", 0),
        "without a '# BEGIN SOLUTION'",
        id="begin-missing",
    ),
    pytest.param(
        "optimizers.py",
        [(ADAGRAD_BEGIN, ADAGRAD_BEGIN.replace("# BEGIN SOLUTION", "#BEGIN SOLUTION"))],
        ("#BEGIN SOLUTION", 0),
        "malformed marker",
        id="misspelt-no-space",
    ),
    pytest.param(
        "optimizers.py",
        [(MOMENTUM_BEGIN, MOMENTUM_BEGIN.replace("# BEGIN SOLUTION", "# begin solution"))],
        ("# begin solution", 0),
        "malformed marker",
        id="misspelt-lower-case",
    ),
    pytest.param(
        "optimizers.py",
        [(ADAGRAD_END, ADAGRAD_END.replace("x, G\n        # END SOLUTION", "x, G  # END SOLUTION"))],
        ("return x, G  # END SOLUTION", 0),
        "line of its own",
        id="marker-after-code",
    ),
    pytest.param(
        "optimizers.py",
        [(ADAGRAD_END, ADAGRAD_END.replace("        # END SOLUTION", "    # END SOLUTION"))],
        ("    # END SOLUTION", 0),
        "indented differently",
        id="end-dedented",
    ),
    pytest.param(
        "optimizers.py",
        [_drop(MOMENTUM_BEGIN, BEGIN_LINE), _drop(MOMENTUM_END, END_LINE)],
        ("def momentum(", 0),
        "Momentum.momentum is an exercise",
        id="exercise-without-region",
    ),
    pytest.param(
        "optimizers.py",
        [(ADAGRAD_DOCSTRING, BEGIN_LINE + ADAGRAD_DOCSTRING), _drop(ADAGRAD_BEGIN, BEGIN_LINE)],
        ("# BEGIN SOLUTION", 0),
        "before its docstring",
        id="docstring-inside-region",
    ),
    pytest.param(
        "training.py",
        [("def train_f(", "# BEGIN SOLUTION\nX = 1\n# END SOLUTION\n\n\ndef train_f(")],
        ("# BEGIN SOLUTION", 0),
        "inside one function's body",
        id="region-outside-a-function",
    ),
    pytest.param(
        "optimizers.py",
        [
            ("        x = x + delta_x\n", "        x = (x +\n        # END SOLUTION\n        delta_x)\n"),
            _drop(MOMENTUM_END, END_LINE),
        ],
        ("# BEGIN SOLUTION", 2),
        "splits the statement",
        id="region-splits-a-statement",
    ),
    pytest.param(
        "experiments/runs.py",
        [
            (
                "from .settings import BOWL_START, BOWL_W, FITTING_BATCH_SIZE, FITTING_EPOCHS\n",
                "from . import settings\n",
            )
        ],
        ("from . import settings", 0),
        "imports a module",
        id="relative-module-import",
    ),
    pytest.param(
        "experiments/figures_2d.py",
        [("def draw_trajectory(", "def grid():\n    pass\n\n\ndef draw_trajectory(")],
        ("def grid():", 0),
        "already defined at",
        id="name-defined-twice",
    ),
    pytest.param(
        "training.py",
        [("def train(", "print('training')\n\n\ndef train(")],
        ("print('training')", 0),
        "would run when students import",
        id="top-level-call",
    ),
    pytest.param(
        "optimizers.py",
        [("class Adam(Optimizer):", "def helper():\n    pass\n\n\nclass Adam(Optimizer):")],
        ("def helper():", 0),
        "in no section",
        id="definition-the-outline-misses",
    ),
    pytest.param(
        "linear.py",
        [("from .framework import Op\n", "from .framework import Op\nfrom .training import train\n")],
        ("from .training import train", 0),
        "places after this module",
        id="import-from-a-later-module",
    ),
    pytest.param(
        "training.py",
        [
            ("import torch\n", "import torch\nimport numpy as torch_np\n"),
            ("def train(", "torch_np = 1\n\n\ndef train("),
        ],
        ("torch_np = 1", 0),
        "imported by",
        id="definition-shadows-an-import",
    ),
]


@pytest.fixture
def broken_reference(tmp_path):
    """A copy of the reference that a test may edit."""
    copy = tmp_path / "reference"
    shutil.copytree(reference_folder(), copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


@pytest.mark.parametrize("solution", [False, True], ids=["stub", "solution"])
@pytest.mark.parametrize(("name", "edits", "named_line", "phrase"), CASES)
def test_a_broken_reference_is_an_error_naming_file_and_line(
    broken_reference, name, edits, named_line, phrase, solution
):
    path = broken_reference / name
    text = path.read_text(encoding="utf-8")
    for old, new in edits:
        text = _replace_once(text, old, new)
    path.write_text(text, encoding="utf-8")
    needle, occurrence = named_line
    lines = [
        number
        for number, line in enumerate(text.splitlines(), start=1)
        if line == needle or line.strip().startswith(needle)
    ]
    expected_line = lines[occurrence]

    with pytest.raises(AssignmentError) as raised:
        build_assignment(reference=broken_reference, solution=solution)
    error = raised.value
    assert (error.path, error.line) == (path, expected_line)
    assert str(error).startswith(f"{path}:{expected_line}: ")
    assert phrase in str(error)


def test_the_unbroken_copy_generates_what_the_reference_does(broken_reference):
    """Is the copy itself fine, so that each case above fails for its one edit only?"""
    assert build_assignment(reference=broken_reference) == build_assignment()


def test_regions_of_a_small_file(tmp_path):
    """Is a region found in a plain function and in a method, with its name, docstring summary and indent?"""
    path = tmp_path / "small.py"
    path.write_text(
        'def f(x):\n    """Double x."""\n    # BEGIN SOLUTION\n    return 2 * x\n    # END SOLUTION\n\n\n'
        "class A:\n    def g(self):\n        # BEGIN SOLUTION\n        return 1\n        # END SOLUTION\n",
        encoding="utf-8",
    )
    regions = regions_of(path)
    assert [(r.qualname, r.begin, r.end, r.indent, r.summary) for r in regions] == [
        ("f", 3, 5, "    ", "Double x"),
        ("A.g", 10, 12, "        ", ""),
    ]


def test_a_syntax_error_names_its_line(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("x = 1\ndef f(:\n", encoding="utf-8")
    with pytest.raises(AssignmentError, match=re.escape(f"{path}:2: not valid Python")):
        read_module(path)


def test_a_missing_module_is_named(broken_reference):
    (broken_reference / "experiments" / "runs.py").unlink()
    with pytest.raises(AssignmentError, match=re.escape(str(broken_reference / "experiments" / "runs.py"))):
        build_assignment(reference=broken_reference)
