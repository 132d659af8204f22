"""Tests of the phantom cohort generator (tiny volumes: 48 x 48 x 32 voxels at 5 x 5 x 6 mm)."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
from scipy import ndimage

from phantom import PhantomConfig, generate_case, generate_cohort, generate_cohort_simple
from phantom.cohort import MANIFEST_COLUMNS, REPORT_COLUMNS
from schemas.records import CountKind, OrganStatus, ReportExtraction, text_sha256
from schemas.vocabulary import Organ, Side

TINY = PhantomConfig(shape=(48, 48, 32), spacing=(5.0, 5.0, 6.0), lesion_diameter_mm=(10.0, 45.0))
SIZE_RE = re.compile(r"\d+(?:[.,]\d+)?\s*(?:cm|mm)\b")
TARGETS = (Organ.LIVER, Organ.PANCREAS, Organ.KIDNEY)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("phantom")
    generate_cohort(out, n_mask=3, n_report=8, n_val=2, n_test=3, seed=7, config=TINY, progress=False)
    return out


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _load(out: Path, rel: str) -> tuple[np.ndarray, Any]:
    img = nib.load(out / rel)
    return np.asarray(img.dataobj), img


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    for name in ("a", "b"):
        generate_cohort(
            tmp_path / name, n_mask=1, n_report=2, n_val=0, n_test=1, seed=3, config=TINY, progress=False
        )
    first, second = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert len(first) == 5 + 3 * 4
    assert first == second


def test_same_seed_same_case_arrays_and_report() -> None:
    a, b = generate_case(2, 11, TINY), generate_case(2, 11, TINY)
    np.testing.assert_array_equal(a.ct, b.ct)
    np.testing.assert_array_equal(a.organs, b.organs)
    np.testing.assert_array_equal(a.tumors, b.tumors)
    assert a.report.text == b.report.text
    assert a.report.truth == b.report.truth


def test_different_seeds_differ() -> None:
    a, b = generate_case(0, 1, TINY), generate_case(0, 2, TINY)
    assert not np.array_equal(a.ct, b.ct)
    assert not np.array_equal(a.organs, b.organs)
    texts = {generate_case(i, s, TINY).report.text for i in range(3) for s in (1, 2)}
    assert len(texts) == 6


def test_nifti_header_spacing_orientation_and_dtypes(cohort: Path) -> None:
    row = _rows(cohort / "manifest.csv")[0]
    for column, dtype in (("image", np.int16), ("organ_mask", np.uint8), ("tumor_mask", np.uint8)):
        data, img = _load(cohort, row[column])
        assert data.shape == TINY.shape
        assert data.dtype == dtype
        assert img.header.get_zooms() == pytest.approx(TINY.spacing)
        np.testing.assert_allclose(np.abs(np.diag(img.affine)[:3]), TINY.spacing)
        assert nib.aff2axcodes(img.affine) == ("R", "A", "S")
    ct, _ = _load(cohort, row["image"])
    organs, _ = _load(cohort, row["organ_mask"])
    assert np.median(ct[0, 0, :]) < -900  # air outside the body
    assert 20 < np.median(ct[np.isin(organs, range(1, 9))]) < 200  # enhancing liver parenchyma


def test_manifest_layout_and_paths(cohort: Path) -> None:
    rows = _rows(cohort / "manifest.csv")
    assert tuple(rows[0]) == MANIFEST_COLUMNS
    assert len(rows) == 16
    roles = [(r["split"], r["role"]) for r in rows]
    assert (
        roles
        == [("train", "mask")] * 3
        + [("train", "report")] * 8
        + [("val", "test")] * 2
        + [("test", "test")] * 3
    )
    for row in rows:
        for column in ("image", "organ_mask", "tumor_mask"):
            assert (cohort / row[column]).is_file(), row[column]
    reports = _rows(cohort / "reports.csv")
    assert tuple(reports[0]) == REPORT_COLUMNS
    assert [r["Accession Number"] for r in reports] == [r["report_id"] for r in rows]
    labels = json.loads((cohort / "labels.json").read_text())
    assert labels["organs"]["1"] == "liver_segment_1"
    assert labels["organs"]["11"] == "pancreas_tail"
    assert labels["organs"]["13"] == "kidney_right"
    assert labels["tumors"] == {"1": "liver", "2": "pancreas", "3": "kidney"}


def test_tumor_voxels_lie_inside_their_organ(cohort: Path) -> None:
    hosts = {1: range(1, 9), 2: (9, 10, 11), 3: (12, 13)}
    n_tumor = 0
    for row in _rows(cohort / "manifest.csv"):
        organs, _ = _load(cohort, row["organ_mask"])
        tumors, _ = _load(cohort, row["tumor_mask"])
        assert set(np.unique(tumors)) <= {0, 1, 2, 3}
        for label, host in hosts.items():
            inside = np.isin(organs[tumors == label], list(host))
            assert inside.all(), (row["case_id"], label)
            n_tumor += inside.size
    assert n_tumor > 0


def _centroid_x(organs: np.ndarray, affine: np.ndarray, labels: tuple[int, ...]) -> float:
    idx = np.argwhere(np.isin(organs, labels)).mean(0)
    return float((affine[:3, :3] @ idx + affine[:3, 3])[0])


@pytest.mark.parametrize("seed", [0, 1, 2, 3], ids=lambda s: f"seed{s}")
def test_sub_segments_partition_and_anatomy(seed: int) -> None:
    case = generate_case(0, seed, TINY)
    organs, aff = case.organs, case.affine
    assert set(np.unique(organs)) <= set(range(15))
    liver = np.isin(organs, range(1, 9)).sum()
    for seg in range(1, 9):  # 8 non-empty Couinaud segments, none negligible
        assert (organs == seg).sum() > 0.005 * liver, f"segment {seg}"
    for part in (9, 10, 11):
        assert (organs == part).any(), f"pancreas part {part}"
    for organ in (12, 13, 14):
        assert (organs == organ).sum() > 20
    # RAS+: +x = patient right. Liver, right kidney, pancreatic head: right of spleen, left kidney, tail.
    assert _centroid_x(organs, aff, (13,)) > 0 > _centroid_x(organs, aff, (12,))
    assert _centroid_x(organs, aff, tuple(range(1, 9))) > 0 > _centroid_x(organs, aff, (14,))
    assert _centroid_x(organs, aff, (9,)) > _centroid_x(organs, aff, (10,)) > _centroid_x(organs, aff, (11,))
    assert _centroid_x(organs, aff, (6, 7)) > _centroid_x(organs, aff, (2, 3))


def _lesion_component(tumors: np.ndarray, affine: np.ndarray, center_mm: list[float]) -> np.ndarray:
    ijk = np.rint(np.linalg.solve(affine[:3, :3], np.asarray(center_mm) - affine[:3, 3])).astype(int)
    components, _ = ndimage.label(tumors > 0)
    label = components[tuple(ijk)]
    assert label > 0
    return np.argwhere(components == label)


def test_reported_diameters_match_mask_extent(cohort: Path) -> None:
    rows = _rows(cohort / "manifest.csv")
    truths = [
        ReportExtraction.model_validate_json(line)
        for line in (cohort / "truth.jsonl").read_text().splitlines()
    ]
    checked = 0
    for row, masks, truth in zip(rows, _jsonl(cohort / "truth_masks.jsonl"), truths, strict=True):
        tumors, img = _load(cohort, row["tumor_mask"])
        for lesion in masks["lesions"]:
            if lesion["reported"] != "individual" or lesion["n_voxels"] < 30:
                continue
            size = truth.lesions[lesion["truth_index"]].size
            if size is None:
                continue
            voxels = _lesion_component(tumors, img.affine, lesion["center_mm"]) * np.asarray(TINY.spacing)
            measured = 2.0 * np.sqrt(5.0 * np.sort(np.linalg.eigvalsh(np.cov(voxels.T)))[::-1])
            for k, reported in enumerate(size.diameters_mm):
                true = sorted(lesion["diameters_mm"], reverse=True)[k]
                assert abs(reported - true) <= 0.5 + 1e-6, (reported, true)  # rounding to 1 mm / 0.1 cm
                assert abs(reported - measured[k]) <= max(0.3 * measured[k], 6.0), (reported, measured)
            checked += 1
    assert checked >= 3


def test_truth_validates_and_matches_report(cohort: Path) -> None:
    reports = {r["Accession Number"]: r["Findings"] for r in _rows(cohort / "reports.csv")}
    masks = _jsonl(cohort / "truth_masks.jsonl")
    lines = (cohort / "truth.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(masks) == len(reports)
    for line, mask in zip(lines, masks, strict=True):
        truth = ReportExtraction.model_validate_json(line)
        text = reports[truth.report_id]
        assert truth.provenance.backend == "phantom-truth"
        assert truth.text_sha256 == text_sha256(text)
        for lesion in truth.lesions:
            ev = lesion.evidence
            assert ev is not None
            assert ev.start is not None
            assert text[ev.start : ev.end] == ev.quote
            for d in lesion.size.diameters_mm if lesion.size else ():
                assert any(
                    abs(float(n.replace(",", ".")) * s - d) < 1e-6
                    for n in re.findall(r"\d+(?:[.,]\d+)?", ev.quote)
                    for s in (1, 10)
                )
        for organ in TARGETS:
            finding = truth.finding(organ)
            listed = truth.lesions_of(organ)
            in_mask = [les for les in mask["lesions"] if les["organ"] == organ.value]
            individual = [les for les in in_mask if les["reported"] == "individual"]
            if finding.status is OrganStatus.NORMAL:
                assert not listed
                assert not individual
            else:
                assert finding.status is OrganStatus.LESION
                assert finding.count is not None
                if finding.count.kind is CountKind.MULTIPLE:
                    assert len(listed) == 1
                    assert len(in_mask) >= 2
                else:
                    assert finding.count.value == len(listed) == len(individual)
            for les in individual:
                reported = truth.lesions[les["truth_index"]]
                assert reported.organ is organ
                if organ is Organ.KIDNEY:
                    assert reported.side is Side(les["side"])


def test_healthy_reports_negate_and_measure_no_lesion() -> None:
    cfg = PhantomConfig(
        shape=TINY.shape,
        spacing=TINY.spacing,
        lesion_diameter_mm=TINY.lesion_diameter_mm,
        healthy_fraction=1.0,
    )
    for i in range(8):
        case = generate_case(i, 5, cfg)
        assert not case.lesions
        assert not case.tumors.any()
        truth, text = case.report.truth, case.report.text
        assert not truth.lesions
        for organ in TARGETS:
            assert truth.finding(organ).status is OrganStatus.NORMAL, (organ, text)
        assert re.search(r"\b(no|unremarkable|without)\b", text, re.IGNORECASE)
        stripped = text
        for start, end in sorted(case.report.distractor_spans, reverse=True):
            stripped = stripped[:start] + stripped[end:]
        assert not SIZE_RE.search(stripped), stripped


def test_lesion_cases_and_sizes_follow_config() -> None:
    cfg = PhantomConfig(
        shape=TINY.shape, spacing=TINY.spacing, lesion_diameter_mm=(12.0, 30.0), healthy_fraction=0.0
    )
    for i in range(6):
        case = generate_case(i, 9, cfg)
        assert case.lesions
        for lesion in case.lesions:
            assert 12.0 - 1e-6 <= lesion.diameters_mm[0] <= 30.0 + 1e-6
            assert (case.tumors == lesion.tumor_label).any()


def test_report_noise_knobs() -> None:
    base = {
        "shape": TINY.shape,
        "spacing": TINY.spacing,
        "lesion_diameter_mm": (10.0, 30.0),
        "healthy_fraction": 0.0,
    }
    omitted = generate_case(0, 4, PhantomConfig(**base, omission_prob=1.0))
    assert omitted.lesions
    assert set(omitted.report.reported) == {"omitted"}
    assert not omitted.report.truth.lesions
    groups = 0
    for i in range(6):
        case = generate_case(i, 4, PhantomConfig(**base, multiple_prob=1.0, omission_prob=0.0))
        for organ in TARGETS:
            n = sum(les.organ is organ for les in case.lesions)
            count = case.report.truth.finding(organ).count
            if n >= 2:
                assert count is not None
                assert count.kind is CountKind.MULTIPLE
                groups += 1
            elif n == 1:
                assert count is not None
                assert count.value == 1
    assert groups > 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"shape": (8, 48, 32)}, "shape"),
        ({"spacing": (1.0, 0.0, 1.0)}, "spacing"),
        ({"healthy_fraction": 1.5}, "healthy_fraction"),
        ({"lesion_diameter_mm": (30.0, 10.0)}, "lesion_diameter_mm"),
        ({"noise_sigma_hu": (-1.0, 5.0)}, "noise_sigma_hu"),
        ({"style_weights": {"narrative": 0.0}}, "style_weights"),
        ({"lesion_edge": 0.0}, "lesion_edge"),
        ({"organ_contrast_hu": {"spleen": (10.0, 20.0)}}, "organ_contrast_hu"),
        ({"organ_contrast_hu": {"kidney": (90.0, 60.0)}}, "organ_contrast_hu"),
    ],
    ids=["shape", "spacing", "healthy", "diameters", "noise", "styles", "edge", "organ", "organ-range"],
)
def test_config_rejects_bad_values(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        PhantomConfig(**kwargs)


def test_existing_cohort_is_not_overwritten(cohort: Path) -> None:
    with pytest.raises(ValueError, match="overwrite=True"):
        generate_cohort(cohort, n_mask=1, n_report=0, n_val=0, n_test=0, seed=7, config=TINY, progress=False)
    with pytest.raises(ValueError, match="n_test"):
        generate_cohort(cohort / "x", n_mask=1, n_report=0, n_val=0, n_test=-1, seed=7, progress=False)


@pytest.mark.parametrize(
    ("n", "expected"), [(1, (1, 0, 0, 0)), (2, (1, 1, 0, 0)), (20, (3, 12, 2, 3))], ids=str
)
def test_generate_cohort_simple_splits(tmp_path: Path, n: int, expected: tuple[int, int, int, int]) -> None:
    summary = generate_cohort_simple(tmp_path / "c", n, seed=0, config=TINY, progress=False)
    roles = summary.roles
    splits = summary.splits
    got = (roles.get("mask", 0), roles.get("report", 0), splits.get("val", 0), splits.get("test", 0))
    assert got == expected
    assert len(_rows(tmp_path / "c" / "manifest.csv")) == n


def test_organ_contrast_replaces_the_default_range_for_that_organ() -> None:
    cfg = PhantomConfig(
        shape=(48, 48, 32),
        spacing=(6.0, 6.0, 7.0),
        healthy_fraction=0.0,
        lesion_contrast_hu=(30.0, 40.0),
        subtle_fraction=0.0,
        subtle_contrast_hu=30.0,
        organ_contrast_hu={"kidney": (100.0, 120.0)},
    )
    seen: dict[str, list[float]] = {}
    for index in range(6):
        for lesion in generate_case(index, 3, cfg).lesions:
            seen.setdefault(lesion.organ.value, []).append(abs(lesion.contrast_hu))
    assert seen.get("kidney")
    assert all(100.0 <= c <= 120.0 for c in seen["kidney"])
    others = [c for organ, values in seen.items() if organ != "kidney" for c in values]
    assert others
    assert all(30.0 <= c <= 40.0 for c in others)
