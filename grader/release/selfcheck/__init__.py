"""The students' self-check: public cases with the reference's outputs as data, never its code.

`pytest grader [--submission FILE]` from the assignment's folder (the bundle names this folder grader/).
The student's code runs in a child process (worker.py); this side (plugin.py, judge.py) only reads plain
values back and judges them.
"""
