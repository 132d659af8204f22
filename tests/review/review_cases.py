"""Helpers shared by the review-loop tests (imported as ``review_cases``)."""

from __future__ import annotations

import csv
from pathlib import Path

REPORTS = [
    ("acc-1", "LIVER: 3.2 x 2.1 cm hypoattenuating mass in segment VII. PANCREAS: Unremarkable."),
    ("acc-2", "FINDINGS: Liver, pancreas, spleen and kidneys are unremarkable."),
]
"""Two reports: one liver lesion of 32 x 21 mm (rules backend), one healthy exam."""


def write_reports_csv(path: Path) -> Path:
    """Write :data:`REPORTS` as a CSV with an accession-number and a findings column."""
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Accession Number", "Findings"])
        writer.writerows(REPORTS)
    return path
