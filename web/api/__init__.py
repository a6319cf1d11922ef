"""JSON API under /api/v1: one module per bounded context, each exporting ``routes``."""

from __future__ import annotations

from web.api import accounts, agenda, directory, events, registration, system

routes = [*accounts.routes, *events.routes, *registration.routes, *directory.routes, *agenda.routes]
root_routes = [*system.routes]
