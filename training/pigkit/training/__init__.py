"""Training: the U-Net trainer (train.py), the autoencoder's, their objectives and checkpoints, the loss curve."""
