"""The students' README in the bundle."""

README = """# Optimizers: AdaGrad, RMSprop, Momentum and Adam

You write four methods: `Adagrad.adagrad`, `RMSprop.rmsprop`, `Momentum.momentum` and `Adam.adam`, in
`optimizers.py` or in the notebook `optimizers.ipynb` (the same code, with explanations and the
experiments). Each method's docstring gives its update rule. Everything else is given.

## Install

With Python 3.9 or later, in this folder:

```bash
python -m venv .venv
.venv/bin/pip install -r requirements.txt        # Windows: .venv\\Scripts\\pip install -r requirements.txt
.venv/bin/pip install notebook                   # only to work in the notebook
```

PyTorch's site (pytorch.org) says which `torch` to install for your machine; the CPU build is enough.

## Work

- In the `.py`: edit `optimizers.py`; `python optimizers.py` runs the experiments and saves the figures
  into `figures/`.
- In the notebook: `.venv/bin/jupyter notebook optimizers.ipynb`, then run the cells from the top.

## Check your work

```bash
pytest selfcheck                                     # checks optimizers.py
pytest selfcheck --submission optimizers.ipynb      # checks the notebook (as saved: save it first)
pytest selfcheck -k adam                             # one part only
pytest selfcheck --nesterov                          # also the optional Nesterov bonus
```

In the notebook, the last cell runs the same check on the saved notebook file (not on what the kernel
has defined: save before you run it).

Each test is one rubric item, grouped by part (`test_adam[single_step]`, `test_adam[invariants]`...).
A failing test shows the input, what was expected, what your code returned, and, when your outputs match
a classic mistake on every case, its name and how to fix it. The end of the run shows your points per
part; the exit code is 0 only when everything passes. The unchanged files fail exactly the four parts
you write, each saying which method to implement.

Your code runs in a separate process: a crash, an endless loop or `sys.exit()` in one part costs only
that part. Top-level code that defines nothing (plots, prints, training runs) is not run by the check.

## What the points mean

The self-check uses a fixed set of public cases, computed in advance. Your grade comes from the full
tests, which draw many more cases (other shapes, dtypes, magnitudes and hyperparameters) with another
seed. Passing here is a good sign, not a guarantee: code that is right for these cases only, or that
looks the answers up, loses the points when graded.
"""
