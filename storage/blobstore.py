"""Content-addressed blob store under the data directory.

A blob lives at ``blobs/ab/cd/<sha256>``. Writes go to a temporary file in the same
directory, are fsynced, then renamed into place, so a crash or a full disk never
leaves a file under a digest name whose bytes do not hash to that name.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

CHUNK = 1 << 20


class BlobStore:
    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.data_dir = Path(data_dir)
        self.root = self.data_dir / "blobs"

    @staticmethod
    def relpath_for(sha256: str) -> str:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return f"blobs/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def path_for(self, sha256: str) -> Path:
        return self.data_dir / self.relpath_for(sha256)

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def put_bytes(self, data: bytes) -> tuple[str, str]:
        """Store ``data``; return (sha256, path relative to the data directory)."""
        return self.put_chunks([data])

    def put_chunks(self, chunks: Iterable[bytes]) -> tuple[str, str]:
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        fd, tmp_name = tempfile.mkstemp(prefix=".incoming-", dir=self.root)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            final = self.path_for(sha)
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():
                os.unlink(tmp_name)  # already stored: content addressing makes this a no-op
            else:
                os.replace(tmp_name, final)
            return sha, self.relpath_for(sha)
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise

    def hash_file(self, sha256: str) -> str | None:
        """The digest of the stored bytes, or None if the blob is missing."""
        path = self.path_for(sha256)
        if not path.is_file():
            return None
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def clean_incoming(self) -> int:
        """Remove temporary files a killed process left behind; return how many."""
        removed = 0
        if self.root.is_dir():
            for leftover in self.root.glob(".incoming-*"):
                leftover.unlink(missing_ok=True)
                removed += 1
        return removed
