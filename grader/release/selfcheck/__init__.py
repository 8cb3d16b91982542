"""The students' self-check: public cases with the reference's outputs as data, never its code.

`pytest grader [--submission FILE]` from the assignment's folder (the bundle names this folder grader/).
The student's code runs in a child process (worker.py); this side (plugin.py, judge.py) only reads plain
values back and judges them. It speaks the release's language (language.json), with the kit's language module
shipped unchanged as the bundle's grader/i18n/ and the release's compiled catalogs beside it; its modules
import it as `from .i18n import _` (in the kit, the shim i18n.py).
"""
