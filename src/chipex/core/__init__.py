"""Pure logic: metrics (Technical Notes to 3A090) and classification against the dated rulebook."""

DISCLAIMER = "chipex is analysis, not legal advice."
