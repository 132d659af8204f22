"""Trainer: two-stage protocol, exact resume, DDP under torchrun (CPU, gloo)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from phantom import PhantomConfig, generate_cohort
from segmentation.data.dataset import SamplingConfig
from segmentation.training import NetworkConfig, TrainConfig, train
from segmentation.training.trainer import Trainer

PHANTOM = PhantomConfig(
    shape=(20, 20, 20), spacing=(6.0, 6.0, 6.0), lesion_diameter_mm=(12.0, 30.0), healthy_fraction=0.0
)
ROOT = Path(__file__).resolve().parents[2]


def tiny_config(data: Path, out: Path, **overrides: object) -> TrainConfig:
    """A CPU-sized run: 16³ crops, a 4-level DynUNet with 4-32 filters, batch 2."""
    network = NetworkConfig()
    network.kwargs.update(filters=[4, 8, 16, 32], res_block=False)
    settings: dict[str, object] = {
        "data_dir": data,
        "out_dir": out,
        "sampling": SamplingConfig(crop_size=(16, 16, 16), max_distance_mm=15.0),
        "network": network,
        "batch_size": 2,
        "warmup_steps": 1,
        "checkpoint_every": 2,
        "progress": False,
        "cache_dir": data / "cache",
    }
    settings.update(overrides)
    return TrainConfig.model_validate(settings)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("train_cohort")
    generate_cohort(out, n_mask=2, n_report=2, n_val=1, n_test=1, seed=2, config=PHANTOM, progress=False)
    return out


def test_two_stage_protocol(cohort: Path, tmp_path: Path) -> None:
    stage1 = train(tiny_config(cohort, tmp_path / "masks", steps=2, val_every=2))
    assert stage1.final_step == 2
    assert stage1.checkpoint is not None
    assert stage1.checkpoint.is_file()
    assert set(stage1.validation) == {
        f"val/{metric}_{organ}"
        for metric in ("dice", "lesion_f1")
        for organ in ("liver", "pancreas", "kidney")
    }
    assert stage1.validation_curve == [{"step": 2, **stage1.validation}]
    assert all("ball/0" not in h for h in stage1.losses)

    cfg = tiny_config(
        cohort,
        tmp_path / "reports",
        steps=2,
        mode="reports",
        reports_jsonl=cohort / "truth.jsonl",
        init_from=stage1.checkpoint,
    )
    stage2 = train(cfg)
    assert cfg.learning_rate == 1e-4
    for h in stage2.losses:
        assert {"mask/0", "mask/1", "ball/0", "volume/1", "total", "grad_norm", "data_s", "step_s"} <= set(h)
    saved = json.loads((tmp_path / "reports" / "config.json").read_text())
    assert saved["mode"] == "reports"
    assert "git_sha" in saved
    assert len((tmp_path / "reports" / "losses.jsonl").read_text().splitlines()) == 2
    assert list((tmp_path / "reports" / "tensorboard").glob("events.out.tfevents.*"))
    with pytest.raises(ValueError, match="already holds a run"):
        train(cfg)


def test_resume_gives_the_identical_next_loss(cohort: Path, tmp_path: Path) -> None:
    cfg = tiny_config(
        cohort, tmp_path / "full", steps=3, mode="reports", reports_jsonl=cohort / "truth.jsonl"
    )
    full = train(cfg)
    # an interrupted copy of the run: only the step-2 checkpoint survived
    cut = tmp_path / "cut"
    (cut / "checkpoints").mkdir(parents=True)
    shutil.copy(tmp_path / "full" / "config.json", cut / "config.json")
    shutil.copy(tmp_path / "full" / "checkpoints" / "step_2.pt", cut / "checkpoints" / "last.pt")
    resumed = train(TrainConfig.load(cut / "config.json").model_copy(update={"out_dir": cut}), resume=True)
    assert resumed.final_step == 3
    assert len(resumed.losses) == 1
    assert resumed.losses[0]["total"] == full.losses[2]["total"]
    assert resumed.losses[0]["mask/0"] == full.losses[2]["mask/0"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _torchrun(cohort: Path, out: Path, steps: int) -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        str(_free_port()),
        "-m",
        "rsuper_cli.train",
        "train",
        "--data",
        str(cohort),
        "--out",
        str(out),
        "--steps",
        str(steps),
        "--mode",
        "reports",
        "--reports-jsonl",
        str(cohort / "truth.jsonl"),
        "--config",
        str(out.parent / "cfg.json"),
        "--no-progress",
    ]
    cfg = tiny_config(cohort, out, steps=steps, mode="reports", reports_jsonl=cohort / "truth.jsonl")
    (out.parent / "cfg.json").write_text(cfg.model_dump_json(), encoding="utf-8")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT, env=env, check=False)


@pytest.mark.parametrize(
    "steps", [pytest.param(1, id="quick"), pytest.param(4, id="long", marks=pytest.mark.slow)]
)
def test_ddp_two_processes_on_cpu(cohort: Path, tmp_path: Path, steps: int) -> None:
    done = _torchrun(cohort, tmp_path / "ddp", steps=steps)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count(f"trained to step {steps}") == 1, done.stdout  # only rank 0 reports
    lines = (tmp_path / "ddp" / "losses.jsonl").read_text().splitlines()
    assert len(lines) == steps  # rank 0 logs the rank-averaged losses once per step
    assert (tmp_path / "ddp" / "checkpoints" / "last.pt").is_file()


def test_worker_processes_do_not_change_the_data(cohort: Path, tmp_path: Path) -> None:
    kw = {"steps": 2, "mode": "reports", "reports_jsonl": cohort / "truth.jsonl"}
    inline = train(tiny_config(cohort, tmp_path / "w0", num_workers=0, **kw))
    workers = train(tiny_config(cohort, tmp_path / "w2", num_workers=2, **kw))
    assert [h["total"] for h in workers.losses] == [h["total"] for h in inline.losses]


def test_each_run_logs_only_into_its_own_train_log(cohort: Path, tmp_path: Path) -> None:
    import logging

    before = list(logging.getLogger("segmentation").handlers)
    for name in ("first", "second"):
        train(tiny_config(cohort, tmp_path / name, steps=2, val_every=2))
    assert logging.getLogger("segmentation").handlers == before
    first = (tmp_path / "first" / "train.log").read_text()
    second = (tmp_path / "second" / "train.log").read_text()
    assert "validation" in first
    assert "validation" in second
    assert str(tmp_path / "second") not in first


def test_organ_input_channels_train_and_validate(cohort: Path, tmp_path: Path) -> None:
    run = train(
        tiny_config(cohort, tmp_path / "organs", steps=2, val_every=2, input_organs=("liver", "kidney"))
    )
    assert {k for k in run.validation if k.startswith("val/dice_")} == {
        "val/dice_liver",
        "val/dice_pancreas",
        "val/dice_kidney",
    }
    assert run.validation_curve == [{"step": 2, **run.validation}]


def test_all_masks_trains_the_report_cases_as_mask_cases(cohort: Path, tmp_path: Path) -> None:
    from segmentation.data.manifest import Role, load_manifest

    manifest = load_manifest(cohort)
    few = Trainer(tiny_config(cohort, tmp_path / "few"))
    every = Trainer(tiny_config(cohort, tmp_path / "every", all_masks=True))
    few_masks, few_reports = few.training_cases(manifest)
    all_masks, all_reports = every.training_cases(manifest)
    training = manifest.select(split="train")
    assert [c.case_id for c in few_masks] == [c.case_id for c in training if c.role is Role.MASK]
    assert sorted(c.case_id for c in all_masks) == sorted(c.case_id for c in training)
    assert few_reports == all_reports == []
    run = train(tiny_config(cohort, tmp_path / "every-run", steps=1, all_masks=True))
    assert run.final_step == 1
    with pytest.raises(ValueError, match="all_masks"):
        tiny_config(
            cohort, tmp_path / "bad", all_masks=True, mode="reports", reports_jsonl=cohort / "truth.jsonl"
        )


def test_hooks_see_every_step_and_validation(cohort: Path, tmp_path: Path) -> None:
    seen: dict[str, list[int]] = {"steps": [], "validations": []}

    class Recording(Trainer):
        def on_step_end(self, values: dict[str, float]) -> None:
            super().on_step_end(values)
            seen["steps"].append(int(values["step"]))

        def on_validation_end(self, scores: dict[str, float]) -> None:
            super().on_validation_end(scores)
            seen["validations"].append(self.step)

    result = Recording(tiny_config(cohort, tmp_path / "hooks", steps=3, val_every=2)).fit()
    assert seen == {"steps": [1, 2, 3], "validations": [2, 3]}
    assert [row["step"] for row in result.validation_curve] == [2, 3]
    assert (tmp_path / "hooks" / "checkpoints" / "last.pt").is_file()


def test_reviewed_only_trains_on_the_reviewed_report_cases(
    cohort: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import segmentation.training.trainer as trainer_module
    from segmentation.data.manifest import load_manifest
    from segmentation.records import load_report_facts

    manifest = load_manifest(cohort)
    report_ids = [c.report_id for c in manifest.select(split="train") if c.role.value == "report"]
    assert len(report_ids) == 2
    reviewed = {report_ids[1]}

    def only_reviewed(ids: list[str], **kwargs: object) -> tuple[dict[str, object], dict[str, str]]:
        assert kwargs.pop("reviewed_only") is True
        facts, _ = load_report_facts(ids, **kwargs)  # type: ignore[arg-type]
        kept = {k: v for k, v in facts.items() if k in reviewed}
        return kept, {k: "not reviewed in the store" for k in facts if k not in reviewed}

    monkeypatch.setattr(trainer_module, "load_report_facts", only_reviewed)
    config = tiny_config(
        cohort, tmp_path / "run", mode="reports", reports_jsonl=cohort / "truth.jsonl", reviewed_only=True
    )
    trainer = Trainer(config)
    _, facts = trainer.load_data()
    assert set(facts) == reviewed
    _, report_cases = trainer.training_cases(manifest)
    assert [c.report_id for c in report_cases] == [report_ids[1]]
    reviewed = set()
    with pytest.raises(ValueError, match="none of the 2 report cases has a reviewed extraction"):
        Trainer(config).load_data()
