"""Training: the objectives (section 3.3.3-3.3.4), the loop, checkpoints bound to
their run, and clean stops."""
