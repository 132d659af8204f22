"""Service configuration: one pydantic-settings class, read from ``RSUPER_*`` environment variables.

Secrets (``RSUPER_API_KEYS``) have no default. Without keys the service refuses to start unless
``RSUPER_ALLOW_NO_AUTH=1`` says, explicitly, that this is a local development server.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from report_extractor.engine import DEFAULT_MAX_REPORT_CHARS

MAX_BATCH_REPORTS: Final[int] = 5_000
"""Upper bound of ``RSUPER_MAX_BATCH_REPORTS`` (one batch is saved in one transaction)."""

MIN_API_KEY_CHARS: Final[int] = 16
"""Shortest API key accepted (shorter keys are guessable)."""


class SettingsError(ValueError):
    """The service is configured wrongly; the message names the variable and how to fix it."""


class Settings(BaseSettings):
    """Configuration of the report structuring service (environment prefix ``RSUPER_``).

    Attributes:
        store_url: SQLAlchemy URL of the store (``RSUPER_STORE_URL``; default ``sqlite:///rsuper.db``).
        backend: extraction backend name (``rules``, ``openai``, ``fake``, ...).
        model: model name for LLM backends.
        api_keys: comma-separated API keys (secret; no default).
        allow_no_auth: run without API keys (local development only).
        metrics_public: serve ``/metrics`` without an API key (default: keys required).
        cors_origins: comma-separated origins allowed by CORS (default: none, CORS off).
        max_body_bytes: largest JSON request body (413 above).
        max_upload_bytes: largest uploaded file (413 above).
        max_report_chars: longest report text (422 above).
        max_batch_reports: most reports in one ``POST /v1/extractions:batch`` (422 above).
        upload_dir: where uploads are written (under server-chosen names) until the job is created.
        backend_concurrency: backend calls in flight at once (API requests and job batches together).
        job_batch_size: job items claimed and extracted per backend call.
        job_poll_s: how often idle job workers look for new work.
        stale_claim_s: items claimed longer ago than this are put back (0: never; multi-process setups).
        requeue_on_start: at startup, put every claimed item back (safe with one server process).
        write_batch_max: most single-request records committed in one transaction.
        write_batch_wait_ms: how long a single-request record waits for others to share its commit.
        keep_text: store report text with records (PHI; off by default).
        fake_delay_s: seconds the ``fake`` backend sleeps per report (tests and demos only).
    """

    model_config = SettingsConfigDict(env_prefix="RSUPER_", extra="ignore", env_file=None)

    store_url: str | None = None
    backend: str = "rules"
    model: str | None = None
    api_keys: SecretStr | None = None
    allow_no_auth: bool = False
    metrics_public: bool = False
    cors_origins: str = ""
    max_body_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    max_upload_bytes: int = Field(1024 * 1024 * 1024, ge=1024)
    max_report_chars: int = Field(DEFAULT_MAX_REPORT_CHARS, ge=1)
    max_batch_reports: int = Field(256, ge=1, le=MAX_BATCH_REPORTS)
    upload_dir: Path = Path("rsuper-uploads")
    backend_concurrency: int = Field(4, ge=1, le=256)
    job_batch_size: int = Field(16, ge=1, le=1000)
    job_poll_s: float = Field(1.0, gt=0, le=60)
    stale_claim_s: float = Field(0.0, ge=0)
    requeue_on_start: bool = True
    write_batch_max: int = Field(64, ge=1, le=MAX_BATCH_REPORTS)
    write_batch_wait_ms: float = Field(2.0, ge=0, le=1000)
    keep_text: bool = False
    fake_delay_s: float = Field(0.0, ge=0, le=10)

    @property
    def cors_origin_list(self) -> list[str]:
        """CORS origins as a list (empty: CORS middleware not installed)."""
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    def api_key_digests(self) -> list[bytes]:
        """SHA-256 digests of the configured API keys (the keys themselves are not kept around).

        Raises:
            SettingsError: a key shorter than :data:`MIN_API_KEY_CHARS`.
        """
        if self.api_keys is None:
            return []
        keys = [k.strip() for k in self.api_keys.get_secret_value().split(",") if k.strip()]
        for i, key in enumerate(keys):
            if len(key) < MIN_API_KEY_CHARS:
                raise SettingsError(
                    f"RSUPER_API_KEYS: key #{i + 1} has {len(key)} characters; use at least "
                    f"{MIN_API_KEY_CHARS}"
                    " (e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
                )
        return [hashlib.sha256(k.encode("utf-8")).digest() for k in keys]

    def check_auth(self) -> list[bytes]:
        """Fail fast when the service would run without authentication by accident.

        Returns:
            The API key digests (empty only in explicit no-auth mode).

        Raises:
            SettingsError: no keys and ``RSUPER_ALLOW_NO_AUTH`` is not set.
        """
        digests = self.api_key_digests()
        if not digests and not self.allow_no_auth:
            raise SettingsError(
                "no API keys configured: set RSUPER_API_KEYS=key1,key2 (each at least "
                f"{MIN_API_KEY_CHARS} characters), or RSUPER_ALLOW_NO_AUTH=1 to run an unauthenticated "
                "development server"
            )
        return digests
