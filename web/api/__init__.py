"""JSON API under /api/v1: one module per bounded context, each exporting ``routes``."""

from __future__ import annotations

from web.api import (
    accounts,
    agenda,
    calendar,
    directory,
    events,
    matchmaking,
    meetings,
    notifications,
    registration,
    reports,
    system,
)

routes = [*accounts.routes, *events.routes, *registration.routes, *directory.routes, *agenda.routes]
routes += [*matchmaking.routes, *notifications.routes]
routes += [*meetings.routes]
routes += [*calendar.routes]
routes += [*reports.routes]
root_routes = [*system.routes]
