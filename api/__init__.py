"""The report structuring service (FastAPI, layer 2): nothing in rsuper imports it."""
