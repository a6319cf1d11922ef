"""JSON API under /api/v1: one module per bounded context, each exporting ``routes``."""

from __future__ import annotations

from web.api import (
    accounts,
    agenda,
    calendar,
    directory,
    events,
    followup,
    live,
    matchmaking,
    meetings,
    notifications,
    privacy,
    registration,
    reports,
    system,
    workshops,
)

routes = [*accounts.routes, *events.routes, *registration.routes, *directory.routes, *agenda.routes]
routes += [*matchmaking.routes, *notifications.routes]
routes += [*meetings.routes]
routes += [*calendar.routes]
routes += [*reports.routes]
routes += [*followup.routes, *privacy.routes]
routes += [*workshops.routes]
routes += [*live.routes]
root_routes = [*system.routes]
