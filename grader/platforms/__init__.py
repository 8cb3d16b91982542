"""Platforms that run the grader themselves: Gradescope, PrairieLearn and GitHub Classroom.

A module per platform writes what the platform needs (an autograder zip, a question's grading image, a
workflow) and turns one GradeReport into that platform's results file. `kit` builds the wheel of this
checkout that each of them installs; `runner` grades a submission for them, writing a results file
whatever happens. The formats' facts, with their sources: lms-formats.md.
"""
