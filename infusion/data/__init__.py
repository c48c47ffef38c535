"""Datasets: the registry, the MNIST family, natural images, sources and checksummed downloads."""
