"""Input bounds shared by every reader (order books, party files, screening queries, list files).

A party name longer than MAX_NAME_LENGTH is refused with a clear error rather than screened: the longest
name or alias in the 2026-07-31 Consolidated Screening List has 381 characters, and a 1 MB name made
screening run for minutes (issue 11).
"""

from __future__ import annotations

MAX_NAME_LENGTH = 1000  # characters
