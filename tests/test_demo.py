"""The demo's and the method benchmark's settings, and how the demo wires them into training."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.bench_method import SETTINGS
from rsuper_cli.demo import DEFAULT, QUICK, DemoSettings, _train
from segmentation.phantom import PhantomConfig


@pytest.mark.parametrize(
    "settings",
    [pytest.param(QUICK, id="quick"), pytest.param(DEFAULT, id="demo")]
    + [pytest.param(s, id=f"bench-{name}") for name, s in SETTINGS.items()],
)
def test_settings_make_a_valid_phantom_that_fits_the_crop(settings: DemoSettings) -> None:
    config = PhantomConfig(shape=settings.shape, spacing=settings.spacing, **settings.phantom)
    assert all(c <= s for c, s in zip(settings.crop, config.shape, strict=True))


def test_bench_setting_is_larger_than_the_demo() -> None:
    bench = SETTINGS["bench"]
    assert bench.n_mask > DEFAULT.n_mask
    assert bench.n_report > DEFAULT.n_report
    assert bench.n_test > DEFAULT.n_test
    assert bench.stage1_steps > DEFAULT.stage1_steps


def test_demo_training_config_carries_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import segmentation.training as training

    seen: dict[str, Any] = {}
    monkeypatch.setattr(training, "train", lambda config: seen.setdefault("config", config))
    settings = DemoSettings(**{**QUICK.__dict__, "batch_dice": True, "seed": 7})
    _train(tmp_path, tmp_path / "run", settings, mode="masks", steps=9, lr=1e-3, progress=False)
    config = seen["config"]
    assert config.loss.batch_dice is True
    assert config.seed == 7
    assert config.steps == 9
    assert config.sampling.crop_size == settings.crop
    assert config.network.kwargs["filters"] == list(settings.filters)
