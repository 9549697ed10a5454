"""The bounds of the sampler's numbers, as the studio and the CLI apply them (src/core/limits.ts says
why each is what it is; tests/test_manifest_corpus.py checks that the values here are the values
there): the manifest validator (manifest.py), the schedule (schedule.Schedule), the sampler's loop
(sampler.py), the pipeline and the kit's --eta / --steps flags all use these.
"""

from __future__ import annotations

import argparse
import math
import numbers
import re

ETA_MIN = 0  # deterministic DDIM
ETA_MAX = 1  # the DDPM-like posterior variance; past it the chains saturate to junk
MAX_T = 10_000  # the longest schedule: T-long tables are built on every load
MAX_RESOLUTION = 4096  # largest H or W of a model
MAX_MANIFEST_DEPTH = 16  # objects and arrays inside one manifest value
MAX_CARD_CHARS = 65_536  # the manifest card's JSON
MAX_MANIFEST_CHARS = 1_048_576  # manifest.json
GUIDANCE_MIN = 0  # classifier-free guidance w: the unconditional model
GUIDANCE_MAX = 20  # past it e0 + w·(e1 − e0) only saturates (1: no guidance)
MAX_ATTRIBUTES = 8  # attributes of one model (docs/contracts.md §6b)
MAX_ATTRIBUTE_VALUES = 64  # values of one attribute (attributes.MAX_VALUES)
MAX_ATTRIBUTE_NAME_CHARS = 32
MAX_ATTRIBUTE_VALUE_CHARS = 64
MAX_LATENT_CHANNELS = 64  # C of an autoencoder's latent (docs/contracts.md §6a)
MAX_LATENT_FACTOR = 64  # its downsampling factor f

ETA_RANGE = f"a number from {ETA_MIN} (deterministic DDIM) to {ETA_MAX} (DDPM-like)"

# digits, an optional fraction and exponent: no hex, inf, nan, underscores or empty text, which
# float() or int() would take as something else than the user meant (limits.ts DECIMAL)
DECIMAL = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")
INTEGER = re.compile(r"^\s*\d+\s*$")


def eta_in_range(eta) -> bool:
    """η is a real number in ETA_MIN … ETA_MAX (not a bool, not NaN)."""
    return isinstance(eta, numbers.Real) and not isinstance(eta, bool) and ETA_MIN <= eta <= ETA_MAX


def check_eta(eta) -> float:
    """η as a float, or ValueError saying what η must be."""
    if not eta_in_range(eta):
        raise ValueError(f"eta must be {ETA_RANGE}, got {eta!r}")
    return float(eta)


def eta_arg(text: str) -> float:
    """argparse type of --eta: a plain decimal in ETA_MIN … ETA_MAX."""
    value = float(text) if DECIMAL.match(text) else math.nan
    if not eta_in_range(value):
        raise argparse.ArgumentTypeError(f"must be {ETA_RANGE}, got {text!r}")
    return value


def steps_arg(text: str) -> int:
    """argparse type of --steps: a whole number of DDIM steps, 1 … MAX_T (the model's T bounds it again)."""
    value = int(text) if INTEGER.match(text) else 0
    if not 1 <= value <= MAX_T:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_T}, got {text!r}")
    return value
