"""Matchmaking use cases in one place to import from.

The work is split by concern: ``requests.py`` (send, answer, cancel, organiser matches, expiry),
``listing.py`` (who sees which requests), ``booking.py`` (self-booking holds and free slots),
``recommend.py`` (who to meet) and ``settings.py`` (each event's rules).
"""

from __future__ import annotations

from clockevents.matchmaking.booking import free_slots, free_slots_for, new_uid
from clockevents.matchmaking.listing import RequestRow, describe_request, list_requests, request_counts
from clockevents.matchmaking.parties import Party, load_parties, own_participant
from clockevents.matchmaking.recommend import Recommendation, recommendations
from clockevents.matchmaking.requests import (
    accept_request,
    cancel_request,
    decline_request,
    expire_pending,
    get_request,
    organiser_meeting,
    send_request,
    set_priority,
)
from clockevents.matchmaking.settings import load_settings, update_settings, view_settings

__all__ = [
    "Party",
    "Recommendation",
    "RequestRow",
    "accept_request",
    "cancel_request",
    "decline_request",
    "describe_request",
    "expire_pending",
    "free_slots",
    "free_slots_for",
    "get_request",
    "list_requests",
    "load_parties",
    "load_settings",
    "new_uid",
    "organiser_meeting",
    "own_participant",
    "recommendations",
    "request_counts",
    "send_request",
    "set_priority",
    "update_settings",
    "view_settings",
]
