"""Untrusted side: run a submission's top level into a fresh namespace, one statement at a time.

What runs: imports, definitions, assignments, and `if`/`try` blocks (but not `if __name__ == "__main__"`).
What is skipped: bare expressions (`plt.show()`, `train_f(...)`) and top-level loops and `with` blocks,
so a notebook's training and plotting cells cost nothing and cannot hang the grading. A statement that
raises (a blank part's NotImplementedError, a missing file) is recorded and the next one runs, so one
broken cell does not take the other parts down. Each statement has a limit on the CPU time it uses.

Notebook cells arrive as IPython makes them (grader/inputs/notebook.py): `%magic`, `!shell` and `x?` are calls on
`get_ipython()`. Bare, they are expressions, skipped; inside a statement that runs (`files = !ls`, a magic
in an `if`), they reach the `get_ipython` put in the namespace here, as IPython puts its own, which does
nothing and returns None.
"""

import _signal
import ast
import linecache
import signal
import sys
import traceback
import types

from . import precompiled

RUN = (
    ast.Import,
    ast.ImportFrom,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Assign,
    ast.AnnAssign,
    ast.AugAssign,
    ast.If,
    ast.Try,
    ast.Global,
    ast.Delete,
    ast.Pass,
)
STATEMENT_SECONDS = 10.0


class StatementTimeout(BaseException):
    """Raised into a statement that runs too long (a BaseException, so `except Exception` can't eat it)."""


class WallClockTimeout(StatementTimeout):
    """Raised into a call that has waited too long by the wall clock (sleeping, blocked on a lock)."""


def _is_main_guard(node):
    test = node.test
    return (
        isinstance(node, ast.If)
        and isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
    )


class _NoIPython:
    """What `get_ipython()` returns while grading: every IPython call does nothing and returns None."""

    def __getattr__(self, name):
        return _do_nothing

    def __repr__(self):
        return "<no IPython while grading>"


def _do_nothing(*args, **kwargs):
    return None


_NO_IPYTHON = _NoIPython()


def get_ipython():
    return _NO_IPYTHON


def load(chunks, module_name="submission"):
    """Run `chunks` ([(label, filename, source)], a cell each for a notebook) into a new module.

    Returns (module, report): report has `errors` (a list of {where, kind, message}) and `skipped`.
    """
    module = types.ModuleType(module_name)
    module.__file__ = chunks[0][1] if chunks else "<empty>"
    module.get_ipython = get_ipython
    sys.modules[module_name] = module  # dataclasses and pickling look their module up here
    errors, skipped = [], 0
    for label, filename, source in chunks:
        # Lines as Python numbers them (str.splitlines would also break at \f and put tracebacks off).
        linecache.cache[filename] = (len(source), None, precompiled.source_lines(source), filename)
        try:
            tree = ast.parse(source, filename=filename)
        except SyntaxError as error:
            errors.append({"where": f"{label}, line {error.lineno}", "kind": "SyntaxError", "message": error.msg})
            continue
        except (ValueError, RecursionError, MemoryError) as error:
            errors.append({"where": label, "kind": type(error).__name__, "message": str(error)[:300]})
            continue
        for node, text, first in precompiled.statements(tree, precompiled.source_lines(source)):
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                continue  # a docstring or a bare constant: nothing to run, nothing to report
            if not isinstance(node, RUN) or (isinstance(node, ast.If) and _is_main_guard(node)):
                skipped += 1
                continue
            code = precompiled.code_for(node, text, first, filename)
            failure = run_with_time_limit(lambda: exec(code, module.__dict__), STATEMENT_SECONDS)  # noqa: B023 -- called at once, in this iteration
            if failure is not None:
                failure["where"] = f"{label}, line {node.lineno}"
                errors.append(failure)
    return module, {"errors": errors, "skipped": skipped}


def run_with_time_limit(call, seconds, wall_seconds=None):
    """Run call(); return None, or a {kind, message, trace} for what it raised (SystemExit included).

    `seconds` is CPU time (all of this process's threads): on a busy machine a correct call never runs
    out of it, however long it waits for a core. Code that sleeps uses none: `wall_seconds`, several
    times longer, stops it here, as one of the calls of a batch that go on (the grader's own wall-clock
    bound, a little longer still, kills a worker that does not stop).
    """
    if not hasattr(signal, "setitimer"):  # Windows (the students' self-check): no timer; its caller's deadline
        return _reported(call)
    # _signal: signal.signal's enum conversions cost more than the call itself, twice per call.
    previous = _signal.signal(signal.SIGPROF, _raise_timeout)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    if wall_seconds:
        previous_alarm = _signal.signal(signal.SIGALRM, _raise_wall_clock_timeout)
        signal.setitimer(signal.ITIMER_REAL, wall_seconds)
    try:
        return _reported(call)
    except WallClockTimeout:
        return {"kind": "Timeout", "message": f"waited more than {wall_seconds:g} s by the wall clock", "trace": ""}
    except StatementTimeout:
        return {"kind": "Timeout", "message": f"used more than {seconds:g} s of CPU time", "trace": ""}
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        _signal.signal(signal.SIGPROF, previous)
        if wall_seconds:
            signal.setitimer(signal.ITIMER_REAL, 0)
            _signal.signal(signal.SIGALRM, previous_alarm)


def _reported(call):
    """Run call(); None, or a {kind, message, trace} of what it raised (the timeouts pass through)."""
    try:
        call()
        return None
    except StatementTimeout:
        raise
    except SystemExit as error:
        return {"kind": "SystemExit", "message": f"called sys.exit({error.code!r})", "trace": ""}
    except BaseException as error:  # noqa: BLE001 -- student code may raise anything; report it all
        return describe_error(error)


def _raise_wall_clock_timeout(signum, frame):
    raise WallClockTimeout()


def _raise_timeout(signum, frame):
    raise StatementTimeout()


def describe_error(error, limit=6):
    """{kind, message, trace}: the trace keeps only frames from the submission, the last `limit`."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename.startswith("<submission")]
    trace = "".join(traceback.format_list(frames[-limit:]))
    try:
        message = str(error)
    except Exception:  # noqa: BLE001 -- a hostile __str__
        message = "<unprintable>"
    return {"kind": type(error).__name__, "message": message[:500], "trace": trace[-2000:]}
