"""Reviews: extractions.reviewer and extractions.reviewed_extraction_id (a reviewer's correction)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("extractions", sa.Column("reviewer", sa.String(length=64), nullable=True))
    op.add_column("extractions", sa.Column("reviewed_extraction_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("extractions", schema=None) as batch_op:
        batch_op.drop_column("reviewed_extraction_id")
        batch_op.drop_column("reviewer")
