"""Revision 0001, in part: matchmaking and the agenda (requests, schedule runs, meetings, tables, feeds).

Applied history, like every revision: never edited once released (a change is a new revision).
"""

from __future__ import annotations

import sqlalchemy as sa

import clockevents.db
from alembic import op

TABLES = (
    "matchmaking_settings",
    "schedule_runs",
    "calendar_feed_tokens",
    "meeting_requests",
    "meetings",
    "meeting_seats",
    "table_bookings",
)


def upgrade() -> None:
    op.create_table(
        "matchmaking_settings",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("request_mode", sa.String(length=16), nullable=False),
        sa.Column("scheduling_mode", sa.String(length=16), nullable=False),
        sa.Column("max_sent", sa.Integer(), nullable=True),
        sa.Column("max_received", sa.Integer(), nullable=True),
        sa.Column("expiry_hours", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_matchmaking_settings_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_matchmaking_settings")),
    )
    op.create_table(
        "schedule_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("time_limit", sa.Double(), nullable=False),
        sa.Column("progress", sa.JSON(), nullable=False),
        sa.Column("statistics", sa.JSON(), nullable=False),
        sa.Column("problem", sa.JSON(), nullable=False),
        sa.Column("solution", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", clockevents.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", clockevents.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_at", clockevents.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_schedule_runs_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_schedule_runs_event_id_events"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_runs")),
    )
    with op.batch_alter_table("schedule_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_schedule_runs_event_id"), ["event_id"], unique=False)
    op.create_table(
        "calendar_feed_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", clockevents.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", clockevents.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_calendar_feed_tokens_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feed_tokens")),
        sa.UniqueConstraint("participant_id", name=op.f("uq_calendar_feed_tokens_participant_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feed_tokens_token_hash")),
    )
    op.create_table(
        "meeting_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.Integer(), nullable=False),
        sa.Column("receiver_id", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decline_reason", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("responded_at", clockevents.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", clockevents.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("held_slot_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", clockevents.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", clockevents.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_meeting_requests_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_meeting_requests_event_id_events"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["held_slot_id"],
            ["slots.id"],
            name=op.f("fk_meeting_requests_held_slot_id_slots"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["receiver_id"],
            ["participants.id"],
            name=op.f("fk_meeting_requests_receiver_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"],
            ["participants.id"],
            name=op.f("fk_meeting_requests_sender_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_requests")),
    )
    with op.batch_alter_table("meeting_requests", schema=None) as batch_op:
        batch_op.create_index("ix_meeting_requests_event_status", ["event_id", "status"], unique=False)
        batch_op.create_index("ix_meeting_requests_receiver", ["receiver_id", "status"], unique=False)
        batch_op.create_index("ix_meeting_requests_sender", ["sender_id", "status"], unique=False)
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("a_id", sa.Integer(), nullable=False),
        sa.Column("b_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=True),
        sa.Column("table", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=120), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("published_at", clockevents.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", clockevents.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=False),
        sa.Column("created_at", clockevents.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", clockevents.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["a_id"], ["participants.id"], name=op.f("fk_meetings_a_id_participants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["b_id"], ["participants.id"], name=op.f("fk_meetings_b_id_participants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_meetings_event_id_events"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["meeting_requests.id"],
            name=op.f("fk_meetings_request_id_meeting_requests"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["slots.id"], name=op.f("fk_meetings_slot_id_slots"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
        sa.UniqueConstraint("request_id", name=op.f("uq_meetings_request_id")),
        sa.UniqueConstraint("uid", name=op.f("uq_meetings_uid")),
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meetings_a_id"), ["a_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_meetings_b_id"), ["b_id"], unique=False)
        batch_op.create_index("ix_meetings_event_status", ["event_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_meetings_slot_id"), ["slot_id"], unique=False)
    op.create_table(
        "meeting_seats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_seats_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_meeting_seats_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["slots.id"], name=op.f("fk_meeting_seats_slot_id_slots"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_seats")),
        sa.UniqueConstraint(
            "participant_id", "slot_id", name=op.f("uq_meeting_seats_participant_id_slot_id")
        ),
    )
    with op.batch_alter_table("meeting_seats", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_seats_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_meeting_seats_slot_id"), ["slot_id"], unique=False)
    op.create_table(
        "table_bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("table", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_table_bookings_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["slots.id"], name=op.f("fk_table_bookings_slot_id_slots"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_table_bookings")),
        sa.UniqueConstraint("slot_id", "table", name=op.f("uq_table_bookings_slot_id_table")),
    )
    with op.batch_alter_table("table_bookings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_table_bookings_meeting_id"), ["meeting_id"], unique=False)


def downgrade() -> None:
    for table in reversed(TABLES):  # its indexes go with it
        op.drop_table(table)
