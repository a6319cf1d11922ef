"""attendance keeping: the holding worker's confirmation and the "left" still to be said

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 01:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import clockevents.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seen_at", clockevents.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("pending_left", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index("ix_attendance_open_seen", ["left_at", "seen_at"], unique=False)
        batch_op.create_index("ix_attendance_pending_left", ["pending_left", "left_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.drop_index("ix_attendance_pending_left")
        batch_op.drop_index("ix_attendance_open_seen")
        batch_op.drop_column("pending_left")
        batch_op.drop_column("seen_at")
