"""Makes `pytest grader` the students' self-check: the hooks live in grader/plugin.py."""

from grader.plugin import (  # noqa: F401 -- pytest finds hooks and fixtures by name here
    grading_context,
    pytest_addoption,
    pytest_configure,
    pytest_generate_tests,
    pytest_report_header,
    pytest_terminal_summary,
    pytest_unconfigure,
)
