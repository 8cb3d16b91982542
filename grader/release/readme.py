"""The students' README in the bundle, in the release's language: one message per paragraph or heading;
in a block of commands only the comments are messages, so that a translation keeps each command as it is."""

from grader.i18n import N_, _

#: What the prose names as {placeholders}: commands and file names stay out of the messages' words.
NAMES = {
    "run": "python optimizers.py",
    "jupyter": "jupyter notebook optimizers.ipynb",
    "stub": "optimizers.py",
}


class Commands(tuple):
    """A ```bash block: (the command, padded to where its comment starts; its comment, or None) per line."""


#: The README's blocks, in order; each is translated where the README is written (`readme()`).
BLOCKS = (
    N_("# Optimizers: AdaGrad, RMSprop, Momentum and Adam"),
    N_(
        """You write four methods: `Adagrad.adagrad`, `RMSprop.rmsprop`, `Momentum.momentum` and `Adam.adam`, in
`optimizers.py` or in the notebook `optimizers.ipynb` (the same code, with explanations and the
experiments). Each method's docstring gives its update rule. Everything else is given."""
    ),
    N_("## Install"),
    N_(
        """You need Python 3.10 or later. In a terminal, in this folder (the one holding `optimizers.py` and
`grader/`), make a virtual environment and activate it:"""
    ),
    # Translators: a Markdown table: keep its | and the commands in backquotes.
    N_(
        """| | make it (once) | activate it (in every new terminal) |
|---|---|---|
| Linux, macOS | `python3 -m venv .venv` | `source .venv/bin/activate` |
| Windows, PowerShell | `py -m venv .venv` | `.venv\\Scripts\\Activate.ps1` |
| Windows, cmd | `py -m venv .venv` | `.venv\\Scripts\\activate.bat` |"""
    ),
    N_("Your prompt then starts with `(.venv)`, and `python` and `pytest` are the environment's. In it:"),
    Commands(
        (
            ("python -m pip install --upgrade pip", None),
            (
                "python -m pip install torch --index-url https://download.pytorch.org/whl/cpu   ",
                N_("Linux, Windows: the CPU-only build"),
            ),
            (
                "python -m pip install torch                                                   ",
                N_("macOS (its build has no CUDA)"),
            ),
            (
                "python -m pip install -r requirements.txt        ",
                N_("numpy, matplotlib, pillow, pytest (torch is already there)"),
            ),
            ("python -m pip install notebook                   ", N_("only to work in the notebook")),
        )
    ),
    N_(
        """The CPU-only build of torch (a few hundred MB) is all this assignment needs. With an NVIDIA GPU you may
install a CUDA build instead (several GB): pytorch.org's "Get started" page gives the command for your
machine; the self-check then also runs your code on the GPU."""
    ),
    N_("## Work"),
    N_(
        """- In the `.py`: edit `{stub}`; `{run}` runs the experiments and saves the figures
  into `figures/`.
- In the notebook: `{jupyter}` (with the environment active), then run the
  cells from the top."""
    ),
    N_("## Check your work"),
    Commands(
        (
            # Translators: {stub} is the file's name, optimizers.py.
            ("pytest grader                                     ", N_("checks {stub}")),
            ("pytest grader --submission optimizers.ipynb      ", N_("checks the notebook (as saved: save it first)")),
            ("pytest grader -k adam                             ", N_("one part only")),
            ("pytest grader --nesterov                          ", N_("also the optional Nesterov bonus")),
        )
    ),
    N_(
        """In the notebook, the last cell runs the same check on the saved notebook file (this notebook, or the
one you name in the cell; not what the kernel has defined: save before you run it). It says which file
it checked."""
    ),
    N_(
        """Each test is one rubric item, grouped by part (`test_adam[single_step]`, `test_adam[invariants]`...).
A failing test shows the input, what was expected, what your code returned, and, when your outputs match
a classic mistake on every case, its name and how to fix it; what your code printed while that part ran
is shown under it, as pytest shows a test's output. The end of the run names the file checked and shows
your points per part; the exit code is 0 only when everything passes. The unchanged files fail exactly
the four parts you write, each saying which method to implement. A file that Python cannot read or
parse gets its error, with the line, first."""
    ),
    N_(
        """Your code runs in a separate process: a crash, an endless loop or `sys.exit()` in one part costs only
that part. At the top level of your file, imports, definitions (`class`, `def`), assignments and the
`if`/`try` blocks around them run, each within 10 s of CPU time, as they may define what your code
needs: an assignment that trains (`points, losses = train_f(...)`) runs too. Expressions (plots,
`print`s, a bare `train_f(...)`), loops, `with` blocks and `if __name__ == "__main__":` blocks do not
run during the check; grading treats your file the same way."""
    ),
    N_(
        """If the check says a package is missing, the environment is not active or not complete: activate it (see
Install) and run `python -m pip install -r requirements.txt`; `python -m pytest grader` uses the
environment's Python for certain."""
    ),
    N_("## What the points mean"),
    N_(
        """The self-check uses a fixed set of public cases, computed in advance. Your grade comes from the full
tests, which draw many more cases (other shapes, dtypes, magnitudes and hyperparameters) with another
seed. Passing here is a good sign, not a guarantee: code that is right for these cases only, or that
looks the answers up, loses the points when graded."""
    ),
)


def _block(block):
    if isinstance(block, Commands):
        lines = [command if comment is None else f"{command}# {_(comment)}" for command, comment in block]
        return "\n".join(["```bash", *lines, "```"]).format(**NAMES)
    return _(block).format(**NAMES)


def readme():
    """README.md in the language this process speaks (English: as written above)."""
    return "\n\n".join(_block(block) for block in BLOCKS) + "\n"
