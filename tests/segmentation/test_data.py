"""Dataset description, preprocessing cache, crops, augmentation and the sub-segment fallback."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch

from phantom import PhantomConfig, generate_cohort
from segmentation.data.augment import transform_target
from segmentation.data.dataset import SamplingConfig, StepSampler, TrainCropDataset
from segmentation.data.fallback import split_kidneys, split_pancreas, subsegment_fallback
from segmentation.data.manifest import ManifestError, Role, load_manifest, validate_manifest
from segmentation.data.preprocess import PreprocessConfig, prepare_case
from segmentation.records import load_report_facts
from segmentation.targets import LesionFact, OrganFact, build_report_target

CHANNELS = ("liver", "pancreas", "kidney")
PHANTOM = PhantomConfig(
    shape=(24, 24, 24), spacing=(5.0, 5.0, 5.0), lesion_diameter_mm=(10.0, 25.0), healthy_fraction=0.0
)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cohort")
    generate_cohort(out, n_mask=2, n_report=3, n_val=1, n_test=1, seed=1, config=PHANTOM, progress=False)
    return out


def test_bad_manifest_lists_every_problem(cohort: Path, tmp_path: Path) -> None:
    data = tmp_path / "bad"
    shutil.copytree(cohort, data)
    rows = list(csv.DictReader((data / "manifest.csv").open()))
    (data / rows[0]["image"]).unlink()  # missing file
    shifted = nib.load(data / rows[1]["image"])
    nib.save(
        nib.Nifti1Image(np.asarray(shifted.dataobj), shifted.affine + np.eye(4)), data / rows[1]["organ_mask"]
    )
    small = np.zeros((8, 8, 8), dtype=np.uint8)
    nib.save(nib.Nifti1Image(small, shifted.affine), data / rows[2]["tumor_mask"])  # shape mismatch
    organs = nib.load(data / rows[3]["organ_mask"])
    labels = np.asarray(organs.dataobj).copy()
    labels[0, 0, 0] = 99
    nib.save(nib.Nifti1Image(labels, organs.affine), data / rows[3]["organ_mask"])  # unknown label
    rows[4]["report_id"] = "NOPE"
    rows[5]["role"] = "teacher"
    with (data / "manifest.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    manifest = load_manifest(data)
    facts, _ = load_report_facts(
        [c.report_id for c in manifest.cases if c.report_id], reports_jsonl=data / "truth.jsonl"
    )
    with pytest.raises(ManifestError) as err:
        validate_manifest(manifest, channels=(*CHANNELS, "lung"), has_report=facts.__contains__)
    text = str(err.value)
    assert len(err.value.problems) == 7, text
    for needle in (
        "image file not found",
        "affine differs",
        "shape (8, 8, 8)",
        "[99]",
        "'NOPE'",
        "'teacher'",
        "'lung'",
    ):
        assert needle in text, (needle, text)


def test_valid_manifest_and_cache(cohort: Path) -> None:
    manifest = load_manifest(cohort)
    validate_manifest(manifest, channels=CHANNELS)
    cfg = PreprocessConfig(spacing=(6.0, 6.0, 6.0), min_shape=(24, 24, 24))
    case = manifest.cases[0]
    first = prepare_case(case, manifest.labels, cfg, cohort / "cache")
    assert first.image.shape == (1, 24, 24, 24)
    assert first.spacing == (6.0, 6.0, 6.0)
    assert first.image.min() >= 0.0
    assert first.image.max() <= 1.0
    assert len(list((cohort / "cache").glob("*.npz"))) == 1
    again = prepare_case(case, manifest.labels, cfg, cohort / "cache")  # from the cache
    np.testing.assert_array_equal(first.image, again.image)
    np.testing.assert_array_equal(first.organs, again.organs)
    assert first.organ_names == again.organ_names
    assert np.allclose(first.affine, again.affine)


def test_organ_zscore_standardises_the_organ_voxels_and_keeps_the_window_order(cohort: Path) -> None:
    manifest = load_manifest(cohort)
    case = manifest.cases[0]
    window = prepare_case(case, manifest.labels, PreprocessConfig(), None)
    zscored = prepare_case(case, manifest.labels, PreprocessConfig(normalize="organ_zscore"), None)
    inside = window.organs > 0
    assert zscored.image[0][inside].mean() == pytest.approx(0.0, abs=1e-4)
    assert zscored.image[0][inside].std() == pytest.approx(1.0, abs=1e-3)
    # an affine map of the window's values: same order, one scale
    scale = window.image[0][inside].std()
    np.testing.assert_allclose(
        zscored.image * scale + window.image[0][inside].mean(), window.image, rtol=0, atol=1e-4
    )


def test_organ_zscore_names_a_case_without_organ_voxels(cohort: Path, tmp_path: Path) -> None:
    from dataclasses import replace

    manifest = load_manifest(cohort)
    case = manifest.cases[0]
    organs = nib.load(case.organ_mask)
    empty = tmp_path / "organs.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros(organs.shape, dtype=np.int16), organs.affine), empty)
    with pytest.raises(ValueError, match=f"case {case.case_id}: .*no organ voxel"):
        prepare_case(
            replace(case, organ_mask=empty), manifest.labels, PreprocessConfig(normalize="organ_zscore")
        )


def test_gated_bce_needs_an_organ_gated_network(cohort: Path, tmp_path: Path) -> None:
    from segmentation.training import TrainConfig

    with pytest.raises(ValueError, match="organ_gated"):
        TrainConfig(data_dir=cohort, out_dir=tmp_path / "run", loss={"gated_bce": True})


def test_organ_zscore_refuses_the_window_intensity_augmentation(cohort: Path, tmp_path: Path) -> None:
    from segmentation.training import TrainConfig

    with pytest.raises(ValueError, match="intensity_strength"):
        TrainConfig(
            data_dir=cohort,
            out_dir=tmp_path / "run",
            preprocess=PreprocessConfig(normalize="organ_zscore"),
            sampling=SamplingConfig(intensity_strength=1.0),
        )


def test_folder_of_structure_masks(cohort: Path, tmp_path: Path) -> None:
    manifest = load_manifest(cohort)
    case = manifest.cases[0]
    folder = tmp_path / "segmentations"
    folder.mkdir()
    img = nib.load(case.organ_mask)
    organs = np.asarray(img.dataobj)
    for value, name in manifest.labels.organs.items():
        nib.save(nib.Nifti1Image((organs == value).astype(np.uint8), img.affine), folder / f"{name}.nii.gz")
    from dataclasses import replace

    split = replace(case, organ_mask=folder)
    a = prepare_case(case, manifest.labels, PreprocessConfig(), None)
    b = prepare_case(split, manifest.labels, PreprocessConfig(), None)
    assert {k: int(v.sum()) for k, v in a.masks().items()} == {k: int(v.sum()) for k, v in b.masks().items()}


@pytest.fixture(scope="module")
def dataset(cohort: Path) -> TrainCropDataset:
    manifest = load_manifest(cohort)
    cases = manifest.select(split="train")
    facts, _ = load_report_facts(
        [c.report_id for c in cases if c.role is Role.REPORT], reports_jsonl=cohort / "truth.jsonl"
    )
    return TrainCropDataset(
        [c for c in cases if c.role is Role.MASK],
        [c for c in cases if c.role is Role.REPORT],
        facts,
        manifest.labels,
        CHANNELS,
        PreprocessConfig(min_shape=(16, 16, 16)),
        SamplingConfig(crop_size=(16, 16, 16), max_distance_mm=15.0),
        cohort / "cache",
        seed=3,
    )


def test_samples_are_deterministic_and_mixed(dataset: TrainCropDataset) -> None:
    samples = [dataset[i] for i in range(24)]
    again = dataset[5]
    assert torch.equal(samples[5].image, again.image)
    assert torch.equal(samples[5].label, again.label)
    kinds = [s.kind for s in samples]
    assert 4 <= kinds.count("mask") <= 20, kinds
    assert "report" in kinds, kinds
    for s in samples:
        assert s.image.shape == (1, 16, 16, 16)
        assert s.label.shape == (3, 16, 16, 16)
        if s.kind == "mask":
            assert s.target is None
        else:
            assert s.target is not None
            assert s.target.shape == (16, 16, 16)
            assert not s.label.any()
            assert s.target.has_target == (s.kind == "report") or s.kind == "report"
    assert any(s.target is not None and s.target.has_target for s in samples)  # crops hold the segment group


def test_step_sampler_shards_ranks_and_resumes() -> None:
    full = list(StepSampler(0, 3, batch_size=2, rank=1, world_size=2))
    assert full == [2, 3, 6, 7, 10, 11]
    assert list(StepSampler(2, 3, batch_size=2, rank=1, world_size=2)) == full[4:]


def test_augmented_target_equals_target_of_augmented_masks() -> None:
    shape = (12, 12, 10)
    rng = np.random.default_rng(0)
    masks = {"pancreas_head": np.zeros(shape, dtype=bool), "pancreas_tail": np.zeros(shape, dtype=bool)}
    masks["pancreas_head"][1:6, 2:9, 3:7] = True
    masks["pancreas_tail"][6:11, 2:9, 3:7] = True
    masks["kidney_left"] = rng.random(shape) > 0.9
    facts = ([LesionFact("pancreas", (8.0,), ("pancreas_tail",))], [OrganFact("pancreas", "lesion", count=2)])
    spacing = (2.0, 2.0, 3.0)
    ops = [("flip", 0), ("swap", 0, 1), ("flip", 2)]
    target = build_report_target(*facts, masks, spacing, CHANNELS)
    moved = {k: np.flip(np.swapaxes(np.flip(v, 0), 0, 1), 2).copy() for k, v in masks.items()}
    expected = build_report_target(*facts, moved, (2.0, 2.0, 3.0), CHANNELS)
    got = transform_target(target, ops)
    assert torch.equal(got.unknown, expected.unknown)
    a, b = got.channel_targets[1], expected.channel_targets[1]
    assert a.region_boxes == b.region_boxes
    assert torch.equal(a.region_distance, b.region_distance)
    assert a.exclude is not None
    assert b.exclude is not None
    assert torch.equal(a.exclude, b.exclude)
    assert a.exclude.any()


def test_geometric_fallback_is_labelled_and_oriented() -> None:
    shape = (30, 12, 12)
    pancreas = np.zeros(shape, dtype=bool)
    pancreas[3:27, 5:8, 5:8] = True
    parts = split_pancreas(pancreas, (1.0, 1.0, 1.0))
    head_x = np.argwhere(parts["pancreas_head"])[:, 0].mean()
    tail_x = np.argwhere(parts["pancreas_tail"])[:, 0].mean()
    assert head_x > tail_x  # head at the patient's right (+x in RAS)
    assert sum(int(p.sum()) for p in parts.values()) == int(pancreas.sum())
    kidneys = np.zeros(shape, dtype=bool)
    kidneys[2:6, 4:8, 4:8] = kidneys[24:28, 4:8, 4:8] = True
    sides = split_kidneys(kidneys)
    assert np.argwhere(sides["kidney_right"])[:, 0].min() >= 24
    assert np.argwhere(sides["kidney_left"])[:, 0].max() < 6
    labels = np.where(pancreas, 1, 0) + np.where(kidneys, 2, 0)
    new, names, approximate = subsegment_fallback(labels, {1: "pancreas", 2: "kidney"}, (1.0, 1.0, 1.0))
    assert sorted(approximate) == sorted(
        ["pancreas_head", "pancreas_body", "pancreas_tail", "kidney_left", "kidney_right"]
    )
    assert set(names.values()) == set(approximate)
    assert set(np.unique(new)) - {0} == set(names)
    json.dumps(names)  # plain, cacheable


def test_network_input_appends_one_organ_mask_per_input_organ(cohort: Path) -> None:
    manifest = load_manifest(cohort)
    prepared = prepare_case(manifest.cases[0], manifest.labels, PreprocessConfig())
    np.testing.assert_array_equal(prepared.network_input(), prepared.image)
    box = (slice(2, 14), slice(0, 10), slice(5, 21))
    x = prepared.network_input(("liver", "kidney", "lung"), box)
    assert x.shape == (4, 12, 10, 16)
    np.testing.assert_array_equal(x[0], prepared.image[0][box])
    liver = prepared.organ_mask("liver")
    assert liver is not None
    assert liver.any()
    np.testing.assert_array_equal(x[1], liver[box].astype(np.float32))
    kidney = np.isin(prepared.organs, [v for v, n in prepared.organ_names.items() if n.startswith("kidney_")])
    np.testing.assert_array_equal(x[2], kidney[box].astype(np.float32))
    assert not x[3].any()  # no lung in the phantom: a zero channel


def test_input_organ_channels_are_not_intensity_augmented(cohort: Path) -> None:
    manifest = load_manifest(cohort)
    cases = manifest.select(split="train", roles=[Role.MASK])
    dataset = TrainCropDataset(
        list(cases),
        [],
        {},
        manifest.labels,
        CHANNELS,
        PreprocessConfig(min_shape=(16, 16, 16)),
        SamplingConfig(crop_size=(16, 16, 16), intensity_strength=3.0),
        None,
        seed=0,
        input_organs=("liver", "pancreas"),
    )
    for i in range(6):
        sample = dataset[i]
        assert sample.image.shape == (3, 16, 16, 16)
        assert set(sample.image[1:].unique().tolist()) <= {0.0, 1.0}


@pytest.mark.parametrize("balanced", [False, True])
def test_organ_centred_crops_balance_the_lesion_organs(cohort: Path, balanced: bool) -> None:
    """Voxel-uniform organ crops land in the liver most of the time; organ-balanced ones give each
    lesion channel's organ about a third."""
    manifest = load_manifest(cohort)
    cases = list(manifest.select(split="train", roles=[Role.MASK]))
    dataset = TrainCropDataset(
        cases,
        [],
        {},
        manifest.labels,
        CHANNELS,
        PreprocessConfig(min_shape=(16, 16, 16)),
        SamplingConfig(crop_size=(16, 16, 16), mask_crop_probs=(0.0, 1.0, 0.0), organ_balanced=balanced),
        None,
        seed=0,
    )
    prepared = prepare_case(cases[0], manifest.labels, PreprocessConfig(min_shape=(16, 16, 16)), None)
    rng = np.random.default_rng(0)
    hits = dict.fromkeys(CHANNELS, 0)
    masks = {o: prepared.organ_mask(o) for o in CHANNELS}
    for _ in range(300):
        pool = dataset._organ_voxels(prepared, rng)
        point = tuple(pool[rng.integers(len(pool))])  # as _mask_crop draws its centre
        for organ, mask in masks.items():
            hits[organ] += int(mask is not None and bool(mask[point]))
    share = {o: n / 300 for o, n in hits.items()}
    if balanced:
        assert all(0.2 < s < 0.47 for s in share.values()), share
    else:
        assert share["liver"] > 0.7, share
        assert share["pancreas"] < 0.1, share
