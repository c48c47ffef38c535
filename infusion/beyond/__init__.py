"""Beyond the paper: the fidelity ablation (the paper's text against the authors' code)."""
