"""Load benchmark of ``POST /v1/extractions`` with the ``rules`` backend (loopback only, bounded).

Starts ``python -m rsuper_cli.serve`` on 127.0.0.1 (free port, temporary SQLite store, one process),
then sends ``--requests`` distinct reports from ``--concurrency`` threads (keep-alive clients) and
prints requests/s and p50 / p90 / p99 latency. Stops after ``--max-seconds`` whatever the count.

    .venv/bin/python benchmarks/bench_api.py --requests 2000 --concurrency 8
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
KEY = "bench-key-0123456789abcdef"
TEMPLATES = (
    "FINDINGS: Liver: {n} mm hypodense lesion in segment VI. Pancreas: unremarkable. Kidneys: normal.",
    "Liver: multiple cysts up to 1.{d} cm. Spleen normal. Left kidney: {n} mm cyst in the upper pole.",
    "IMPRESSION: {n} mm mass in the pancreatic head, suspicious for adenocarcinoma. No liver lesion.",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(port: int, store_url: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RSUPER_")}
    env.update(RSUPER_API_KEYS=KEY, RSUPER_BACKEND_CONCURRENCY="4")
    cmd = [sys.executable, "-m", "rsuper_cli.serve", "--port", str(port), "--store", store_url,
           "--backend", "rules", "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not become ready")


def main() -> None:
    """Run the benchmark and print the numbers."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000, help="total requests (bounded)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="stop sending after this long")
    args = parser.parse_args()
    if not 1 <= args.requests <= 100_000 or not 1 <= args.concurrency <= 64:
        raise SystemExit("--requests must be in [1, 100000] and --concurrency in [1, 64]")
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc = _start(port, f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            latencies: list[float] = []
            errors = 0
            lock = threading.Lock()
            counter = iter(range(args.requests))
            deadline = time.monotonic() + args.max_seconds

            def worker() -> None:
                nonlocal errors
                with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": KEY}) as c:
                    for i in counter:
                        if time.monotonic() > deadline:
                            return
                        text = TEMPLATES[i % 3].format(n=5 + i % 60, d=i % 10) + f" Exam {i}."
                        t0 = time.perf_counter()
                        r = c.post("/v1/extractions", json={"report_id": f"b{i}", "text": text})
                        dt = time.perf_counter() - t0
                        with lock:
                            latencies.append(dt)
                            errors += r.status_code != 200

            started = time.perf_counter()
            threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - started
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    q = statistics.quantiles(latencies, n=100)
    print(f"requests={len(latencies)} errors={errors} concurrency={args.concurrency} wall={wall:.2f}s")
    print(f"throughput={len(latencies) / wall:.1f} req/s")
    print(f"latency p50={q[49] * 1000:.1f}ms p90={q[89] * 1000:.1f}ms p99={q[98] * 1000:.1f}ms")


if __name__ == "__main__":
    main()
