"""Server-rendered pages: one module per context, each exporting ``routes``."""

from __future__ import annotations

from web.pages import (
    accounts,
    admin,
    admin_participants,
    agenda,
    calendar,
    directory,
    events,
    followup,
    home,
    live,
    matchmaking,
    meetings,
    notify,
    registration,
    reports,
    workshops,
)

routes = [
    *home.routes,
    *accounts.routes,
    *events.routes,
    *registration.routes,
    *directory.routes,
    *admin.routes,
    *admin_participants.routes,
    *agenda.routes,
    *calendar.routes,
    *matchmaking.routes,
    *meetings.routes,
    *notify.routes,
    *reports.routes,
    *followup.routes,
    *live.routes,
    *workshops.routes,
]
