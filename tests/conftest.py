"""Shared fixtures: the device list, and a deterministic hypothesis profile."""

import os

import pytest
import torch
from hypothesis import settings

from grader.sandbox.launcher import Zygote

# The project's own tests are deterministic: the same examples on every run, no example database.
settings.register_profile("deterministic", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("thorough", derandomize=False, deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))

# The slow families, each a marker registered in pyproject.toml; every test carrying one is also `slow`, so
# `pytest -m "not slow"` is the fast loop (tests/test_markers.py holds this list and the registry equal).
SLOW_FAMILIES = (
    "attacks",
    "container",
    "browser",
    "cluster",
    "release",
    "notebook",
    "platforms",
    "mutants",
    "classes",
    "experiments",
    "selfcheck",
    "commands",
)


# The families whose files take minutes, longest first. With the Quick start's two workers
# (`-n 2 --dist loadfile`, pytest-xdist hands out whole files in collection order), a long file started last
# would leave one worker alone for its minutes; started first, the short files fill the other worker meanwhile.
LONGEST_FIRST = ("container", "attacks", "release", "classes", "cluster", "platforms", "mutants")


def _file_rank(items):
    """Each test file's place in LONGEST_FIRST: the first of its tests' families found there."""
    rank = {}
    for item in items:
        here = [LONGEST_FIRST.index(family) for family in LONGEST_FIRST if item.get_closest_marker(family)]
        rank[item.path] = min([rank.get(item.path, len(LONGEST_FIRST)), *here])
    return rank


def pytest_collection_modifyitems(config, items):
    """Mark `slow` every test of a slow family, so that one word selects or skips them all; run the files of
    the longest families first (a stable sort: within a file, and among the others, the order is kept)."""
    for item in items:
        if any(item.get_closest_marker(family) for family in SLOW_FAMILIES):
            item.add_marker(pytest.mark.slow)
    rank = _file_rank(items)
    items.sort(key=lambda item: rank[item.path])


CUDA_SKIP_REASON = "no CUDA device here (torch.cuda.is_available() is False); the CUDA case runs on a GPU machine"


@pytest.fixture(params=["cpu", "cuda"])
def device(request):
    """Each device a tensor path must work on; CUDA skips with a reason where there is no GPU."""
    if request.param == "cuda" and not torch.cuda.is_available():
        pytest.skip(CUDA_SKIP_REASON)
    return request.param


@pytest.fixture(scope="session")
def zygote():
    """One warm worker process for the session: every test's sandboxes are forks of it."""
    with Zygote() as warm:
        yield warm
