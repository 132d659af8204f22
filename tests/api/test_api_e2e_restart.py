"""End to end: a real server process is SIGKILLed mid-job, restarted, and every report ends up once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_cases import API_KEY, AUTH
from sqlalchemy import func, select

from store import init_store
from store.models import ExtractionRow

N_REPORTS = 300
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``python -m rsuper_cli.serve`` on a free loopback port, with a slowed ``fake`` backend."""

    def __init__(self, store_url: str, tmp_path: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("RSUPER_")}
        env.update(
            RSUPER_API_KEYS=API_KEY,
            RSUPER_FAKE_DELAY_S="0.005",
            RSUPER_JOB_BATCH_SIZE="4",
            RSUPER_BACKEND_CONCURRENCY="2",
            RSUPER_JOB_POLL_S="0.05",
            RSUPER_UPLOAD_DIR=str(tmp_path / "uploads"),
        )
        cmd = [sys.executable, "-m", "rsuper_cli.serve", "--port", str(self.port), "--store", store_url,
               "--backend", "fake", "--log-level", "warning"]  # fmt: skip
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.proc.stderr.read() if self.proc.stderr else ''}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError("server did not become ready in 30 s")

    def job(self, job_id: str) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(f"{self.url}/v1/jobs/{job_id}", headers=AUTH, timeout=5).json()
        return body

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def test_sigkill_mid_job_then_restart_extracts_every_report_exactly_once(
    tmp_path: Path, servers: list[Server]
) -> None:
    store_url = f"sqlite:///{tmp_path / 'e2e.db'}"
    first = Server(store_url, tmp_path)
    servers.append(first)
    reports = [{"report_id": f"r{i:03d}", "text": f"Report number {i}. No lesion."} for i in range(N_REPORTS)]
    r = httpx.post(f"{first.url}/v1/jobs", json=reports, headers=AUTH, timeout=30)
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    deadline = time.monotonic() + 30
    while first.job(job_id)["done"] < 20:
        assert time.monotonic() < deadline, "job made no progress"
        time.sleep(0.02)
    first.kill()

    mid = init_store(store_url)
    interrupted = mid.get_job(job_id)
    assert 20 <= interrupted.done < N_REPORTS, "the kill must land mid-job"
    with mid.engine.connect() as conn:
        committed = dict(conn.execute(select(ExtractionRow.report_id, ExtractionRow.created_at)).all())
    assert len(committed) >= 20
    mid.close()

    second = Server(store_url, tmp_path)
    servers.append(second)
    deadline = time.monotonic() + 60
    while (job := second.job(job_id))["status"] in ("pending", "running"):
        assert time.monotonic() < deadline, f"job did not finish after restart: {job}"
        time.sleep(0.05)
    assert (job["status"], job["done"], job["failed"], job["pending"]) == ("done", N_REPORTS, 0, 0)
    lines = httpx.get(f"{second.url}/v1/jobs/{job_id}/results", headers=AUTH, timeout=30).text.splitlines()
    assert len(lines) == N_REPORTS

    store = init_store(store_url)
    counts = store.job_item_counts(job_id)
    assert counts == {"pending": 0, "running": 0, "done": N_REPORTS, "failed": 0}
    with store.engine.connect() as conn:
        per_report = dict(
            conn.execute(
                select(ExtractionRow.report_id, func.count()).group_by(ExtractionRow.report_id)
            ).all()
        )
        ok = conn.execute(
            select(func.count()).select_from(ExtractionRow).where(ExtractionRow.status == "ok")
        ).scalar_one()
    assert per_report == {rep["report_id"]: 1 for rep in reports}  # every report, exactly once
    assert ok == N_REPORTS
    with store.engine.connect() as conn:
        after = dict(conn.execute(select(ExtractionRow.report_id, ExtractionRow.created_at)).all())
    assert {rid: after[rid] for rid in committed} == committed  # nothing committed was redone
    store.close()
