"""Sampling chains from noise (Fig 3.1, 3.4, 3.5) and inpainting (Fig 3.6)."""
