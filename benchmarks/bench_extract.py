"""Throughput and peak memory of ``rsuper extract --backend rules`` on generated report tables.

Not a test. Generates CSVs of N synthetic reports (templated, varied: lesions, negations, distractor
measurements, priors), runs the real command line in a subprocess against a fresh SQLite store, and
reports reports/s and the child's peak RSS. Memory must stay flat as N grows (streaming).

Usage:
    python benchmarks/bench_extract.py --sizes 10000 100000
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ORGAN_LINES = {
    "liver": [
        "LIVER: {a} x {b} cm hypoattenuating lesion in segment {seg}.",
        "LIVER: No focal hepatic lesion. Mild steatosis.",
        "LIVER: Multiple hypodense metastases, the largest {a} cm in segment {seg}.",
        "LIVER: {mm} mm cyst in the right lobe, previously {prev} mm.",
    ],
    "pancreas": [
        "PANCREAS: {a} x {b} cm hypoenhancing mass in the pancreatic {part}.",
        "PANCREAS: Unremarkable. Main duct measures 2 mm.",
        "PANCREAS: No focal pancreatic mass.",
    ],
    "kidney": [
        "KIDNEYS: {mm} mm cyst in the {side} kidney {pole} pole. Right kidney measures 11 cm.",
        "KIDNEYS: Nonobstructing {mm} mm stone in the {side} kidney. No renal mass.",
        "KIDNEYS: Normal.",
    ],
    "other": [
        "SPLEEN: Normal in size, measuring {spleen} cm.",
        "VESSELS: Aorta measures {aorta} cm. Common bile duct {cbd} mm.",
        "LYMPH NODES: {node} cm short-axis periportal node.",
    ],
}
ROMAN = ["I", "II", "III", "IVa", "V", "VI", "VII", "VIII"]


def make_report(rng: random.Random) -> str:
    """One synthetic FINDINGS + IMPRESSION report (a few hundred characters)."""
    values = {
        "a": f"{rng.uniform(1.0, 6.0):.1f}",
        "b": f"{rng.uniform(0.5, 1.0):.1f}",
        "seg": rng.choice(ROMAN + [str(i) for i in range(1, 9)] + ["4/5", "6-7"]),
        "mm": rng.randint(4, 40),
        "prev": rng.randint(3, 30),
        "part": rng.choice(["head", "body", "tail", "uncinate process", "neck"]),
        "side": rng.choice(["left", "right"]),
        "pole": rng.choice(["upper", "lower"]),
        "spleen": f"{rng.uniform(8, 13):.1f}",
        "aorta": f"{rng.uniform(1.8, 3.2):.1f}",
        "cbd": rng.randint(3, 9),
        "node": f"{rng.uniform(0.5, 1.5):.1f}",
    }
    lines = ["FINDINGS:"] + [rng.choice(group).format(**values) for group in ORGAN_LINES.values()]
    lines += ["IMPRESSION:", rng.choice(["No acute abnormality.", "Findings as above.", "See findings."])]
    return "\n".join(lines)


def write_table(path: Path, n: int, seed: int = 0) -> None:
    """Write ``n`` reports as a Merlin-style CSV (Accession Number, Findings)."""
    rng = random.Random(seed)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Accession Number", "Findings"])
        for i in range(n):
            writer.writerow([f"ACC{i:07d}", make_report(rng)])


def run(n: int, workdir: Path, batch_size: int) -> tuple[float, float]:
    """Extract ``n`` reports; returns (reports/s, peak RSS of the child in MiB)."""
    table = workdir / f"reports_{n}.csv"
    write_table(table, n)
    db = workdir / f"store_{n}.db"
    cmd = [
        sys.executable,
        "-m",
        "rsuper_cli",
        "extract",
        str(table),
        "--backend",
        "rules",
        "--store",
        f"sqlite:///{db}",
        "--batch-size",
        str(batch_size),
    ]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS (KiB on Linux)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"rsuper extract failed on {n} reports")
    return n / seconds, usage.ru_maxrss / 1024


def main() -> None:
    """Run the benchmark and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()
    print("| reports | reports/s (wall, incl. startup and store commits) | peak RSS (MiB) |")
    print("|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            rate, rss = run(n, Path(tmp), args.batch_size)
            print(f"| {n:,} | {rate:,.0f} | {rss:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
