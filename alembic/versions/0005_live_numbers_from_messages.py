"""live channels: numbers come from the stored messages, no counter column

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 07:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ALTER TABLE … DROP COLUMN on both databases (SQLite has had it since 3.35): a
    # batch rebuild of live_channels on SQLite would drop the table its messages cascade from.
    op.drop_column("live_channels", "last_seq")


def downgrade() -> None:
    op.add_column("live_channels", sa.Column("last_seq", sa.Integer(), server_default="0", nullable=False))
    op.execute(
        "UPDATE live_channels SET last_seq = coalesce("
        "(SELECT max(m.seq) FROM live_messages AS m WHERE m.channel_id = live_channels.id), 0)"
    )
