"""Helpers of alembic/versions that are too long for one file (imported by the revisions only)."""
