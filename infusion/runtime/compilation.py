"""Compiling the transition operator with ``torch.compile``: ``compile: none | default |
reduce-overhead``.

``none``             eager PyTorch: the reference path, no compile time (the default).
``default``          torch.compile's default mode: inductor fuses the operator's batch norm,
                     ReLU and sigmoid heads around its matrix products (C++ with OpenMP on a
                     CPU, Triton kernels on a GPU), so a step launches far fewer kernels.
``reduce-overhead``  the same, and on CUDA each step's kernels are replayed as one CUDA graph
                     (per-kernel launch overhead gone: the MNIST MLP at batch 512 is launch
                     bound on a large GPU). On a CPU it is ``default``.

Only the operator is compiled. The chain's random draws stay in eager PyTorch on the run's
``torch.Generator``, so a compiled run draws exactly the numbers an eager run draws and
differs from it by floating-point rounding alone (``tests/test_compilation.py`` bounds the
difference). The first calls compile: once per batch-norm mode (training, scoring), with and
without gradients; ``step`` and the batch size become dynamic after their second value, so
all T steps share one compiled graph. That costs tens of seconds on a CPU, which only a long
run repays.
"""

from __future__ import annotations

COMPILE_MODES = ("none", "default", "reduce-overhead")
# Distinct compiled graphs one operator may need: 3 batch-norm modes (minibatch, minibatch
# while pooling statistics, population) x with/without gradients x static/dynamic sizes.
RECOMPILE_LIMIT = 16


def check_compile_mode(mode: str) -> None:
    """Raise ``ValueError`` naming the ``compile`` field unless ``mode`` is known."""
    if mode not in COMPILE_MODES:
        raise ValueError(f"compile must be one of {COMPILE_MODES}, got {mode!r}")


def compile_operator(model, mode: str) -> None:
    """Compile an ``InfusionModel``'s ``operator.forward`` in place (parameters and
    state_dict unchanged).

    Under ``reduce-overhead`` the forward returns copies of the graph's outputs: a CUDA graph
    writes every replay into the same memory, and a step's mean and variance must outlive
    the next step (the sampling chain keeps every step's mean).

    Compiling is done once: asked again for the mode it was compiled in, nothing happens;
    asked for another mode, ``ValueError`` naming both.
    """
    check_compile_mode(mode)
    operator = model.operator
    current = getattr(operator, "compile_mode", "none")
    if mode == current:
        return
    if current != "none":
        raise ValueError(f"the operator is compiled as {current!r}; compile {mode!r} asked for")
    import torch  # here, so that settings (and the CLI's --help) need no torch

    torch._dynamo.config.recompile_limit = max(
        torch._dynamo.config.recompile_limit, RECOMPILE_LIMIT
    )
    compiled = torch.compile(operator.forward, mode=None if mode == "default" else mode)
    if mode == "default":
        operator.forward = compiled
    else:

        def forward(z, step):
            return tuple(t.clone() for t in compiled(z, step))

        operator.forward = forward
    operator.compile_mode = mode
