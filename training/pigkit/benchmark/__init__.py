"""Speed: training and sampling timings, the FLOPs of a graph, untrained pairs to time."""
