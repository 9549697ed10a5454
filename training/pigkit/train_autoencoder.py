"""The entry point of `python3 -m pigkit.train_autoencoder` and `pig-train-autoencoder`;
the code lives in pigkit/training/train_autoencoder.py.

Train latent PIG's image autoencoder on random crops of the training folds.
"""

import sys

from pigkit.training.train_autoencoder import main

if __name__ == "__main__":
    sys.exit(main())
