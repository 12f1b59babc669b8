"""Bearer-key authentication, role permissions and a limit on failed attempts."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from chipex.service.users import User, authenticate

bearer = HTTPBearer(auto_error=False, description="an API key from `chipex users add NAME --role ROLE`")

FAILURES_ALLOWED = 10  # failed attempts per client address ...
FAILURE_WINDOW_S = 60.0  # ... within this many seconds, before it is refused with 429 for the window
_failures: dict[str, deque[float]] = defaultdict(deque)
_lock = threading.Lock()


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _recent(host: str, now: float) -> deque[float]:
    q = _failures[host]
    while q and q[0] < now - FAILURE_WINDOW_S:
        q.popleft()
    return q


def refuse_if_throttled(request: Request) -> None:
    """429 once the client's address has failed FAILURES_ALLOWED times in the window (keys and passwords)."""
    host, now = _client(request), time.monotonic()
    with _lock:
        if len(_recent(host, now)) >= FAILURES_ALLOWED:
            raise HTTPException(
                429,
                f"too many failed authentications from {host}; try again in {FAILURE_WINDOW_S:.0f} s",
                headers={"Retry-After": str(int(FAILURE_WINDOW_S))},
            )


def count_failure(request: Request) -> None:
    now = time.monotonic()
    with _lock:
        _recent(_client(request), now).append(now)


def current_user(request: Request, creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> User:
    refuse_if_throttled(request)
    if creds is None or creds.scheme.lower() != "bearer":
        raise HTTPException(401, "authentication required: send 'Authorization: Bearer KEY'",
                            headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    user = authenticate(creds.credentials, db=request.app.state.db)
    if user is None:
        count_failure(request)
        raise HTTPException(
            401, "invalid, expired or revoked API key", headers={"WWW-Authenticate": "Bearer"}
        )
    return user


def require(permission: str):
    """A dependency: the authenticated user, if their role grants `permission` (else 403 naming it)."""

    def check(user: User = Depends(current_user)) -> User:
        if permission not in user.permissions:
            raise HTTPException(
                403,
                f"permission '{permission}' is needed; role '{user.role}' has: {', '.join(user.permissions)}",
            )
        return user

    return check


def reset_failures() -> None:
    with _lock:
        _failures.clear()
