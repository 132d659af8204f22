"""`rsuper train / predict / evaluate` end to end through the CLI, and prediction alignment."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from phantom import PhantomConfig, generate_cohort
from rsuper_cli.train import register
from segmentation.data.preprocess import PreparedCase, PreprocessConfig
from segmentation.inference import check_mirror_axes, predict, predict_prepared, prediction_preprocess

# an anisotropic, non-RAS-free grid: predictions must come back onto it exactly
PHANTOM = PhantomConfig(
    shape=(20, 18, 16), spacing=(6.0, 6.5, 7.0), lesion_diameter_mm=(12.0, 30.0), healthy_fraction=0.3
)
TINY = (
    '{"data_dir": ".", "out_dir": ".", "sampling": {"crop_size": [16, 16, 16], "max_distance_mm": 15.0},'
    ' "preprocess": {"spacing": [5.0, 5.0, 5.0]},'
    ' "network": {"kwargs": {"kernel_size": [3, 3, 3, 3], "strides": [1, 2, 2, 2],'
    ' "upsample_kernel_size": [2, 2, 2],'
    ' "filters": [4, 8, 16, 32], "deep_supervision": true, "deep_supr_num": 2, "res_block": false}},'
    ' "batch_size": 2, "warmup_steps": 1, "checkpoint_every": 1}'
)


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, app: typer.Typer) -> tuple[Path, Path, Path]:
    """A cohort, a stage-1 run and a stage-2 run made through the CLI (1 step each)."""
    root = tmp_path_factory.mktemp("cli")
    data = root / "data"
    generate_cohort(data, n_mask=2, n_report=2, n_val=2, n_test=2, seed=4, config=PHANTOM, progress=False)
    (root / "tiny.json").write_text(TINY, encoding="utf-8")
    runner = CliRunner()
    base = [
        "train",
        "--data",
        str(data),
        "--config",
        str(root / "tiny.json"),
        "--steps",
        "1",
        "--no-progress",
    ]
    done = runner.invoke(app, [*base, "--out", str(root / "stage1")])
    assert done.exit_code == 0, done.output
    assert "trained to step 1" in done.output
    done = runner.invoke(
        app,
        [
            *base,
            "--out",
            str(root / "stage2"),
            "--mode",
            "reports",
            "--reports-jsonl",
            str(data / "truth.jsonl"),
            "--init-from",
            str(root / "stage1" / "checkpoints" / "last.pt"),
        ],
    )
    assert done.exit_code == 0, done.output
    return data, root / "stage1", root / "stage2"


def test_predictions_are_aligned_with_the_input(runs: tuple[Path, Path, Path], tmp_path: Path) -> None:
    data, _, stage2 = runs
    result = predict(stage2, data, tmp_path / "pred", split="test", progress=False)
    assert len(result.cases) == 2
    rows = list(csv.DictReader(result.csv.open()))
    for row in rows:
        ct = nib.load(data / "cases" / row["case_id"] / "ct.nii.gz")
        for name in ("tumors.nii.gz", "prob_liver.nii.gz", "prob_pancreas.nii.gz", "prob_kidney.nii.gz"):
            out = nib.load(tmp_path / "pred" / row["case_id"] / name)
            assert out.shape == ct.shape, name
            assert np.allclose(out.affine, ct.affine), name
        probs = np.asarray(nib.load(tmp_path / "pred" / row["case_id"] / "prob_liver.nii.gz").dataobj)
        assert probs.min() >= 0.0
        assert probs.max() <= 1.0
        assert float(row["max_prob_liver"]) == pytest.approx(probs.max())


def test_restrict_to_organs_zeroes_lesions_outside_organs(
    runs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    data, stage1, _ = runs
    predict(
        stage1,
        data,
        tmp_path / "pred",
        split="test",
        restrict_to_organs=True,
        organ_margin_mm=0.0,
        progress=False,
    )
    case = "phantom_00007"
    organs = np.asarray(nib.load(data / "cases" / case / "organs.nii.gz").dataobj)
    probs = np.asarray(nib.load(tmp_path / "pred" / case / "prob_pancreas.nii.gz").dataobj)
    far = organs == 0
    assert probs[far].max() < probs.max() or probs.max() == 0.0
    assert probs[far].mean() < 1e-3


def test_cli_predict_and_evaluate_print_both_metric_families(
    runs: tuple[Path, Path, Path], tmp_path: Path, app: typer.Typer
) -> None:
    data, _, stage2 = runs
    runner = CliRunner()
    done = runner.invoke(
        app,
        [
            "predict",
            "--run",
            str(stage2),
            "--data",
            str(data),
            "--out",
            str(tmp_path / "p"),
            "--split",
            "val,test",
            "--mirror",
            "--no-progress",
        ],
    )
    assert done.exit_code == 0, done.output
    info = json.loads((tmp_path / "p" / "prediction.json").read_text(encoding="utf-8"))
    assert info["mirror_axes"] == [0, 1, 2]
    done = runner.invoke(
        app,
        [
            "evaluate",
            "--pred",
            str(tmp_path / "p"),
            "--data",
            str(data),
            "--reports-jsonl",
            str(data / "truth.jsonl"),
            "--out",
            str(tmp_path / "eval"),
        ],
    )
    assert done.exit_code == 0, done.output
    assert "Per-voxel" in done.output
    assert "Report-based (operating point chosen on val)" in done.output
    for name in (
        "metrics.csv",
        "pixel_cases.csv",
        "report_cases.csv",
        "roc.png",
        "metrics_table.png",
        "summary.json",
    ):
        assert (tmp_path / "eval" / name).is_file(), name


def test_cli_bad_manifest_is_one_clear_error(
    runs: tuple[Path, Path, Path], tmp_path: Path, app: typer.Typer
) -> None:
    data, _, _ = runs
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "labels.json").write_text((data / "labels.json").read_text())
    text = (data / "manifest.csv").read_text().replace("cases/phantom_00000/ct", "cases/nowhere/ct")
    (bad / "manifest.csv").write_text(text.replace("PH0000002", "MISSING"))
    for case in (data / "cases").iterdir():
        (bad / "cases").mkdir(exist_ok=True)
        (bad / "cases" / case.name).symlink_to(case)
    done = CliRunner().invoke(
        app,
        [
            "train",
            "--data",
            str(bad),
            "--out",
            str(tmp_path / "run"),
            "--mode",
            "reports",
            "--reports-jsonl",
            str(data / "truth.jsonl"),
            "--steps",
            "1",
            "--no-progress",
        ],
    )
    assert done.exit_code == 2
    assert "2 problem(s)" in done.output
    assert "nowhere" in done.output
    assert "'MISSING'" in done.output
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_build_network_takes_one_input_channel_per_input_organ(tmp_path: Path) -> None:
    import torch

    from segmentation.networks import build_network
    from segmentation.training import TrainConfig

    cfg = TrainConfig(data_dir=tmp_path, out_dir=tmp_path / "run", input_organs=("liver", "kidney"))
    net = build_network(cfg).eval()
    out = net(torch.zeros(1, 3, 16, 16, 16))
    assert out.shape == (1, 3, 16, 16, 16)
    with pytest.raises(RuntimeError):
        net(torch.zeros(1, 1, 16, 16, 16))


def test_organ_gated_network_shares_one_lesion_map_inside_each_organ(tmp_path: Path) -> None:
    import torch

    from segmentation.networks import OUTSIDE_LOGIT, OrganGatedLesionNet, build_network
    from segmentation.training import TrainConfig
    from segmentation.training.config import NetworkConfig

    organs = ("liver", "pancreas", "kidney")
    cfg = TrainConfig(
        data_dir=tmp_path,
        out_dir=tmp_path / "run",
        input_organs=("kidney", "liver", "pancreas"),  # another order than the channels
        network=NetworkConfig(organ_gated=True),
    )
    net = build_network(cfg)
    assert isinstance(net, OrganGatedLesionNet)
    x = torch.rand(2, 4, 16, 16, 16)
    x[:, 1:] = 0.0
    x[:, 1, :8] = 1.0  # kidney: first half of the first axis
    x[:, 2, 8:, :8] = 1.0  # liver
    x[:, 3, 8:, 8:] = 1.0  # pancreas
    net.eval()
    out = net(x)
    assert out.shape == (2, 3, 16, 16, 16)
    shared = net.net(x)[:, 0]
    for c, organ in enumerate(organs):
        inside = x[:, 1 + cfg.input_organs.index(organ)] > 0.5
        assert torch.equal(out[:, c][inside], shared[inside])
        assert bool((out[:, c][~inside] == OUTSIDE_LOGIT).all())
    net.train()
    heads = net(x)  # DynUNet's deep-supervision heads: (B, heads, C, ...)
    assert heads.shape[:3] == (2, 3, 3)
    with pytest.raises(ValueError, match="add \\['pancreas'\\] to input_organs"):
        TrainConfig(
            data_dir=tmp_path,
            out_dir=tmp_path / "run",
            input_organs=("liver", "kidney"),
            network=NetworkConfig(organ_gated=True),
        )


def test_prediction_pads_z_scored_images_as_training_does() -> None:
    window = PreprocessConfig(min_shape=(32, 32, 24))
    assert prediction_preprocess(window).min_shape == (0, 0, 0)  # sliding windows pad with the floor, 0
    zscored = PreprocessConfig(min_shape=(32, 32, 24), normalize="organ_zscore")
    assert prediction_preprocess(zscored) == zscored  # padded before the z-score: air, not the organ mean


def _prepared(image: np.ndarray) -> PreparedCase:
    """A PreparedCase holding ``image`` ``(H, W, D)`` only (no organs, identity grids)."""
    shape = tuple(int(n) for n in image.shape)
    return PreparedCase(
        case_id="c",
        image=image[None].astype(np.float32),
        organs=np.zeros(shape, dtype=np.int16),
        organ_names={},
        tumors=None,
        affine=np.eye(4),
        spacing=(1.0, 1.0, 1.0),
        source_affine=np.eye(4),
        source_shape=shape,  # type: ignore[arg-type]
    )


def test_mirroring_leaves_an_equivariant_network_unchanged() -> None:
    """Each mirrored pass is mirrored back before averaging: a network that commutes with flips (a
    pointwise map) gives the unmirrored answer, on an image with no symmetry."""
    import torch

    net = torch.nn.Conv3d(1, 2, kernel_size=1)
    image = np.random.default_rng(0).normal(size=(12, 10, 8))
    plain = predict_prepared(net, _prepared(image), (12, 10, 8))
    mirrored = predict_prepared(net, _prepared(image), (12, 10, 8), mirror_axes=(0, 1, 2))
    assert mirrored.shape == (2, 12, 10, 8)
    assert torch.allclose(plain, mirrored, atol=1e-6)


def test_mirroring_averages_the_mirrored_views() -> None:
    """A network that sees position (its output rises along H whatever the input) is asymmetric alone;
    mirrored along H its averaged answer is symmetric along H, and along W only it stays asymmetric."""
    import torch

    class Ramp(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W, D) -> (B, 1, H, W, D)
            ramp = torch.linspace(-3.0, 3.0, x.shape[2]).view(1, 1, -1, 1, 1)
            return ramp.expand(x.shape[0], 1, *x.shape[2:]) + 0 * x[:, :1]

    image = np.zeros((8, 6, 4))
    plain = predict_prepared(Ramp(), _prepared(image), (8, 6, 4))
    along_h = predict_prepared(Ramp(), _prepared(image), (8, 6, 4), mirror_axes=(0,))
    along_w = predict_prepared(Ramp(), _prepared(image), (8, 6, 4), mirror_axes=(1,))
    assert not torch.allclose(plain, plain.flip(1))
    assert torch.allclose(along_h, along_h.flip(1), atol=1e-6)
    assert torch.allclose(along_h, torch.full_like(along_h, 0.5), atol=1e-6)  # sigmoid(r) + sigmoid(-r) = 1
    assert torch.allclose(along_w, plain, atol=1e-6)


@pytest.mark.parametrize("axes", [(3,), (0, 0), (-1,), (0.9,), (True,), "210", 1])
def test_bad_mirror_axes_are_refused_by_name(axes: object) -> None:
    with pytest.raises(ValueError, match="mirror_axes"):
        check_mirror_axes(axes)  # type: ignore[arg-type]


def test_prediction_json_records_the_mirror_axes(runs: tuple[Path, Path, Path], tmp_path: Path) -> None:
    data, stage1, _ = runs
    predict(stage1, data, tmp_path / "pred", split="test", progress=False, mirror_axes=(2, 0))
    info = json.loads((tmp_path / "pred" / "prediction.json").read_text(encoding="utf-8"))
    assert info["mirror_axes"] == [0, 2]
