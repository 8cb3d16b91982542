"""Batch grading of a whole class: `python -m grader batch SUBMISSIONS_DIR --out OUT`.

`discover` finds the students (plain folders and LMS exports), `replay` grades passing work fast,
`runner` grades in parallel warm lanes and writes each result atomically, `summary` and `report` turn
the results into the gradebook CSV, the class summary and the class report.
"""
