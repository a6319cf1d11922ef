"""Matchmaking use cases in one place to import from.

The work is split by concern: ``requests.py`` (send, answer, cancel, expiry), ``organiser.py`` (matches, priority),
``listing.py`` (who sees which requests), ``booking.py`` (self-booking holds and free slots),
``recommend.py`` (who to meet) and ``settings.py`` (each event's rules).
"""

from __future__ import annotations

from clockevents.matchmaking.booking import free_slots, free_slots_for, new_uid
from clockevents.matchmaking.listing import RequestRow, describe_request, list_requests, request_counts
from clockevents.matchmaking.organiser import organiser_meeting, set_priority
from clockevents.matchmaking.parties import Party, approved_parties, load_parties, own_participant
from clockevents.matchmaking.recommend import Recommendation, recommendations
from clockevents.matchmaking.requests import (
    RequestDraft,
    accept_request,
    cancel_request,
    decline_request,
    expire_pending,
    get_request,
    prepare_request,
    send_request,
)
from clockevents.matchmaking.settings import load_settings, update_settings, view_settings

__all__ = [
    "Party",
    "Recommendation",
    "RequestDraft",
    "RequestRow",
    "accept_request",
    "approved_parties",
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
    "prepare_request",
    "recommendations",
    "request_counts",
    "send_request",
    "set_priority",
    "update_settings",
    "view_settings",
]
