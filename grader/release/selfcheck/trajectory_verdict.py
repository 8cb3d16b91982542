"""trajectory_verdict.py, in the kit: the grader's own module (grader/judge/trajectory_verdict.py), under the
name the self-check's modules import it by. Not shipped: the bundle holds the module itself (SHARED_FILES)."""

from grader.judge.trajectory_verdict import *  # noqa: F403
