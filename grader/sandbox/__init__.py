"""Trusted side: the grader's end of the sandbox. It starts the confined worker (`launcher`), talks to it
(`client`) in the wire format both ends speak (`protocol`). The other end, the code that runs beside
student code, is `grader/untrusted/`."""
