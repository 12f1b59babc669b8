"""Browser sessions: sign-in with an API key or a user name and password, an HttpOnly
SameSite=Strict cookie, CSRF tokens.

The session cookie holds only a random token; the key it stands for stays in this process's
memory and is checked on every request (`chipex.service.users.authenticate`), so a revoked or
expired key ends its sessions at once. A session signed in with a password keeps the user's key id
and the time that password was set, looked up on every request (`users.session_user`): revoking
the user, its expiry or a new password end it at once. Sessions end on sign-out, after `IDLE_S` without a request,
or when the server restarts. Every form carries the session's CSRF token (a POST without it is
refused); the sign-in form, before a session exists, uses a double-submit cookie.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials
from starlette.datastructures import FormData

from chipex.service.users import SIGNIN_REFUSED, User, authenticate, session_user, verify_password

SESSION_COOKIE = "chipex_session"
SIGNIN_COOKIE = "chipex_signin"  # CSRF double-submit token of the sign-in form
IDLE_S = 8 * 3600


@dataclass
class Session:
    key: str | None  # the API key signed in with, or None (signed in with a password)
    key_id: str = ""  # password sessions: the user's key id ...
    password_set_at: str | None = None  # ... and when the password signed in with was set
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    seen: float = field(default_factory=time.monotonic)


class Sessions:
    def __init__(self) -> None:
        self._by_token: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(self, key: str | None = None, user: User | None = None) -> tuple[str, Session]:
        """A new session for an API key, or for a user who signed in with their password."""
        if key is None and user is None:
            raise ValueError("a session is for a key or a user")
        s = Session(key) if key is not None else Session(None, user.key_id, user.password_set_at)
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._by_token[token] = s
        return token, s

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        now = time.monotonic()
        with self._lock:
            s = self._by_token.get(token)
            if s is None or now - s.seen > IDLE_S:
                self._by_token.pop(token, None)
                return None
            s.seen = now
            return s

    def close(self, token: str | None) -> None:
        with self._lock:
            self._by_token.pop(token or "", None)


def sessions(request: Request) -> Sessions:
    app = request.app
    if not hasattr(app.state, "web_sessions"):
        app.state.web_sessions = Sessions()
    return app.state.web_sessions


def cookie_args(request: Request) -> dict:
    return {
        "httponly": True,
        "samesite": "strict",
        "secure": request.url.scheme == "https",
        "path": "/",
    }


def signed_in(request: Request) -> tuple[User, Session] | None:
    s = sessions(request).get(request.cookies.get(SESSION_COOKIE))
    if s is None:
        return None
    db = request.app.state.db
    user = (
        authenticate(s.key, db=db) if s.key is not None else session_user(s.key_id, s.password_set_at, db=db)
    )
    if user is None:  # revoked, expired or given a new password since sign-in
        sessions(request).close(request.cookies.get(SESSION_COOKIE))
        return None
    return user, s


def page_user(request: Request) -> tuple[User, Session]:
    """A dependency for pages: the signed-in user, else a redirect to the sign-in page."""
    found = signed_in(request)
    if found is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(303, "sign in first", headers={"Location": f"/signin?next={target}"})
    return found


Auth = Annotated[tuple[User, Session], Depends(page_user)]  # a page's signed-in user and session


async def posted_form(
    request: Request, auth: tuple[User, Session], permission: str | None = None
) -> FormData:
    """A posted form's fields, once its CSRF token (and the permission, when one is needed) is checked."""
    user, session = auth
    form = await request.form()
    check_csrf(session, str(form.get("csrf", "")))
    if permission:
        require_page(user, permission)
    return form


def check_csrf(session: Session, token: str | None) -> None:
    if not token or not hmac.compare_digest(token, session.csrf):
        raise HTTPException(403, "the form's CSRF token is missing or wrong: reload the page and try again")


def require_page(user: User, permission: str) -> None:
    if permission not in user.permissions:
        raise HTTPException(
            403, f"permission '{permission}' is needed; role '{user.role}' has: {', '.join(user.permissions)}"
        )


def verify_key(request: Request, key: str) -> User:
    """The API's own check of a key (same failure limit per address); raises HTTPException 401/429."""
    from chipex.interfaces.http.auth import current_user

    return current_user(request, HTTPAuthorizationCredentials(scheme="Bearer", credentials=key.strip()))


def verify_name_password(request: Request, name: str, password: str) -> User:
    """The web's check of a name and password, under the API's limit on failed attempts per address;
    raises HTTPException 401 (one message for every failure: no user enumeration) or 429."""
    from chipex.interfaces.http.auth import count_failure, refuse_if_throttled

    refuse_if_throttled(request)
    user = verify_password(name.strip(), password, db=request.app.state.db)
    if user is None:
        count_failure(request)
        raise HTTPException(401, SIGNIN_REFUSED)
    return user
