"""Dataset description: a manifest of cases plus a label map, validated up front.

Layout (the phantom cohort's, :mod:`phantom`, is the reference)::

    DATA/
      manifest.csv   case_id, image, organ_mask, tumor_mask, report_id, split, role
                     (or manifest.json: a list of objects with the same keys)
      labels.json    {"organs": {"1": "liver_segment_1", ..., "9": "pancreas_head", ...},
                      "tumors": {"1": "liver", "2": "pancreas", "3": "kidney"}}

- paths are relative to ``DATA`` (absolute paths are allowed); images and masks are NIfTI;
- ``organ_mask``: one multi-label map (values per ``labels.json`` "organs"; whole organs such as
  ``"pancreas"`` or sub-segments such as ``"pancreas_head"``, ``"liver_segment_5"``, ``"kidney_left"``);
  a folder instead of a file means one binary NIfTI per structure named ``<label>.nii.gz``
  (TotalSegmentator's convention: ``segmentations/liver.nii.gz``, ...);
- ``tumor_mask``: optional multi-label map (values per "tumors": the organ whose tumor it is);
- ``split``: ``train`` / ``val`` / ``test``; ``role``: ``mask`` (trained with its tumor mask),
  ``report`` (trained with its report facts only), ``test`` (evaluation only);
- ``report_id`` links a case to its report in the store / JSONL (required for ``report`` cases).

Without whole-organ sub-segment masks, see :mod:`segmentation.data.fallback` (approximate split).
:func:`validate_manifest` collects every problem and raises one :class:`ManifestError`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import nibabel as nib
import numpy as np

__all__ = [
    "CaseRecord",
    "LabelMap",
    "Manifest",
    "ManifestError",
    "Role",
    "load_manifest",
    "validate_manifest",
]

COLUMNS = ("case_id", "image", "organ_mask", "tumor_mask", "report_id", "split", "role")
REQUIRED = ("case_id", "image", "organ_mask", "split", "role")
SPLITS = ("train", "val", "test")


class Role(StrEnum):
    """How a case is used: trained with its mask, trained with its report, or evaluation only."""

    MASK = "mask"
    REPORT = "report"
    TEST = "test"


class ManifestError(ValueError):
    """A dataset description with problems; ``problems`` lists every one of them."""

    def __init__(self, source: Path | str, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            f"{source}: {len(self.problems)} problem(s) in the dataset description; "
            f"fix them and rerun:\n{lines}"
        )


@dataclass(frozen=True)
class LabelMap:
    """Label values of the organ and tumor masks.

    Attributes:
        organs: organ-mask value → structure name (``"pancreas_head"``, ``"liver"``, ...).
        tumors: tumor-mask value → organ whose tumor it is (``"pancreas"``).
    """

    organs: dict[int, str]
    tumors: dict[int, str]

    def tumor_value(self, organ: str) -> int | None:
        """The tumor-mask value of ``organ``'s tumors (``None`` when the map has none)."""
        return next((v for v, name in self.tumors.items() if name == organ), None)


@dataclass(frozen=True)
class CaseRecord:
    """One manifest row, with paths resolved."""

    case_id: str
    image: Path
    organ_mask: Path
    tumor_mask: Path | None
    report_id: str | None
    split: str
    role: Role


@dataclass
class Manifest:
    """All cases of a dataset and its label map."""

    root: Path
    cases: list[CaseRecord]
    labels: LabelMap
    problems: list[str] = field(default_factory=list)

    def select(
        self, *, split: str | None = None, roles: Iterable[Role | str] | None = None
    ) -> list[CaseRecord]:
        """Cases of one split and/or roles, in manifest order."""
        wanted = None if roles is None else {Role(r) for r in roles}
        return [
            c
            for c in self.cases
            if (split is None or c.split == split) and (wanted is None or c.role in wanted)
        ]


def _read_labels(path: Path, problems: list[str]) -> LabelMap:
    if not path.is_file():
        problems.append(f"labels.json missing at {path}: it maps organ/tumor mask values to names.")
        return LabelMap({}, {})
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return LabelMap(
            organs={int(k): str(v) for k, v in raw.get("organs", {}).items()},
            tumors={int(k): str(v) for k, v in raw.get("tumors", {}).items()},
        )
    except (ValueError, AttributeError) as e:
        problems.append(
            f"{path}: not a valid label map ({e}); expected {{'organs': {{...}}, 'tumors': {{...}}}}."
        )
        return LabelMap({}, {})


def _read_rows(root: Path, problems: list[str]) -> list[dict[str, str]]:
    if (root / "manifest.csv").is_file():
        with (root / "manifest.csv").open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                problems.append(f"manifest.csv lacks column(s) {missing}; expected {list(COLUMNS)}.")
                return []
            return [dict(r) for r in reader]
    if (root / "manifest.json").is_file():
        rows = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
        if not isinstance(rows, list):
            problems.append("manifest.json must hold a list of case objects.")
            return []
        return [{k: "" if v is None else str(v) for k, v in r.items()} for r in rows]
    problems.append(f"no manifest.csv or manifest.json in {root}.")
    return []


