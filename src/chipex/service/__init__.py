"""The service layer: every chipex operation as one function from a typed request to a typed result.

The CLI, the HTTP API, the web UI and the Python API call these and only render. Modules:
`determination` (the one schema of a determination), `catalog` (classify, history, chips, rules),
`orders` (one order, a book), `screening` (screen, match, yente's /match, lists, reviews), `ledger`
(licences, reservations, shipments, caps, audit), `policy` (the policy lab), `compute`, `users`
(roles and keys), `jobs` (book checks as jobs). Lower layers never import this package.
"""
