"""A trained pair as a model folder: the ONNX graphs (plain and step), manifest.json, the model card,
float16 and shared-weights variants, and weights read back out of a folder."""
