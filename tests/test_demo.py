"""The demo's and the method benchmark's settings, and how the demo wires them into training."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from benchmarks.bench_method import SETTINGS
from rsuper_cli.demo import QUICK, DemoSettings, _train, settings_json
from segmentation.phantom import PhantomConfig
from segmentation.training import TrainConfig
from segmentation.training.trainer import Trainer


@pytest.mark.parametrize(
    "settings",
    [pytest.param(QUICK, id="quick")] + [pytest.param(s, id=name) for name, s in SETTINGS.items()],
)
def test_settings_make_a_valid_phantom_that_fits_the_crop(settings: DemoSettings) -> None:
    config = PhantomConfig(shape=settings.shape, spacing=settings.spacing, **settings.phantom)
    assert all(c <= s for c, s in zip(settings.crop, config.shape, strict=True))


def test_settings_are_immutable_and_serialisable() -> None:
    with pytest.raises(TypeError):
        QUICK.phantom["subtle_fraction"] = 0.5  # type: ignore[index]
    plain = settings_json(replace(QUICK, seed=3))
    assert plain["seed"] == 3
    assert plain["phantom"] == {k: list(v) if isinstance(v, tuple) else v for k, v in QUICK.phantom.items()}


@pytest.mark.parametrize("batch_dice", [True, False])
def test_demo_training_config_carries_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_dice: bool
) -> None:
    import segmentation.training as training

    seen: dict[str, Any] = {}
    monkeypatch.setattr(training, "train", lambda config: seen.setdefault("config", config))
    settings = replace(QUICK, batch_dice=batch_dice, seed=7)
    _train(tmp_path, tmp_path / "run", settings, mode="masks", steps=9, lr=1e-3, progress=False)
    config = seen["config"]
    assert config.loss.batch_dice is batch_dice
    assert config.seed == 7
    assert config.steps == 9
    assert config.sampling.crop_size == settings.crop
    assert config.network.kwargs["filters"] == list(settings.filters)


@pytest.mark.parametrize("batch_dice", [True, False])
def test_trainer_builds_the_mask_loss_with_batch_dice(tmp_path: Path, batch_dice: bool) -> None:
    config = TrainConfig(data_dir=tmp_path, out_dir=tmp_path / "run", loss={"batch_dice": batch_dice})
    loss = Trainer(config).build_loss()
    assert loss.mask.loss.dice.batch is batch_dice
