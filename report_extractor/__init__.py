"""Report text → validated tumor records: backends, prompts, grounding, verification, batch pipeline.

Layer 1: depends on :mod:`schemas` only. It never imports torch, MONAI or the store; batch results go
to any object that satisfies :class:`report_extractor.pipeline.ResultSink` (the store does).
"""
