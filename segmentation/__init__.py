"""rsuper segmentation, the training consumer: report facts and targets (``records``, ``targets``),
the R-Super losses (``losses``), the data pipeline (``data``), networks, the trainer (``training``),
inference and evaluation. The phantom cohort it trains on in the demo lives in the ``phantom`` package."""
