"""The untrusted worker and the trusted side's handle on it.

Untrusted (runs student code, imports nothing of the grader's judgement): `zygote`, `sandbox`,
`loader`, `operations`. Trusted: `launch` (starts the zygote; standard library only, so it can start
before torch is imported) and `client` (one sandboxed submission: load, calls, timeouts, restarts).
`protocol` is shared: framed JSON with tensors as bytes, never pickle.
"""
