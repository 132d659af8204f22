"""Keep protected health information out of logs: report IDs are logged as short hashes.

>>> report_ref("acc-0001")
'id:d7ca2b7b39'

A report ID (an accession number, an MRN-derived key) can identify a patient, so logs carry
:func:`report_ref` instead: the first 10 hex digits of its SHA-256, stable across processes, enough to
find the row again (``grep`` the same hash of the ID you are looking for) and useless to a reader of
the log alone.
"""

from __future__ import annotations

import hashlib
from typing import Final

REF_DIGITS: Final[int] = 10
"""Hex digits of the SHA-256 kept in a report reference."""


def report_ref(report_id: str | None) -> str:
    """A short, stable, non-identifying reference to ``report_id`` for logs (``id:<10 hex>``)."""
    if report_id is None:
        return "id:none"
    digest = hashlib.sha256(report_id.encode("utf-8", "surrogatepass")).hexdigest()
    return f"id:{digest[:REF_DIGITS]}"
