"""The one context of a model's forward passes: its device, its precision, its compilation.

Every forward-pass entry of the package (training steps and curves, the estimates of
Table 3.1, sampling, inpainting) runs inside :func:`computing`::

    with computing(model, settings.precision, settings.compile):
        ...forward passes...

The device is the model's own (where its parameters and prior live, chosen when the model
was built or loaded); the precision context (``infusion.runtime.precision``) is entered for
that device; the operator is compiled as ``compile`` says (``infusion.runtime.compilation``),
once: entering the context again with the same mode compiles nothing. With the defaults
(``fp32``, ``none``) the context does nothing at all: the faithful eager float32 path.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from infusion.runtime.compilation import compile_operator
from infusion.runtime.precision import precision_context


@contextlib.contextmanager
def computing(model, precision: str = "fp32", compile: str = "none") -> Iterator[None]:
    """Run the enclosed forward passes of ``model`` (an ``InfusionModel``) on its device at
    ``precision``, its operator compiled as ``compile`` says (see the module doc)."""
    compile_operator(model, compile)
    with precision_context(precision, model.prior_mean.device):
        yield
