"""The HTTP API: `create_app()` (FastAPI), served by `chipex serve` (uvicorn)."""

from chipex.interfaces.http.app import create_app

__all__ = ["create_app"]
