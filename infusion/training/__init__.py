"""Training: the objectives (section 3.3.3-3.3.4), the loop, checkpoints and clean stops."""
