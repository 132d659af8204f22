"""Where does each arm put its lesion voxels? A diagnostic of a method-benchmark (or demo) folder.

Not a test. For each organ and arm, over the test cases: the predicted lesion volume as a share of the
true one (did the Volume Loss push mass?), the share of predicted voxels inside true lesions (did the
Ball Loss put it on the right blob?), and the predicted voxels in organs without a lesion.

    python benchmarks/diagnose_arms.py bench-method/seed-0 bench-method/seed-1 --arms A B C D
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import nibabel as nib
import numpy as np

TUMOR_VALUES = {"liver": 1, "pancreas": 2, "kidney": 3}


def diagnose(folder: Path, arm: str) -> dict[str, dict[str, int]]:
    """Voxel counts per organ of one arm's test predictions: ``pred``, ``true``, ``inside`` (both),
    ``healthy`` (predicted in an organ without a lesion)."""
    cohort = folder / "cohort"
    with (cohort / "manifest.csv").open(newline="") as fh:
        manifest = {row["case_id"]: row for row in csv.DictReader(fh)}
    pred_dir = folder / "predictions" / f"arm-{arm}"
    with (pred_dir / "predictions.csv").open(newline="") as fh:
        rows = [row for row in csv.DictReader(fh) if row["split"] == "test"]
    counts = {organ: dict.fromkeys(("pred", "true", "inside", "healthy"), 0) for organ in TUMOR_VALUES}
    for row in rows:
        tumors = np.asarray(nib.load(str(cohort / manifest[row["case_id"]]["tumor_mask"])).dataobj)
        for organ, value in TUMOR_VALUES.items():
            pred = np.asarray(nib.load(str(pred_dir / row[f"prob_{organ}"])).dataobj) > 0.5
            truth = tumors == value
            c = counts[organ]
            c["pred"] += int(pred.sum())
            c["true"] += int(truth.sum())
            c["inside"] += int((pred & truth).sum())
            c["healthy"] += 0 if truth.any() else int(pred.sum())
    return counts


def main() -> None:
    """Print one Markdown table per folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="+")
    parser.add_argument("--arms", nargs="+", default=["A", "B", "C", "D"])
    args = parser.parse_args()
    for folder in args.folders:
        print(f"\n{folder}\n")
        print("| organ | arm | predicted / true volume | share inside lesions | voxels in healthy organs |")
        print("|---|---|---|---|---|")
        results = {arm: diagnose(folder, arm) for arm in args.arms}
        for organ in TUMOR_VALUES:
            for arm, counts in results.items():
                c = counts[organ]
                print(
                    f"| {organ} | {arm} | {c['pred'] / max(c['true'], 1):.2f} | "
                    f"{c['inside'] / max(c['pred'], 1):.2f} | {c['healthy']} |"
                )


if __name__ == "__main__":
    main()
