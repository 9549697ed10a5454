"""The kit's public pipeline, `from pigkit.pipeline import PigPipeline` (docs/pipeline.md); the code
lives in pigkit/inference/pipeline.py."""

from pigkit.inference.pipeline import PigPipeline, PigPipelineOutput, PipelineFrame

__all__ = ["PigPipeline", "PigPipelineOutput", "PipelineFrame"]
