"""How good a trained pair is: mask statistics, texture, fidelity, the segmenter, the downstream table."""
