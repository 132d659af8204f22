"""Phantom cohort generator: synthetic CT-like abdomens with organ / sub-segment masks, tumor masks and
free-text radiology reports, so the whole R-Super loop (extract reports → train with report supervision →
evaluate) runs on a laptop.

A package of its own beside ``report_extractor`` and ``segmentation``: it writes data for both (reports
for the extractor, volumes and masks for the training consumer) and imports only ``schemas``.
Modules: ``config`` (the knobs), ``anatomy`` (organs, sub-segments, tissues), ``lesions`` (placement,
size, contrast), ``intensity`` (the CT rendering), ``phrases`` / ``sentences`` / ``reports`` (report
text in several styles, with the truth of what each report says), ``cohort`` (cases, splits, files).

Usage::

    from phantom import PhantomConfig, generate_cohort
    summary = generate_cohort(Path("phantom"), n_mask=10, n_report=60, n_val=10, n_test=20, seed=0)

Orientation: every volume is RAS+ with a diagonal affine holding the real voxel spacing (mm):
array axis 0 → **+x = patient right**, axis 1 → +y = anterior, axis 2 → +z = superior. The liver and
``kidney_right`` lie at larger x than the spleen and ``kidney_left``; reports use the patient's sides.

Output layout (stable; the training code consumes exactly this)::

    OUT/
      labels.json        {"organs": {"1": "liver_segment_1", ..., "8": "liver_segment_8",
                          "9": "pancreas_head", "10": "pancreas_body", "11": "pancreas_tail",
                          "12": "kidney_left", "13": "kidney_right", "14": "spleen"},
                          "tumors": {"1": "liver", "2": "pancreas", "3": "kidney"},
                          "spacing_mm": [...], "orientation": "..."}
      manifest.csv       case_id, image, organ_mask, tumor_mask, report_id, split, role
                         paths relative to OUT; split: train / val / test; role: "mask" (train, tumor mask
                         used in training), "report" (train, training sees only the report; the mask is on
                         disk for evaluation), "test" (val and test cases: evaluation only)
      reports.csv        "Accession Number", "Findings" (Merlin-style; report_id = accession number; the
                         whole report text, IMPRESSION included, is in "Findings")
      truth.jsonl        one schemas.records.ReportExtraction per case, in manifest order: what the REPORT
                         says (provenance backend "phantom-truth"; evidence quotes with exact spans), so
                         omitted lesions and "multiple" groups are reflected as written
      truth_masks.jsonl  one JSON per case: mask-level lesions (organ, tumor_label, centre mm, true principal
                         diameters mm, voxels, contrast HU, sub-segment names, side, pole, pancreas part,
                         "reported": individual / multiple / omitted, "truth_index" into truth lesions),
                         stone, steatosis, report style
      cases/<case_id>/ct.nii.gz      int16 HU
      cases/<case_id>/organs.nii.gz  uint8 label map per labels.json
      cases/<case_id>/tumors.nii.gz  uint8: 1 liver, 2 pancreas, 3 kidney lesion voxels

Generation is deterministic: the same seed (and config) gives the same bytes; case ``i`` depends only on
``(seed, i)``.
"""

from phantom.cohort import (
    CohortSummary,
    PhantomCase,
    generate_case,
    generate_cohort,
    generate_cohort_simple,
)
from phantom.config import PhantomConfig, ReportStyle

__all__ = [
    "CohortSummary",
    "PhantomCase",
    "PhantomConfig",
    "ReportStyle",
    "generate_case",
    "generate_cohort",
    "generate_cohort_simple",
]
