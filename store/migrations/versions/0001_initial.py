"""Initial schema: reports, extractions, organ_findings, lesions, jobs, job_items

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
"""JSON everywhere, JSONB on PostgreSQL (as store.models.JSONType)."""

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=1024), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("backend", sa.String(length=64), nullable=True),
        sa.Column("extractor_version", sa.String(length=128), nullable=True),
        sa.Column("keep_text", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_status_created_at", ["status", "created_at"], unique=False)

    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.String(length=256), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("metadata", JSON_TYPE, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("report_id", "text_sha256", name="uq_reports_report_id_text_sha256"),
    )
    op.create_table(
        "extractions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report_pk", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.String(length=256), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("extractor_version", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("backend", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=256), nullable=True),
        sa.Column("prompt_version", sa.String(length=64), nullable=True),
        sa.Column("schema_version", sa.String(length=32), nullable=False),
        sa.Column("provenance", JSON_TYPE, nullable=False),
        sa.Column("warnings", JSON_TYPE, nullable=False),
        sa.Column("record", JSON_TYPE, nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_pk"], ["reports.id"], name=op.f("fk_extractions_report_pk_reports"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extractions")),
        sa.UniqueConstraint(
            "report_id", "text_sha256", "extractor_version", name="uq_extractions_report_id_sha_version"
        ),
    )
    with op.batch_alter_table("extractions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_extractions_extractor_version_report_id", ["extractor_version", "report_id"], unique=False
        )
        batch_op.create_index("ix_extractions_is_current_status", ["is_current", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_extractions_report_pk"), ["report_pk"], unique=False)
        batch_op.create_index(
            "uq_extractions_current_report_id",
            ["report_id"],
            unique=True,
            sqlite_where=sa.text("is_current = 1"),
            postgresql_where=sa.text("is_current"),
        )

    op.create_table(
        "job_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("row_index", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.String(length=256), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_job_items_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_items")),
        sa.UniqueConstraint("job_id", "row_index", name="uq_job_items_job_id_row_index"),
    )
    with op.batch_alter_table("job_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_job_items_job_id_status_row_index", ["job_id", "status", "row_index"], unique=False
        )

    op.create_table(
        "lesions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("extraction_id", sa.Integer(), nullable=False),
        sa.Column("lesion_index", sa.Integer(), nullable=False),
        sa.Column("organ", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=True),
        sa.Column("liver_segments", JSON_TYPE, nullable=False),
        sa.Column("pancreas_parts", JSON_TYPE, nullable=False),
        sa.Column("kidney_poles", JSON_TYPE, nullable=False),
        sa.Column("diameters_mm", JSON_TYPE, nullable=True),
        sa.Column("size_qualifier", sa.String(length=8), nullable=True),
        sa.Column("largest_mm", sa.Float(), nullable=True),
        sa.Column("size_class", sa.String(length=32), nullable=True),
        sa.Column("count_kind", sa.String(length=16), nullable=False),
        sa.Column("count_value", sa.Integer(), nullable=True),
        sa.Column("certainty", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("malignancy", sa.String(length=16), nullable=False),
        sa.Column("evidence_quote", sa.Text(), nullable=True),
        sa.Column("evidence_start", sa.Integer(), nullable=True),
        sa.Column("evidence_end", sa.Integer(), nullable=True),
        sa.Column("evidence_alignment", sa.String(length=16), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["extraction_id"],
            ["extractions.id"],
            name=op.f("fk_lesions_extraction_id_extractions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesions")),
        sa.UniqueConstraint("extraction_id", "lesion_index", name="uq_lesions_extraction_id_lesion_index"),
    )
    with op.batch_alter_table("lesions", schema=None) as batch_op:
        batch_op.create_index("ix_lesions_organ", ["organ"], unique=False)

    op.create_table(
        "organ_findings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("extraction_id", sa.Integer(), nullable=False),
        sa.Column("organ", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("count_kind", sa.String(length=16), nullable=True),
        sa.Column("count_value", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["extraction_id"],
            ["extractions.id"],
            name=op.f("fk_organ_findings_extraction_id_extractions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organ_findings")),
        sa.UniqueConstraint("extraction_id", "organ", name="uq_organ_findings_extraction_id_organ"),
    )
    with op.batch_alter_table("organ_findings", schema=None) as batch_op:
        batch_op.create_index("ix_organ_findings_organ_status", ["organ", "status"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("organ_findings", schema=None) as batch_op:
        batch_op.drop_index("ix_organ_findings_organ_status")

    op.drop_table("organ_findings")
    with op.batch_alter_table("lesions", schema=None) as batch_op:
        batch_op.drop_index("ix_lesions_organ")

    op.drop_table("lesions")
    with op.batch_alter_table("job_items", schema=None) as batch_op:
        batch_op.drop_index("ix_job_items_job_id_status_row_index")

    op.drop_table("job_items")
    with op.batch_alter_table("extractions", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_extractions_current_report_id",
            sqlite_where=sa.text("is_current = 1"),
            postgresql_where=sa.text("is_current"),
        )
        batch_op.drop_index(batch_op.f("ix_extractions_report_pk"))
        batch_op.drop_index("ix_extractions_is_current_status")
        batch_op.drop_index("ix_extractions_extractor_version_report_id")

    op.drop_table("extractions")
    op.drop_table("reports")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_status_created_at")

    op.drop_table("jobs")
