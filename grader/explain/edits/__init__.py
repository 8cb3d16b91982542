"""The edit search: which small edit of an update rule reproduces a wrong answer exactly. Trusted side.

Standalone on purpose: the package imports only the standard library, numpy (torch tensors are read through
`.detach().cpu().numpy()`, never imported) and `grader.i18n` for the words of its explanations (itself the standard
library only, and shipped verbatim in the student's bundle), so it can be copied verbatim into another package
(the student's bundle) beside that module. It knows nothing of the grader: the caller gives the rule's source, the
probe calls, the hyperparameters and the student's answers.

The idea. An update rule is a few straight-line assignments and a return (`Adam.adam` and its kin). A
student's wrong rule is very often the right one with one or two small edits: an operator changed, two
operands or variables swapped, a term dropped or doubled, a square root added or dropped, epsilon moved,
t shifted by one, a hyperparameter replaced by another or by a constant, the state read before its
update, the returned values in another order. Every such candidate is a function; it explains the
student only if it reproduces every returned value on every probe call (NaN and inf at the same places,
every finite entry within the grading tolerance, an output that is NaN everywhere never agrees).

API (plain data in, plain data out):

    rule = Rule.from_source(source)           # a per-key method's source: `def adam(self, x, ...)` + body
    table = candidate_table(rule, calls, hyper, init_lr)    # every single edit's outputs on the calls
    found = explain(rule, calls, answers, hyper=hyper, init_lr=init_lr, table=table,
                    rtol=FLOAT32_RTOL, sequences=[...], checks=[...])
    found.text, found.to_dict(), found.readings   # or None: nothing within two edits reproduces the answers

`calls`: the probe calls, each the list of arguments after `self` and before `init_lr`
([x, gradient_x, *state], tensors, arrays or numbers); `answers`: what the student's method returned for
each (a tuple, or None where it raised: then nothing is explained). `sequences`: `step()` runs to confirm
a candidate on, each `(params, gradients, trajectory, hyper, init_lr, unit)` with `params` key -> start,
`gradients` one dict per step, `trajectory` the student's parameters after each step (None where step()
failed) and `unit` the dtype's unit roundoff; `checks`: more single calls to confirm on, each
`(arguments, answer, hyper, init_lr, rtol)`. `simulate_steps(rule, candidate, ...)` runs the course's
step() loop with a candidate (None: the rule itself).

Cost: the candidates do not depend on the student, so `candidate_table` computes the single edits'
outputs once (keep the table: it also remembers each student's search); `explain` matches the student
with numpy, then tries pairs of edits where the student's answers allow them, every pair of edits in two
statements evaluated for all first edits at once.

The modules, by concern (the public names above are re-exported here, so `grader.explain.edits` is the API):

    rule.py         reading a per-key method into SSA expressions (Rule, RuleError), and writing them back as text
    evaluate.py     evaluating expressions with numpy on every probe call at once
    operators.py    the edits a student makes (Edit) and a rule with one or two of them (Candidate)
    table.py        candidate_table: every single edit's outputs, computed once per rule (Table)
    pairs.py        a second edit, tried only where the student's answers allow it
    matching.py     the grading rule a candidate must meet on every returned value (FLOAT32_RTOL)
    steps.py        simulate_steps: the course's step() loop with a candidate, and its k-step tolerance
    explanation.py  Explanation: the rule's line beside the student's, in words and as data
    search.py       explain: match, confirm, and choose the readings to show
"""

from __future__ import annotations

from .explanation import Explanation
from .matching import FLOAT32_RTOL
from .operators import Candidate, Edit
from .rule import Rule, RuleError
from .search import explain
from .steps import simulate_steps
from .table import Table, candidate_table

__all__ = [
    "FLOAT32_RTOL",
    "Candidate",
    "Edit",
    "Explanation",
    "Rule",
    "RuleError",
    "Table",
    "candidate_table",
    "explain",
    "simulate_steps",
]
