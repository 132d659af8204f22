"""The demo's and the method benchmark's settings, and how the demo wires them into training."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from benchmarks.bench_method import SETTINGS, same_settings, with_changes
from phantom import PhantomConfig
from rsuper_cli.demo import ARMS, DEFAULT, QUICK, DemoSettings, _train, recovered_share, settings_json
from segmentation.training import TrainConfig
from segmentation.training.trainer import Trainer


@pytest.mark.parametrize(
    "settings",
    [pytest.param(QUICK, id="quick")] + [pytest.param(s, id=name) for name, s in SETTINGS.items()],
)
def test_settings_make_a_valid_phantom_that_fits_the_crop(settings: DemoSettings) -> None:
    config = PhantomConfig(shape=settings.shape, spacing=settings.spacing, **settings.phantom)
    assert all(c <= s for c, s in zip(settings.crop, config.shape, strict=True))


def test_calibration_changes_replace_one_setting_each_and_name_a_bad_one() -> None:
    base = SETTINGS["bench"]
    changed = with_changes(base, ["arm_steps=3000", "crop=[32, 32, 16]", "phantom.bias_field_hu=4"])
    assert (changed.arm_steps, changed.crop, changed.phantom["bias_field_hu"]) == (3000, (32, 32, 16), 4)
    assert changed.phantom["noise_sigma_hu"] == base.phantom["noise_sigma_hu"]  # the rest is kept
    assert base.arm_steps != 3000
    assert base.phantom["bias_field_hu"] != 4
    with pytest.raises(TypeError):
        changed.phantom["bias_field_hu"] = 2  # type: ignore[index]
    assert with_changes(base, []) == base
    for bad, named in [
        ("steps=3", "steps"),
        ("arm_steps", "arm_steps"),
        ("arm_lr=1e-3x", "arm_lr"),
        ("seed=4", "seed"),
        ('normalize="zscore"', "normalize"),
    ]:
        with pytest.raises(ValueError, match=named):
            with_changes(base, [bad])


def test_settings_are_immutable_and_serialisable() -> None:
    with pytest.raises(TypeError):
        QUICK.phantom["subtle_fraction"] = 0.5  # type: ignore[index]
    plain = settings_json(replace(QUICK, seed=3))
    assert plain["seed"] == 3
    assert plain["phantom"]["noise_sigma_hu"] == list(QUICK.phantom["noise_sigma_hu"])
    assert plain["phantom"]["organ_contrast_hu"] == {"kidney": [60.0, 150.0]}
    assert json.loads(json.dumps(plain)) == plain


@pytest.mark.parametrize("batch_dice", [True, False])
def test_demo_training_config_carries_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_dice: bool
) -> None:
    import segmentation.training as training

    seen: dict[str, Any] = {}
    monkeypatch.setattr(training, "train", lambda config: seen.setdefault("config", config))
    settings = replace(QUICK, batch_dice=batch_dice, seed=7, head_weights=(0.7, 0.3), gated_bce=batch_dice)
    _train(tmp_path, tmp_path / "run", settings, mode="masks", steps=9, lr=1e-3, progress=False)
    config = seen["config"]
    assert config.loss.batch_dice is batch_dice
    assert config.loss.gated_bce is batch_dice
    assert config.loss.head_weights == (0.7, 0.3)
    assert config.preprocess.normalize == settings.normalize == "organ_zscore"
    assert config.seed == 7
    assert config.steps == 9
    assert config.sampling.crop_size == settings.crop
    assert config.network.kwargs["filters"] == list(settings.filters)


@pytest.mark.parametrize("batch_dice", [True, False])
def test_trainer_builds_the_mask_loss_with_batch_dice(tmp_path: Path, batch_dice: bool) -> None:
    config = TrainConfig(data_dir=tmp_path, out_dir=tmp_path / "run", loss={"batch_dice": batch_dice})
    loss = Trainer(config).build_loss()
    assert loss.mask.loss.dice.batch is batch_dice


def _rows(**dsc: float) -> list[dict[str, Any]]:
    return [{"arm": arm, "dsc": value} for arm, value in dsc.items()]


@pytest.mark.parametrize(
    ("rows", "share"),
    [
        pytest.param(_rows(A=0.2, B=0.35, C=0.4, D=0.5), 0.5, id="half-the-gap"),
        pytest.param(_rows(A=0.2, B=0.1, C=0.4, D=0.5), -1 / 3, id="worse-than-A"),
        pytest.param(_rows(A=0.5, B=0.6, C=0.6, D=0.505), float("nan"), id="no-gap"),
        pytest.param(_rows(A=0.2, B=float("nan"), C=0.4, D=0.5), float("nan"), id="missing"),
    ],
)
def test_recovered_share(rows: list[dict[str, Any]], share: float) -> None:
    value = recovered_share(rows, "dsc")
    assert (value != value and share != share) or value == pytest.approx(share)


def test_the_ceiling_arm_trains_every_mask_and_the_report_leads_with_four_arms() -> None:
    assert list(ARMS) == ["A", "B", "C", "D"]
    assert "ceiling" in ARMS["D"]


def test_demo_training_config_carries_the_recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import segmentation.training as training

    seen: dict[str, Any] = {}
    monkeypatch.setattr(training, "train", lambda config: seen.setdefault("config", config))
    settings = replace(
        QUICK, input_organs=True, mask_crop_probs=(0.6, 0.4, 0.0), optimizer="sgd", val_every=3
    )
    _train(
        tmp_path, tmp_path / "run", settings, mode="masks", steps=9, lr=1e-3, progress=False, all_masks=True
    )
    config = seen["config"]
    assert config.all_masks is True
    assert config.input_organs == ("liver", "pancreas", "kidney")
    assert config.sampling.mask_crop_probs == (0.6, 0.4, 0.0)
    assert config.optimizer == "sgd"
    assert config.val_every == 3


def test_bad_mirror_axes_stop_the_demo_before_its_cohort_exists(tmp_path: Path) -> None:
    from rsuper_cli.demo import run_demo

    settings = with_changes(QUICK, ["mirror_axes=[0, 3]"])
    assert settings.mirror_axes == (0, 3)
    with pytest.raises(ValueError, match="mirror_axes"):
        run_demo(tmp_path / "demo", settings, progress=False)
    assert not (tmp_path / "demo" / "cohort").exists()


def test_a_seed_run_before_mirroring_existed_counts_as_unmirrored() -> None:
    """Stored settings without ``mirror_axes`` mean the default, one pass: such a seed is not the
    mirrored benchmark setting, and is still the unmirrored demo setting."""
    bench, demo = SETTINGS["bench"], DEFAULT
    assert bench.mirror_axes == (0, 1, 2)
    assert demo.mirror_axes == ()
    old_bench = {k: v for k, v in settings_json(bench).items() if k != "mirror_axes"}
    old_demo = {k: v for k, v in settings_json(demo).items() if k != "mirror_axes"}
    assert not same_settings(old_bench, bench)
    assert same_settings(old_demo, demo)
    assert same_settings(settings_json(bench), bench)
