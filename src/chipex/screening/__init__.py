"""Restricted-party screening against the US Consolidated Screening List, in any spelling and script.

Public API: `Screener` (screen, screen_many, match, decide), `Hit`, `MatchResult`, `Feature`,
`load_list`, `THRESHOLD`. See screener.py for an example.
"""

from chipex.screening.loading import LoadReport, load_list
from chipex.screening.match import THRESHOLD, Feature
from chipex.screening.screener import Hit, MatchResult, Screener, country_code

__all__ = [
    "THRESHOLD",
    "Feature",
    "Hit",
    "LoadReport",
    "MatchResult",
    "Screener",
    "country_code",
    "load_list",
]
