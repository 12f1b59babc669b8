"""Compute accounting: training FLOP and time, serving memory and throughput, chip equivalence,
sourced presets of published runs, fleets and chip flows, and the 'did the controls bite?' scenario.

Chip figures come from the catalog (`chipex.catalog`); every other figure from the sourced YAML in
`data/`. Arithmetic is exact (fractions) except where a float64 power is needed, which says so.
"""
