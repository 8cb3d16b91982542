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


def pytest_collection_modifyitems(config, items):
    """Mark `slow` every test of a slow family, so that one word selects or skips them all."""
    for item in items:
        if any(item.get_closest_marker(family) for family in SLOW_FAMILIES):
            item.add_marker(pytest.mark.slow)


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
