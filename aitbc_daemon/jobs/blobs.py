"""Job inputs and outputs, stored by their SHA-256 (like git's objects or a registry's layers).

Content addressing makes uploads idempotent (the same file twice is stored
once), lets a receipt name a file by its digest, and lets a miner fetch an
input by the digest it was told. A blob is written to a temporary file and
renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from aitbc_daemon.errors import AitbcError, NotFound

SHA256 = re.compile(r"[0-9a-f]{64}")
DEFAULT_MAX_BLOB_BYTES = 64 * 1024 * 1024


class BlobTooLarge(AitbcError):
    status, code = 413, "blob_too_large"


class BlobNotFound(NotFound):
    code = "blob_not_found"


class BlobStore:
    def __init__(self, directory: Path, *, max_bytes: int = DEFAULT_MAX_BLOB_BYTES):
        self.directory = directory
        self.max_bytes = max_bytes
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def path(self, digest: str) -> Path:
        if SHA256.fullmatch(digest) is None:
            raise AitbcError(
                f"{digest!r} is not a SHA-256 digest (64 lowercase hex digits)", code="invalid_digest"
            )
        return self.directory / digest[:2] / digest[2:]

    def has(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def put(self, chunks: Iterable[bytes]) -> tuple[str, int]:
        """Store a stream of bytes; returns (sha256, size). Refuses more than `max_bytes`."""
        digest = hashlib.sha256()
        size = 0
        fd, temp_name = tempfile.mkstemp(dir=self.directory, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise BlobTooLarge(f"file is larger than the limit of {self.max_bytes} bytes")
                    digest.update(chunk)
                    handle.write(chunk)
            target = self.path(digest.hexdigest())
            target.parent.mkdir(exist_ok=True, mode=0o700)
            os.replace(temp_name, target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        return digest.hexdigest(), size

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        return self.put([data])

    def open_path(self, digest: str) -> Path:
        path = self.path(digest)
        if not path.is_file():
            raise BlobNotFound(f"no stored file with SHA-256 {digest}")
        return path
