"""pigkit: train, sample and export PIG paired mask/image diffusion models (see docs/method.md)."""

__version__ = "0.1.0"
