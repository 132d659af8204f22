"""Import R-Super CSVs (per-tumor, optionally per-CT) as ReportExtraction records.

Lets users bring the LLM outputs the R-Super authors released (or that :mod:`store.export` wrote)
into the store. Records get provenance backend ``rsuper-csv``. Reading follows the conventions of
:mod:`store.rsuper_csv`, so export → import → export reproduces both CSVs exactly.

What a CSV cannot say is filled conservatively:

* the report text is unknown: ``text_sha256`` is the hash of the text when ``texts`` gives it, else
  :data:`UNKNOWN_TEXT_SHA256` (the hash of the empty string);
* lesion-free exams (``no lesion`` true) list every organ as ``normal``; in other exams, organs
  without rows are ``not_mentioned`` (a CSV cannot tell normal from unmentioned);
* a ``multiple`` size becomes a lesion group (count ``multiple``); ``u`` becomes an unmeasured lesion
  (its location kept);
* ``Standardized Location`` of an organ without sub-segments (spleen, colon, bone, ...) becomes the
  lesion's ``site`` (cleaned by :func:`schemas.records.clean_site`; ``u`` means none);
* per-side statuses of paired organs cannot be read from a CSV (organs stay organ-level);
* with a per-CT CSV, each organ's count comes from it (``lower-bound counts`` → ``at_least``), organs
  counted there but absent from the per-tumor CSV become count-only findings, and a largest diameter
  larger than every per-tumor size is attached to the organ's lesion group ("up to" size);
* rows of organs outside the vocabulary (e.g. ``ovary``) are skipped with a warning on the record;
  an exam whose every row is skipped becomes an ``invalid`` record, never a healthy one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pandas as pd

from schemas.records import (
    Count,
    CountKind,
    ExtractionStatus,
    Lesion,
    OrganFinding,
    OrganStatus,
    Provenance,
    Qualifier,
    ReportExtraction,
    Size,
    clean_site,
    text_sha256,
)
from schemas.vocabulary import PAIRED_ORGANS, RSUPER_ORGAN_NAMES, Organ, PancreasPart, Side, resolve_organ
from store.errors import ImportFormatError
from store.repository import SaveRequest, Store
from store.rsuper_csv import (
    LOCATION_COLUMNS,
    LOWER_BOUND_COLUMN,
    MULTIPLE,
    NO_LESION_ID,
    UNKNOWN,
    count_column,
    diameter_column,
    largest_location,
)

BACKEND: Final[str] = "rsuper-csv"
"""Provenance backend of imported records."""

DEFAULT_VERSION: Final[str] = "rsuper-csv-1"
"""Default extractor version of imported records."""

UNKNOWN_TEXT_SHA256: Final[str] = text_sha256("")
"""``text_sha256`` of records whose report text is unknown."""

_ID_COLUMNS: Final[tuple[str, ...]] = ("BDMAP ID", "BDMAP_ID")
_NUMBER: Final[re.Pattern[str]] = re.compile(r"\d+(?:[.,]\d+)?")
_SEGMENT: Final[re.Pattern[str]] = re.compile(r"[1-8]")
_PANCREAS_VALUES: Final[frozenset[str]] = frozenset(p.value for p in PancreasPart)
_NAME_TO_ORGAN: Final[dict[str, Organ]] = {name: organ for organ, name in RSUPER_ORGAN_NAMES.items()}


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What :func:`import_rsuper_csvs` did."""

    records: int
    written: int
    invalid: int
    warnings: int


def read_rsuper_csvs(
    per_tumor: str | Path,
    per_ct: str | Path | None = None,
    *,
    texts: Mapping[str, str] | None = None,
    extractor_version: str = DEFAULT_VERSION,
) -> list[ReportExtraction]:
    """Read R-Super CSVs into records, one per exam, ordered as first seen (see the module docstring).

    Raises:
        ImportFormatError: when a file lacks a required column (the message names file and column).
    """
    tumors = _read(per_tumor, ("Standardized Organ", "Tumor Size (mm)"))
    cts = _read(per_ct, ()) if per_ct is not None else None
    ct_rows = {} if cts is None else {row[_id_col(cts)]: row for row in cts.to_dict("records")}
    by_id: dict[str, list[dict[str, str]]] = {}
    for row in tumors.to_dict("records"):
        by_id.setdefault(row[_id_col(tumors)], []).append(row)
    for rid in ct_rows:
        by_id.setdefault(rid, [])
    prov = Provenance(backend=BACKEND, extractor_version=extractor_version)
    return [_record(rid, rows, ct_rows.get(rid), _sha(rid, texts), prov) for rid, rows in by_id.items()]


