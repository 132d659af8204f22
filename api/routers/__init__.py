"""One router per resource: extractions, jobs, reports, health, metrics."""
