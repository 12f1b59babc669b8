"""Diversion analysis: transshipment hubs by date, trade-flow gaps, and how much compute leaked."""
