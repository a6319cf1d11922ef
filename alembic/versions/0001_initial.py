"""initial

Revision ID: 0001
Revises:
Create Date: 2026-11-25 16:35:46.025887
"""

from __future__ import annotations

from clockevents.migrations import initial_accounts, initial_agenda, initial_events


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


PARTS = (initial_accounts, initial_events, initial_agenda)  # in the order their foreign keys need


def upgrade() -> None:
    for part in PARTS:
        part.upgrade()


def downgrade() -> None:
    for part in reversed(PARTS):
        part.downgrade()
