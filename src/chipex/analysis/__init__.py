"""Analyses built on the catalog and the rulebook: compute accounting and policy."""
