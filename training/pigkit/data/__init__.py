"""Training data: folders of image/mask pairs (pairs.py), packed datasets (pack.py), case attributes."""
