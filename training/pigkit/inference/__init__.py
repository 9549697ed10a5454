"""Running an exported model folder: ONNX Runtime sessions, the PigPipeline, the golden fixtures."""
