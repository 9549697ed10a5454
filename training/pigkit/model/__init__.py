"""The networks and the sampler: the U-Net, the schedule and DDIM update, the seeded noise, B(·), the
reference joint loop, latent PIG's autoencoder and latent data, and the bounds of the sampler's numbers."""
