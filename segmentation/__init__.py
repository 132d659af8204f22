"""rsuper segmentation: report targets, R-Super losses (and, later, data pipeline, trainer, inference)."""
