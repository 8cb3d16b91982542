"""The code that runs inside the sandbox, beside student code: the zygote, the confinement it applies to
each child, the loader and the operations the trusted side may ask for.

Nothing here judges or knows an answer: it imports only itself, `grader.sandbox.protocol`, the standard library,
torch and numpy (tests/test_layers.py holds this), so patching it from student code gains nothing.
"""
