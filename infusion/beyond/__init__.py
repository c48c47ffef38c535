"""Beyond the paper: the questions it left open, one module and artifact each (the fidelity
ablation of the text against the authors' code, the cross-scoring under common proposals,
lower-bound training, sampling steps, the estimates against k, how far Parzen can be
trusted, and the ladder toward the paper's scale with its gap, :mod:`ladder` and
:mod:`gap`). They read the run's outputs and write through :mod:`infusion.paper.tidy`."""
