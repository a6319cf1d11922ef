"""clockevents: virtual B2B, R2B and F2B matchmaking events for a cluster of clusters."""

__version__ = "0.1.0"
