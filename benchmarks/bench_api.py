"""Load benchmark of the service: single-report, batch and job POSTs, server and client in separate processes.

For each server setup (store × worker processes) it starts ``python -m rsuper_cli.serve`` on 127.0.0.1
(free port, ``rules`` backend), then, for each POST mode and concurrency, runs the load client as a
process of its own (``bench_api.py client ...``: asyncio + httpx, ``--concurrency`` requests in
flight; mode ``job`` uploads one CSV of ``--job-rows`` reports to ``POST /v1/jobs`` and polls the job
to its end: reports/s from the upload's start, and the time to the 202). Each run records requests/s,
reports/s, p50 / p90 / p99 latency, errors, and the machine's load average (1-minute, before and at
most during the run, sampled every 0.5 s): on a shared machine a number taken under someone else's load
is not the service's number. Runs are bounded by
``--requests`` and ``--max-seconds``. Results go to stdout as a table and, with ``--out``, as JSON
lines.

    # the issue's grid (a quiet machine; --http aiohttp: a cheaper client, pip install 'rsuper[bench]'):
    .venv/bin/python benchmarks/bench_api.py --concurrency 1 8 32 --mode single batch job \\
        --workers 1 2 --store sqlite postgresql+psycopg://user:pw@127.0.0.1/rsuper_bench --out runs.jsonl
    # smoke (a few seconds):
    .venv/bin/python benchmarks/bench_api.py --requests 20 --concurrency 2 --mode single batch job \\
        --batch-size 4 --job-rows 20

A PostgreSQL store must be an empty scratch database: the benchmark writes into it and does not
clean up. A SQLite store is a fresh file in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
KEY = "bench-key-0123456789abcdef"
TEMPLATES = (
    "FINDINGS: Liver: {n} mm hypodense lesion in segment VI. Pancreas: unremarkable. Kidneys: normal.",
    "Liver: multiple cysts up to 1.{d} cm. Spleen normal. Left kidney: {n} mm cyst in the upper pole.",
    "IMPRESSION: {n} mm mass in the pancreatic head, suspicious for adenocarcinoma. No liver lesion.",
)
MODES = ("single", "batch", "job")
HTTP_CLIENTS = ("httpx", "aiohttp")


def report(i: int, run: str) -> dict[str, str]:
    """The ``i``-th synthetic report of a run (distinct IDs and texts, so nothing is cached)."""
    text = TEMPLATES[i % 3].format(n=5 + i % 60, d=i % 10) + f" Exam {i}."
    return {"report_id": f"{run}-{i}", "text": text}


# ---------------------------------------------------------------------------------------------- client


def _job_csv(rows: int, run: str) -> bytes:
    """A CSV upload of ``rows`` synthetic reports (columns ``report_id``, ``text``)."""
    lines = ["report_id,text"]
    for i in range(rows):
        r = report(i, run)
        lines.append(f'{r["report_id"]},"{r["text"]}"')
    return ("\n".join(lines) + "\n").encode()


async def _job_client(port: int, rows: int, run: str, max_s: float) -> dict[str, Any]:
    """Upload one CSV job of ``rows`` reports and poll it until it finishes.

    Records the time to the 202 answer and the rows/s from the upload's start to the job's end.
    """
    body = _job_csv(rows, run)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": KEY}, timeout=120
    ) as client:
        t0 = time.perf_counter()
        r = await client.post("/v1/jobs", files={"file": ("reports.csv", body, "text/csv")})
        accepted = time.perf_counter() - t0
        if r.status_code != 202:
            raise SystemExit(f"job upload answered {r.status_code}: {r.text[:500]}")
        status_url = r.json()["status_url"]
        deadline = t0 + max_s
        job: dict[str, Any] = {}
        while time.perf_counter() < deadline:
            job = (await client.get(status_url)).json()
            if job["status"] not in ("creating", "pending", "running"):
                break
            await asyncio.sleep(0.05)
        wall = time.perf_counter() - t0
    finished = job.get("done", 0) + job.get("failed", 0)
    return {
        "requests": 1,
        "reports": finished,
        "errors": job.get("failed", 0) + (job.get("status") != "done"),
        "wall_s": round(wall, 3),
        "req_per_s": None,
        "reports_per_s": round(finished / wall, 1),
        "accepted_ms": round(accepted * 1000, 1),
        "p50_ms": None,
        "p90_ms": None,
        "p99_ms": None,
        "job_status": job.get("status"),
    }


async def _client(
    port: int,
    mode: str,
    concurrency: int,
    requests: int,
    batch: int,
    run: str,
    max_s: float,
    http: str = "httpx",
) -> dict[str, Any]:
    """Send ``requests`` POSTs with ``concurrency`` in flight; latency per request, in seconds.

    ``http``: the client library, ``httpx`` or ``aiohttp`` (cheaper per request: on one machine the
    client's CPU is taken from the server). Mode ``job``: one upload of ``requests`` rows instead (see
    :func:`_job_client`, httpx).
    """
    if mode == "job":
        return await _job_client(port, requests, run, max_s)
    url = "/v1/extractions" if mode == "single" else "/v1/extractions:batch"
    latencies: list[float] = []
    errors = 0
    counter = iter(range(requests))
    deadline = time.monotonic() + max_s
    base = f"http://127.0.0.1:{port}"

    def body_of(i: int) -> Any:
        if mode == "single":
            return report(i, run)
        return {"reports": [report(i * batch + j, run) for j in range(batch)]}

    def ok_of(status: int, answer: Any) -> bool:
        return status == 200 and (mode == "single" or answer["ok"] == batch)

    async def drive(
        post: Callable[[Any], Awaitable[tuple[int, Any]]], dropped: tuple[type[Exception], ...]
    ) -> float:
        """Run the workers over ``post`` (body → status, parsed answer); the wall time in seconds.

        ``dropped``: the client's transport errors (a dropped connection, a timeout), counted as
        errors of the run instead of ending it."""

        async def worker() -> None:
            nonlocal errors
            for i in counter:
                if time.monotonic() > deadline:
                    return
                body = body_of(i)
                t0 = time.perf_counter()
                try:
                    status, answer = await post(body)
                except dropped:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - t0)
                errors += not ok_of(status, answer)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started

    if http == "aiohttp":
        import aiohttp  # optional: pip install 'rsuper[bench]'

        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(
            base, headers={"X-API-Key": KEY}, connector=connector, timeout=aiohttp.ClientTimeout(total=120)
        ) as session:

            async def post_aiohttp(body: Any) -> tuple[int, Any]:
                async with session.post(url, json=body) as r:
                    answer = await r.json() if mode == "batch" and r.status == 200 else await r.read()
                    return r.status, answer

            wall = await drive(post_aiohttp, (aiohttp.ClientError, TimeoutError))
    else:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(
            base_url=base, headers={"X-API-Key": KEY}, limits=limits, timeout=120
        ) as client:

            async def post_httpx(body: Any) -> tuple[int, Any]:
                r = await client.post(url, json=body)
                return r.status_code, r.json() if mode == "batch" and r.status_code == 200 else None

            wall = await drive(post_httpx, (httpx.TransportError,))
    per_request = 1 if mode == "single" else batch
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [latencies[0]] * 99
    return {
        "client": http,
        "requests": len(latencies),
        "reports": len(latencies) * per_request,
        "errors": errors,
        "wall_s": round(wall, 3),
        "req_per_s": round(len(latencies) / wall, 1),
        "reports_per_s": round(len(latencies) * per_request / wall, 1),
        "p50_ms": round(q[49] * 1000, 1),
        "p90_ms": round(q[89] * 1000, 1),
        "p99_ms": round(q[98] * 1000, 1),
    }


def client_main(argv: list[str]) -> None:
    """``bench_api.py client ...``: one load run; prints its result as one JSON line."""
    p = argparse.ArgumentParser(prog="bench_api.py client")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mode", choices=MODES, required=True)
    p.add_argument("--concurrency", type=int, required=True)
    p.add_argument("--requests", type=int, required=True)
    p.add_argument("--batch-size", type=int, required=True)
    p.add_argument("--run", required=True, help="prefix of the report IDs (unique per run)")
    p.add_argument("--max-seconds", type=float, required=True)
    p.add_argument("--http", choices=HTTP_CLIENTS, default="httpx")
    a = p.parse_args(argv)
    result = asyncio.run(
        _client(a.port, a.mode, a.concurrency, a.requests, a.batch_size, a.run, a.max_seconds, a.http)
    )
    print(json.dumps(result))


# ---------------------------------------------------------------------------------------------- server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(store_url: str, workers: int, max_batch: int) -> Iterator[int]:
    """A running service on 127.0.0.1 (its port); stopped (SIGTERM, then SIGKILL) on exit."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RSUPER_")}
    env.update(RSUPER_API_KEYS=KEY, RSUPER_MAX_BATCH_REPORTS=str(max_batch))
    cmd = [sys.executable, "-m", "rsuper_cli.serve", "--host", "127.0.0.1", "--port", str(port),
           "--store", store_url, "--backend", "rules", "--workers", str(workers),
           "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    try:
        for _ in range(600):
            if proc.poll() is not None:
                raise SystemExit(f"server exited with {proc.returncode} before it was ready")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            raise SystemExit("server did not become ready in 60 s")
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


class LoadSampler:
    """Samples the 1-minute load average every ``period`` seconds in a thread (max and mean)."""

    def __init__(self, period: float = 0.5) -> None:
        self.period = period
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _run_client(port: int, mode: str, concurrency: int, args: argparse.Namespace, run: str) -> dict[str, Any]:
    requests = {
        "single": args.requests,
        "batch": max(1, args.requests // args.batch_size),
        "job": args.job_rows,
    }[mode]
    cmd = [sys.executable, __file__, "client", "--port", str(port), "--mode", mode,
           "--concurrency", str(concurrency), "--requests", str(requests),
           "--batch-size", str(args.batch_size), "--run", run,
           "--max-seconds", str(args.max_seconds), "--http", args.http]  # fmt: skip
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=args.max_seconds + 120)
    if out.returncode != 0:
        raise SystemExit(f"client failed ({out.returncode}): {out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Run the grid and print (and optionally write) the numbers."""
    if sys.argv[1:2] == ["client"]:
        client_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000, help="reports per run (bounded)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32], help="requests in flight")
    parser.add_argument("--mode", choices=MODES, nargs="+", default=list(MODES), help="POST kind")
    parser.add_argument("--batch-size", type=int, default=64, help="reports per batch POST")
    parser.add_argument("--store", nargs="+", default=["sqlite"], help="'sqlite' or a PostgreSQL URL")
    parser.add_argument("--workers", type=int, nargs="+", default=[1], help="server processes")
    parser.add_argument("--job-rows", type=int, default=5000, help="rows of the upload (mode job)")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="stop each run after this long")
    parser.add_argument("--out", type=Path, help="append one JSON line per run here")
    parser.add_argument(
        "--http",
        choices=HTTP_CLIENTS,
        default="httpx",
        help="client library of single and batch runs: aiohttp costs the shared cores less per request "
        "(pip install 'rsuper[bench]')",
    )
    args = parser.parse_args()
    if not 1 <= args.requests <= 1_000_000 or not all(1 <= c <= 256 for c in args.concurrency):
        raise SystemExit("--requests must be in [1, 1000000] and --concurrency in [1, 256]")
    if not 1 <= args.batch_size <= 5_000:
        raise SystemExit("--batch-size must be in [1, 5000]")
    if not 1 <= args.job_rows <= 1_000_000:
        raise SystemExit("--job-rows must be in [1, 1000000]")
    rows = []
    stamp = time.strftime("%Y%m%dT%H%M%S")
    for store in args.store:
        for workers in args.workers:
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{Path(tmp) / 'bench.db'}" if store == "sqlite" else store
                with server(url, workers, args.batch_size) as port:
                    for mode in args.mode:
                        for concurrency in args.concurrency if mode != "job" else [1]:
                            kind = "sqlite" if store == "sqlite" else "pg"
                            run = f"{stamp}-{kind}-w{workers}-{mode}-c{concurrency}"
                            before = os.getloadavg()[0]
                            with LoadSampler() as load:
                                result = _run_client(port, mode, concurrency, args, run)
                            row = {
                                "store": "sqlite" if store == "sqlite" else "postgresql",
                                "workers": workers,
                                "mode": mode,
                                "batch_size": {"batch": args.batch_size, "job": args.job_rows}.get(mode, 1),
                                "concurrency": concurrency,
                                **result,
                                "load_before": round(before, 2),
                                "load_max": round(max(load.samples, default=before), 2),
                                "cpus": os.cpu_count(),
                            }
                            rows.append(row)
                            print(json.dumps(row), flush=True)
                            if args.out:
                                with args.out.open("a") as f:
                                    f.write(json.dumps(row) + "\n")
    print()
    print("| store | workers | mode | conc | req/s | reports/s | p50 ms | p90 ms | p99 ms | errors | load |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['store']} | {r['workers']} | {r['mode']} | {r['concurrency']} | {r['req_per_s']} | "
              f"{r['reports_per_s']} | {r['p50_ms']} | {r['p90_ms']} | {r['p99_ms']} | {r['errors']} | "
              f"{r['load_before']}/{r['load_max']} |")  # fmt: skip


if __name__ == "__main__":
    main()
