"""The students' README in the bundle."""

README = """# Optimizers: AdaGrad, RMSprop, Momentum and Adam

You write four methods: `Adagrad.adagrad`, `RMSprop.rmsprop`, `Momentum.momentum` and `Adam.adam`, in
`optimizers.py` or in the notebook `optimizers.ipynb` (the same code, with explanations and the
experiments). Each method's docstring gives its update rule. Everything else is given.

## Install

You need Python 3.10 or later. In a terminal, in this folder (the one holding `optimizers.py` and
`grader/`), make a virtual environment and activate it:

| | make it (once) | activate it (in every new terminal) |
|---|---|---|
| Linux, macOS | `python3 -m venv .venv` | `source .venv/bin/activate` |
| Windows, PowerShell | `py -m venv .venv` | `.venv\\Scripts\\Activate.ps1` |
| Windows, cmd | `py -m venv .venv` | `.venv\\Scripts\\activate.bat` |

Your prompt then starts with `(.venv)`, and `python` and `pytest` are the environment's. In it:

```bash
python -m pip install --upgrade pip
python -m pip install torch --index-url https://download.pytorch.org/whl/cpu   # Linux, Windows: the CPU-only build
python -m pip install torch                                                   # macOS (its build has no CUDA)
python -m pip install -r requirements.txt        # numpy, matplotlib, pillow, pytest (torch is already there)
python -m pip install notebook                   # only to work in the notebook
```

The CPU-only build of torch (a few hundred MB) is all this assignment needs. With an NVIDIA GPU you may
install a CUDA build instead (several GB): pytorch.org's "Get started" page gives the command for your
machine; the self-check then also runs your code on the GPU.

## Work

- In the `.py`: edit `optimizers.py`; `python optimizers.py` runs the experiments and saves the figures
  into `figures/`.
- In the notebook: `jupyter notebook optimizers.ipynb` (with the environment active), then run the
  cells from the top.

## Check your work

```bash
pytest grader                                     # checks optimizers.py
pytest grader --submission optimizers.ipynb      # checks the notebook (as saved: save it first)
pytest grader -k adam                             # one part only
pytest grader --nesterov                          # also the optional Nesterov bonus
```

In the notebook, the last cell runs the same check on the saved notebook file (this notebook, or the
one you name in the cell; not what the kernel has defined: save before you run it). It says which file
it checked.

Each test is one rubric item, grouped by part (`test_adam[single_step]`, `test_adam[invariants]`...).
A failing test shows the input, what was expected, what your code returned, and, when your outputs match
a classic mistake on every case, its name and how to fix it; what your code printed while that part ran
is shown under it, as pytest shows a test's output. The end of the run names the file checked and shows
your points per part; the exit code is 0 only when everything passes. The unchanged files fail exactly
the four parts you write, each saying which method to implement. A file that Python cannot read or
parse gets its error, with the line, first.

Your code runs in a separate process: a crash, an endless loop or `sys.exit()` in one part costs only
that part. At the top level of your file, imports, definitions (`class`, `def`), assignments and the
`if`/`try` blocks around them run, each within 10 s of CPU time, as they may define what your code
needs: an assignment that trains (`points, losses = train_f(...)`) runs too. Expressions (plots,
`print`s, a bare `train_f(...)`), loops, `with` blocks and `if __name__ == "__main__":` blocks do not
run during the check; grading treats your file the same way.

If the check says a package is missing, the environment is not active or not complete: activate it (see
Install) and run `python -m pip install -r requirements.txt`; `python -m pytest grader` uses the
environment's Python for certain.

## What the points mean

The self-check uses a fixed set of public cases, computed in advance. Your grade comes from the full
tests, which draw many more cases (other shapes, dtypes, magnitudes and hyperparameters) with another
seed. Passing here is a good sign, not a guarantee: code that is right for these cases only, or that
looks the answers up, loses the points when graded.
"""