def import_rsuper_csvs(
    store: Store,
    per_tumor: str | Path,
    per_ct: str | Path | None = None,
    *,
    texts: Mapping[str, str] | None = None,
    extractor_version: str = DEFAULT_VERSION,
    batch_size: int | None = 500,
) -> ImportSummary:
    """Read R-Super CSVs (:func:`read_rsuper_csvs`) and save the records (idempotent, batched).

    Texts given in ``texts`` are used for hashing only, never stored.
    """
    records = read_rsuper_csvs(per_tumor, per_ct, texts=texts, extractor_version=extractor_version)
    meta = {"source": BACKEND, "per_tumor": Path(per_tumor).name}
    if per_ct is not None:
        meta["per_ct"] = Path(per_ct).name
    written = store.save_many((SaveRequest(r, None, meta) for r in records), batch_size=batch_size)
    return ImportSummary(
        records=len(records),
        written=written,
        invalid=sum(r.status is not ExtractionStatus.OK for r in records),
        warnings=sum(len(r.warnings) for r in records),
    )


def _read(path: str | Path, required: tuple[str, ...]) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise ImportFormatError(f"{path}: cannot read as CSV ({e})") from e
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if not any(c in df.columns for c in _ID_COLUMNS):
        missing.insert(0, "BDMAP ID")
    if missing:
        raise ImportFormatError(f"{path}: missing column(s) {missing}; found {list(df.columns)}")
    return df.map(lambda v: v.strip() if isinstance(v, str) else v)


def _id_col(df: pd.DataFrame) -> str:
    return next(c for c in _ID_COLUMNS if c in df.columns)


def _sha(report_id: str, texts: Mapping[str, str] | None) -> str:
    if texts is not None and report_id in texts:
        return text_sha256(texts[report_id])
    return UNKNOWN_TEXT_SHA256


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("true", "1", "yes", "y", "t")


def _record(
    rid: str, rows: list[dict[str, str]], ct: dict[str, str] | None, sha: str, prov: Provenance
) -> ReportExtraction:
    warnings: list[str] = []
    lesions: list[Lesion] = []
    healthy = False
    for i, row in enumerate(rows):
        if row.get("Tumor ID", "") == NO_LESION_ID or _truthy(row.get("no lesion", "")):
            healthy = True
            continue
        try:
            lesions.append(_lesion(row, warnings, i))
        except ValueError as e:
            warnings.append(f"per-tumor row {i} skipped: {e}")
    if ct is not None:
        healthy = healthy or (not rows and _truthy(ct.get("no lesion", "")))
    counts = _ct_counts(ct, warnings) if ct is not None else {}
    if lesions or any(n > 0 for n, _ in counts.values()):
        return _with_lesions(rid, sha, prov, lesions, counts, ct, warnings)
    if healthy or (ct is not None and not rows):
        organs = tuple(OrganFinding(organ=o, status=OrganStatus.NORMAL) for o in RSUPER_ORGAN_NAMES)
        return ReportExtraction(
            report_id=rid, text_sha256=sha, organs=organs, provenance=prov, warnings=tuple(warnings)
        )
    return ReportExtraction(
        report_id=rid,
        text_sha256=sha,
        status=ExtractionStatus.INVALID,
        error="no usable row: every per-tumor row names an organ outside the vocabulary or is unreadable",
        provenance=prov,
        warnings=tuple(warnings),
    )


