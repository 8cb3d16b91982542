"""step_verdicts.py, in the kit: the grader's own module (grader/judge/step_verdicts.py), under the name the self-check's
modules import it by. Not shipped: the bundle holds the module itself (contents.SHARED_FILES)."""

from grader.judge.step_verdicts import *  # noqa: F403
