"""Stream a multipart upload straight to disk, under a server-chosen name (never held in memory).

Only the client's file *suffix* is used to pick the reader (else the part's ``Content-Type``, one of
:data:`MEDIA_TYPE_SUFFIXES`); the name on disk is a random UUID in the configured upload directory,
so no client-supplied path is ever opened. The job created from an upload takes that UUID as its ID,
so an upload left on disk by a killed server is known by its name (:func:`remove_orphan_uploads`).
The small form fields ``id_col`` and ``text_col`` are collected, bounded in size and number; any
other field is refused (422), as the OpenAPI document says.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import IO, Final

from fastapi import Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from api.errors import ApiError, ErrorCode, invalid_input

ALLOWED_SUFFIXES: Final[tuple[str, ...]] = (".csv", ".tsv", ".xlsx", ".jsonl", ".ndjson", ".parquet")
"""Upload types accepted (those :class:`report_extractor.ingest.ReportTable` reads)."""

MEDIA_TYPE_SUFFIXES: Final[dict[str, str]] = {
    "text/csv": ".csv",
    "text/tab-separated-values": ".tsv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/jsonl": ".jsonl",
    "application/x-ndjson": ".ndjson",
    "application/vnd.apache.parquet": ".parquet",
}
"""The file part's ``Content-Type`` for each accepted type (used when the file name has no known
suffix); the OpenAPI document declares these as the part's encoding."""

FILE_FIELD: Final[str] = "file"
TEXT_FIELDS: Final[frozenset[str]] = frozenset({"id_col", "text_col"})
MAX_FIELD_BYTES: Final[int] = 1024
MAX_PARTS: Final[int] = 8


@dataclass(slots=True)
class Upload:
    """A received upload: the file on disk, the client's base name and the text fields."""

    path: Path
    filename: str
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class _Part:
    name: str | None = None
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)


class _Receiver:
    """Multipart callbacks: file data to ``dest_dir``, small fields into memory."""

    def __init__(self, dest_dir: Path) -> None:
        self.dest_dir = dest_dir
        self.upload: Upload | None = None
        self.fields: dict[str, str] = {}
        self.error: ApiError | None = None
        self.ended = False
        self._file: IO[bytes] | None = None
        self._part = _Part()
        self._parts = 0
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda d, s, e: self._header_field.extend(d[s:e]),
            "on_header_value": lambda d, s, e: self._header_value.extend(d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _fail(self, error: ApiError) -> None:
        if self.error is None:
            self.error = error

    def _part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            self._fail(invalid_input(f"body: at most {MAX_PARTS} form parts allowed"))
        self._part = _Part()
        self._headers = {}

    def _header_end(self) -> None:
        self._headers[bytes(self._header_field).lower()] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = params.get(b"name")
        filename = params.get(b"filename")
        self._part.name = name.decode("utf-8", "replace") if name is not None else None
        if self._part.name != FILE_FIELD and self._part.name not in TEXT_FIELDS:
            self._fail(
                invalid_input(f"body: unknown form field; send only {FILE_FIELD}, id_col and text_col")
            )
            return
        if filename is None or self._part.name != FILE_FIELD or self.error is not None:
            return
        if self.upload is not None:
            self._fail(invalid_input("body.file: upload exactly one file"))
            return
        client_name = PurePath(filename.decode("utf-8", "replace").replace("\\", "/")).name
        suffix = PurePath(client_name).suffix.lower()
        if suffix not in ALLOWED_SUFFIXES:
            media_type, _ = parse_options_header(self._headers.get(b"content-type", b""))
            suffix = MEDIA_TYPE_SUFFIXES.get(media_type.decode("latin-1").lower(), suffix)
        if suffix not in ALLOWED_SUFFIXES:
            self._fail(
                ApiError(
                    415,
                    ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                    f"body.file: unsupported file type {suffix or '(none)'!r}; use one of "
                    f"{list(ALLOWED_SUFFIXES)}",
                )
            )
            return
        path = self.dest_dir / f"{uuid.uuid4()}{suffix}"  # the name (less the suffix) becomes the job ID
        self._file = path.open("xb")
        self.upload = Upload(path=path, filename=client_name[:200])

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self.error is not None:
            return
        if self._file is not None:
            self._file.write(data[start:end])
        elif self._part.name in TEXT_FIELDS:
            self._part.data.extend(data[start:end])
            if len(self._part.data) > MAX_FIELD_BYTES:
                self._fail(invalid_input(f"body.{self._part.name}: longer than {MAX_FIELD_BYTES} bytes"))

    def _part_end(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        elif self._part.name in TEXT_FIELDS and self.error is None:
            value = self._part.data.decode("utf-8", "replace").strip()
            if value:
                self.fields[str(self._part.name)] = value

    def _end(self) -> None:
        self.ended = True

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


async def receive_upload(request: Request, dest_dir: Path) -> Upload:
    """Parse a ``multipart/form-data`` request, writing its ``file`` part to ``dest_dir``.

    Raises:
        ApiError: 422 for a malformed body or a missing file, 415 for an unsupported file type (the
            partial file is removed). Size limits are enforced by :mod:`api.limits` while streaming.
    """
    _, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if not boundary:
        raise invalid_input("body: multipart body without a boundary")
    dest_dir.mkdir(parents=True, exist_ok=True)
    receiver = _Receiver(dest_dir)
    try:
        parser = MultipartParser(boundary, receiver.callbacks())  # type: ignore[arg-type]
        async for chunk in request.stream():
            if chunk:
                parser.write(chunk)
            if receiver.error is not None:
                raise receiver.error
        parser.finalize()
        if not receiver.ended:
            raise invalid_input("body: malformed multipart body (truncated)")
    except FormParserError:
        _discard(receiver)
        raise invalid_input("body: malformed multipart body") from None
    except BaseException:
        _discard(receiver)
        raise
    if receiver.upload is None:
        raise invalid_input(f"body.{FILE_FIELD}: an uploaded file is required")
    receiver.upload.fields = receiver.fields
    return receiver.upload


def _discard(receiver: _Receiver) -> None:
    receiver.close()
    if receiver.upload is not None:
        with contextlib.suppress(OSError):
            receiver.upload.path.unlink()


def remove_orphan_uploads(upload_dir: Path, creating: set[str], older_than_s: float | None = None) -> int:
    """Delete the uploads that belong to no job being created (left by a server killed while storing
    them: report text at rest); an upload's name less its suffix is its job's ID.

    Args:
        upload_dir: the upload folder (nothing happens when it does not exist).
        creating: the IDs of the jobs being created now (their uploads are kept).
        older_than_s: keep files modified less than this many seconds ago (an upload another
            process is still receiving, before its job exists); ``None``: no other process is
            serving (at startup of a single server process), every other file goes.

    Returns:
        The number of files deleted.
    """
    if not upload_dir.is_dir():
        return 0
    cutoff = None if older_than_s is None else time.time() - older_than_s
    removed = 0
    for path in upload_dir.iterdir():
        if not path.is_file() or path.name.split(".", 1)[0] in creating:
            continue
        with contextlib.suppress(OSError):  # gone meanwhile, or not ours to delete: next sweep
            if cutoff is not None and path.stat().st_mtime > cutoff:
                continue
            path.unlink()
            removed += 1
    return removed