def load_manifest(root: Path) -> Manifest:
    """Read ``root/manifest.{csv,json}`` and ``root/labels.json`` (syntax only: :func:`validate_manifest`).

    Rows with an unusable split/role are recorded in ``Manifest.problems`` and skipped.
    """
    root = Path(root)
    problems: list[str] = []
    labels = _read_labels(root / "labels.json", problems)
    cases: list[CaseRecord] = []
    seen: set[str] = set()
    for i, row in enumerate(_read_rows(root, problems), start=1):
        cid = (row.get("case_id") or "").strip() or f"<row {i}>"
        where = f"case {cid}"
        if cid in seen:
            problems.append(f"{where}: duplicate case_id.")
            continue
        seen.add(cid)
        split, role = (row.get("split") or "").strip(), (row.get("role") or "").strip()
        if split not in SPLITS:
            problems.append(f"{where}: split {split!r} is not one of {list(SPLITS)}.")
            continue
        if role not in {r.value for r in Role}:
            problems.append(f"{where}: role {role!r} is not one of {[r.value for r in Role]}.")
            continue
        if not row.get("image") or not row.get("organ_mask"):
            problems.append(f"{where}: image and organ_mask are required.")
            continue
        tumor = (row.get("tumor_mask") or "").strip()
        cases.append(
            CaseRecord(
                case_id=cid,
                image=root / row["image"].strip(),
                organ_mask=root / row["organ_mask"].strip(),
                tumor_mask=root / tumor if tumor else None,
                report_id=(row.get("report_id") or "").strip() or None,
                split=split,
                role=Role(role),
            )
        )
    return Manifest(root=root, cases=cases, labels=labels, problems=problems)


def _header(path: Path) -> tuple[tuple[int, ...], np.ndarray]:
    img = nib.load(str(path))
    return tuple(int(s) for s in img.shape), np.asarray(img.affine)


def _check_labels(path: Path, allowed: set[int], kind: str) -> str | None:
    values = {int(v) for v in np.unique(np.asarray(nib.load(str(path)).dataobj))} - {0}
    unknown = sorted(values - allowed)
    return (
        f"{kind} {path.name} has label value(s) {unknown} missing from labels.json '{kind}s'."
        if unknown
        else None
    )


def validate_manifest(
    manifest: Manifest,
    *,
    channels: Sequence[str] = (),
    roles: Iterable[Role | str] | None = None,
    has_report: Callable[[str], bool] | None = None,
    check_labels: bool = True,
) -> None:
    """Check every case used for ``roles`` and raise ONE :class:`ManifestError` listing all problems.

    Checks: files exist; images are 3D; masks share the image's shape and affine (1e-3 tolerance);
    mask values are in the label map (``check_labels``: reads the masks); ``mask`` cases have a tumor
    mask; ``report`` cases have a report ID for which ``has_report`` is true; the lesion ``channels``
    have tumor labels.
    """
    problems = list(manifest.problems)
    labels = manifest.labels
    problems += [
        f"channel {c!r} has no tumor label in labels.json 'tumors'."
        for c in channels
        if labels.tumor_value(c) is None
    ]
    wanted = None if roles is None else {Role(r) for r in roles}
    for case in manifest.cases:
        if wanted is not None and case.role not in wanted:
            continue
        where = f"case {case.case_id}"
        if case.role is Role.MASK and case.tumor_mask is None:
            problems.append(f"{where}: role 'mask' needs a tumor_mask.")
        if case.role is Role.REPORT:
            if not case.report_id:
                problems.append(f"{where}: role 'report' needs a report_id.")
            elif has_report is not None and not has_report(case.report_id):
                problems.append(
                    f"{where}: report_id {case.report_id!r} has no usable extraction in the report source."
                )
        if not case.image.is_file():
            problems.append(f"{where}: image file not found: {case.image}")
            continue
        try:
            shape, affine = _header(case.image)
        except Exception as e:  # nibabel raises many types for broken files
            problems.append(f"{where}: cannot read image {case.image}: {e}")
            continue
        if len(shape) != 3:
            problems.append(f"{where}: image must be 3D, got shape {shape}.")
            continue
        masks = [("organ", p) for p in _structure_files(case.organ_mask)]
        if case.tumor_mask is not None:
            masks.append(("tumor", case.tumor_mask))
        if case.organ_mask.is_dir() and not masks[:1]:
            problems.append(f"{where}: organ mask folder {case.organ_mask} holds no .nii.gz files.")
        for kind, path in masks:
            if not path.is_file():
                problems.append(f"{where}: {kind} mask not found: {path}")
                continue
            try:
                m_shape, m_affine = _header(path)
            except Exception as e:
                problems.append(f"{where}: cannot read {kind} mask {path}: {e}")
                continue
            if m_shape != shape:
                problems.append(f"{where}: {kind} mask {path.name} shape {m_shape} != image shape {shape}.")
            elif not np.allclose(m_affine, affine, atol=1e-3):
                problems.append(f"{where}: {kind} mask {path.name} affine differs from the image's.")
            elif check_labels and not (kind == "organ" and case.organ_mask.is_dir()):
                allowed = set(labels.organs if kind == "organ" else labels.tumors)
                msg = _check_labels(path, allowed, kind)
                if msg:
                    problems.append(f"{where}: {msg}")
        if case.organ_mask.is_dir():
            names = {p.name.removesuffix(".nii.gz") for p in _structure_files(case.organ_mask)}
            unknown = sorted(names - set(labels.organs.values()))
            if unknown:
                problems.append(
                    f"{where}: structure file(s) {unknown} are not named in labels.json 'organs'."
                )
    if problems:
        raise ManifestError(manifest.root, problems)


def _structure_files(path: Path) -> list[Path]:
    """The organ mask file, or the per-structure files of an organ-mask folder."""
    return sorted(path.glob("*.nii.gz")) if path.is_dir() else [path]
