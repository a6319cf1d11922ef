"""attendance keeping: the holding worker's confirmation, the "left" still to be said, presence leases

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
    op.create_table(
        "presence_leases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("who", sa.JSON(), nullable=False),
        sa.Column("joined_at", clockevents.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seen_at", clockevents.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("left_at", clockevents.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_presence_leases_event_id_events"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_presence_leases_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_presence_leases")),
    )
    with op.batch_alter_table("presence_leases", schema=None) as batch_op:
        batch_op.create_index("ix_presence_leases_open_seen", ["left_at", "seen_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_presence_leases_event_id"), ["event_id"], unique=False)
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seen_at", clockevents.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("pending_left", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index("ix_attendance_open_seen", ["left_at", "seen_at"], unique=False)
        batch_op.create_index("ix_attendance_pending_left", ["pending_left", "left_at"], unique=False)


def downgrade() -> None:
    op.drop_table("presence_leases")
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.drop_index("ix_attendance_pending_left")
        batch_op.drop_index("ix_attendance_open_seen")
        batch_op.drop_column("pending_left")
        batch_op.drop_column("seen_at")
