"""pigkit: train, sample and export PIG paired mask/image diffusion models (see ../../shared/METHOD.md)."""

__version__ = "0.1.0"
