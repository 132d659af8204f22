"""CPU cost per report of the in-process ``rules`` path, on the 524 reports of the evaluation sets.

Not a test. Measures CPU time (``time.process_time``; wall time means little on a shared machine) of:

* ``rules``: :func:`report_extractor.rules.extract_report` alone (text → ``LLMReport``);
* ``engine``: :func:`report_extractor.batch.extract_batch` with the ``rules`` backend, in batches as
  ``POST /v1/extractions:batch`` calls it (text → validated, grounded ``ReportExtraction`` records).

``--dump PATH`` writes every engine record as JSON, one per line, with ``duration_s`` and ``created_at``
fixed, so two runs can be compared byte for byte (an optimisation must not change any output).
``--profile`` prints the hottest functions of one engine pass (``--batch`` reports per call).

Usage:
    python benchmarks/bench_rules_cpu.py --repeat 5
    python benchmarks/bench_rules_cpu.py --dump /tmp/records.jsonl --repeat 0
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from report_extractor.backends import create_backend
from report_extractor.batch import extract_batch
from report_extractor.engine import Extractor, ReportInput
from report_extractor.evaluation import DEV_PATHS, FINAL2_PATH, FINAL_PATH, load_devset
from report_extractor.rules import extract_report

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def load_reports() -> list[ReportInput]:
    """Every report of the four evaluation files (the dev set, then both final parts), in file order."""
    return [ReportInput(case.id, case.text) for case in load_devset((*DEV_PATHS, FINAL_PATH, FINAL2_PATH))]


def engine_pass(extractor: Extractor, reports: list[ReportInput], batch: int) -> list[str]:
    """One pass of the batch engine; every record as JSON, its clock fields fixed."""
    out = []
    for start in range(0, len(reports), batch):
        for outcome in extract_batch(reports[start : start + batch], extractor):
            record = outcome.record
            assert record is not None
            fixed = {"duration_s": 0.0, "created_at": _EPOCH}
            record = record.model_copy(update={"provenance": record.provenance.model_copy(update=fixed)})
            out.append(record.model_dump_json())
    return out


def cpu_ms_per_report(run: Callable[[], object], n: int, repeat: int) -> list[float]:
    """CPU milliseconds per report of ``repeat`` calls of ``run`` (one call handles ``n`` reports)."""
    times = []
    for _ in range(repeat):
        started = time.process_time()
        run()
        times.append((time.process_time() - started) * 1000 / n)
    return times


def main() -> None:
    """Measure, optionally dump or profile, and print one line per path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--batch", type=int, default=100, help="reports per extract_batch call")
    parser.add_argument("--dump", type=Path, help="write every engine record as JSON lines here")
    parser.add_argument("--profile", action="store_true", help="print the hottest functions")
    args = parser.parse_args()
    reports = load_reports()
    extractor = Extractor(create_backend("rules"))
    engine_pass(extractor, reports, args.batch)  # warm up (imports, lazily built tables)
    if args.dump:
        args.dump.write_text("".join(line + "\n" for line in engine_pass(extractor, reports, args.batch)))

    def rules() -> None:
        for report in reports:
            extract_report(report.text)

    def engine() -> None:
        for start in range(0, len(reports), args.batch):
            extract_batch(reports[start : start + args.batch], extractor)

    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(engine)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(40)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(60)
    n = len(reports)
    for name, run in (("rules", rules), ("engine", engine)):
        if args.repeat:
            times = cpu_ms_per_report(run, n, args.repeat)
            best = min(times)
            print(
                f"{name:6}: {n} reports, CPU ms/report best {best:.3f} (runs: "
                f"{', '.join(f'{t:.3f}' for t in times)}), {1000 / best:,.0f} reports/CPU-s"
            )


if __name__ == "__main__":
    main()
