"""Trusted side: where a verdict is made. The rubric's parts, the checks and property tests that judge
them (single steps, step sequences, invariants, the trajectory), the strategies that draw their inputs,
the comparison and its tolerance, and torch.optim as a second oracle."""
