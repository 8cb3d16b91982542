"""Grades back to the LMS: fill Canvas's exported gradebook and Moodle's grading worksheet from a batch's OUT.

`python -m grader gradebook canvas OUT --export GRADEBOOK.csv --assignment TITLE` and
`python -m grader gradebook moodle OUT --worksheet WORKSHEET.csv` (see canvas.py, moodle.py). Each reads
the results the batch wrote (`OUT/results/*.json`, which carry the LMS's ids), fills the file the LMS
gave, and never writes anything the importer would take for something else.
"""

from grader.errors import OptimkitError


class GradebookError(OptimkitError, ValueError):
    """The gradebook cannot be written (a file unreadable, not the LMS's format, ambiguous): one line."""