def _with_lesions(
    rid: str,
    sha: str,
    prov: Provenance,
    lesions: list[Lesion],
    counts: dict[Organ, tuple[int, bool]],
    ct: dict[str, str] | None,
    warnings: list[str],
) -> ReportExtraction:
    organs: list[OrganFinding] = []
    with_rows = list(dict.fromkeys(lesion.organ for lesion in lesions))
    for organ in with_rows + [o for o, (n, _) in counts.items() if n > 0 and o not in with_rows]:
        n, lower = counts.get(organ, (0, False))
        count = None
        if n > 0:
            count = Count(kind=CountKind.AT_LEAST if lower else CountKind.EXACT, value=n)
        elif organ in counts:
            warnings.append(f"per-CT count of {organ.value} is 0 but the per-tumor CSV lists lesions")
        organs.append(OrganFinding(organ=organ, status=OrganStatus.LESION, count=count))
        if ct is not None:
            _attach_group_size(
                lesions,
                organ,
                ct.get(diameter_column(organ), ""),
                ct.get(LOCATION_COLUMNS.get(organ, ""), ""),
            )
    return ReportExtraction(
        report_id=rid,
        text_sha256=sha,
        organs=tuple(organs),
        lesions=tuple(lesions),
        provenance=prov,
        warnings=tuple(warnings),
    )


def _attach_group_size(lesions: list[Lesion], organ: Organ, largest_cm: str, location: str) -> None:
    """Give an unmeasured lesion group of the organ the per-CT largest diameter when no row explains it
    (the first group at the per-CT largest location, else the first group)."""
    try:
        largest_mm = round(float(largest_cm.replace(",", ".")) * 10, 3)
    except ValueError:
        return
    own = [lesion.size.largest_mm for lesion in lesions if lesion.organ is organ and lesion.size is not None]
    if largest_mm <= 0 or (own and max(own) >= largest_mm):
        return
    groups = [i for i, les in enumerate(lesions) if les.organ is organ and les.is_group and les.size is None]
    if not groups:
        return
    at_location = [i for i in groups if largest_location(organ, lesions[i]) == location]
    i = (at_location or groups)[0]
    size = Size(diameters_mm=(largest_mm,), qualifier=Qualifier.UP_TO)
    lesions[i] = lesions[i].model_copy(update={"size": size})


def _ct_counts(ct: dict[str, str], warnings: list[str]) -> dict[Organ, tuple[int, bool]]:
    lower = {
        _NAME_TO_ORGAN[name.strip()]
        for name in ct.get(LOWER_BOUND_COLUMN, "").split("/")
        if name.strip() in _NAME_TO_ORGAN
    }
    out: dict[Organ, tuple[int, bool]] = {}
    for organ in RSUPER_ORGAN_NAMES:
        raw = ct.get(count_column(organ), "")
        if raw == "":
            continue
        try:
            n = int(float(raw))
        except ValueError:
            warnings.append(f"per-CT {count_column(organ)!r}: not a number")
            continue
        out[organ] = (max(n, 0), organ in lower)
    return out


def _lesion(row: dict[str, str], warnings: list[str], i: int) -> Lesion:
    organ = resolve_organ(row["Standardized Organ"])
    location = row.get("Standardized Location", "")
    size_text = row["Tumor Size (mm)"]
    fields: dict[str, object] = {"organ": organ}
    loc = location.lower()
    if organ is Organ.LIVER:
        fields["liver_segments"] = tuple(int(s) for s in _SEGMENT.findall(loc))
    elif organ is Organ.PANCREAS:
        tokens = [t.strip() for t in loc.split("/")]
        fields["pancreas_parts"] = tuple(PancreasPart(t) for t in tokens if t in _PANCREAS_VALUES)
    elif organ in PAIRED_ORGANS and loc:
        left, right = "left" in loc, "right" in loc
        fields["side"] = (
            Side.BILATERAL if left and right else Side.LEFT if left else Side.RIGHT if right else Side.UNKNOWN
        )
    elif organ not in PAIRED_ORGANS and loc != UNKNOWN:
        fields["site"] = clean_site(location)
    if size_text.lower() == MULTIPLE:
        fields["count"] = Count(kind=CountKind.MULTIPLE, value=None)
    elif size_text and size_text.lower() != UNKNOWN:
        numbers = [float(n.replace(",", ".")) for n in _NUMBER.findall(size_text)]
        if not numbers or min(numbers) <= 0 or len(numbers) > 3:
            warnings.append(f"per-tumor row {i}: size {size_text!r} unreadable, kept as unknown")
        else:
            fields["size"] = Size(diameters_mm=tuple(numbers))
    return Lesion.model_validate(fields)
