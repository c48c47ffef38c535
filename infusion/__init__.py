"""Infusion training (Bordes, Honari, Vincent, ICLR 2017), reproduced."""

__version__ = "0.1.0"
