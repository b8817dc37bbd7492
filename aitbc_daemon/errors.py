"""Errors the daemon reports to its callers.

Domain services raise these (never HTTPException) so logic stays free of HTTP;
`app.py` turns each into `{"error": {"code", "message"}}` with its status, and
the client turns that body back into `ApiError` carrying the same code.
"""

from __future__ import annotations


class AitbcError(Exception):
    """A refusal with a stable machine-readable `code` and an HTTP `status`."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def to_body(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}


class NotFound(AitbcError):
    status, code = 404, "not_found"


class Conflict(AitbcError):
    status, code = 409, "conflict"


class Forbidden(AitbcError):
    status, code = 403, "forbidden"


class Unauthorized(AitbcError):
    status, code = 401, "unauthorized"
