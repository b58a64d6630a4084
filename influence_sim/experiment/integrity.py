"""What makes a results store trustworthy: checksums, a checked manifest, one writer at a time.

- **Chunk checksums.** When a chunk's file is written, the manifest records its size and
  SHA-256. Each file is also written with Parquet page checksums. Every read checks the file
  against the manifest first (`ChunkFile.verify`, once per reader and file) and then checks
  the page checksums as pyarrow decodes the pages. A mismatch raises `StoreError`.
- **The manifest checks itself.** It carries a format number and the SHA-256 of its own
  canonical JSON (`MANIFEST_CHECKSUM`). A truncated, unparseable or edited manifest gives one
  clear `StoreError` (`read_manifest`).
- **One writer.** A batch holds an advisory lock (`fcntl.flock`) on ``<store>/.lock``
  (`StoreLock`). A second writer is refused with the holder's process id. The kernel
  releases the lock when its holder dies, even by SIGKILL, so a stale lock file never blocks
  a resume.

Stores written before checksums existed (format 1) still load. Their chunks are checked only
by Parquet's own decoding, and `verify_store` says so.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import StoreError

__all__ = [
    "FORMAT",
    "KIND",
    "ChunkFile",
    "StoreLock",
    "chunk_files",
    "file_digest",
    "read_manifest",
    "seal_manifest",
]

KIND = "influence-sim experiment"
#: 1: chunks without checksums; 2: chunk sizes and SHA-256 in the manifest, page checksums,
#: the manifest's own checksum; 3: a votes file per chunk.
FORMAT = 3
#: The manifest key holding the SHA-256 of the rest of the manifest.
MANIFEST_CHECKSUM = "manifest_sha256"
#: What an experiment manifest must hold for the store to be read.
REQUIRED = (
    "experiment",
    "seed",
    "replicates",
    "chunk",
    "baseline",
    "points",
    "output",
    "compare",
    "scenarios",
    "chunks",
)
#: The chunk files of one chunk, by kind.
FILES = ("ts", "summary", "events", "votes")


def chunk_files(fmt: int) -> tuple[str, ...]:
    """The chunk files of a store of format ``fmt`` (stores before format 3 hold no votes)."""
    return FILES if fmt >= 3 else FILES[:3]


def file_digest(path: Path) -> tuple[int, str]:
    """Size in bytes and SHA-256 (hex) of a file, read in blocks."""
    with path.open("rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
        size = fh.tell()
    return size, digest


def _canonical(manifest: dict[str, Any]) -> bytes:
    body = {k: v for k, v in manifest.items() if k != MANIFEST_CHECKSUM}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def seal_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest with its own checksum set (call before every write)."""
    manifest[MANIFEST_CHECKSUM] = hashlib.sha256(_canonical(manifest)).hexdigest()
    return manifest


def read_manifest(store: Path) -> dict[str, Any]:
    """Read and check ``<store>/manifest.json``.

    Raises `StoreError` (one line) when the file is missing, unreadable, truncated or not JSON,
    of another kind or of a newer format, or does not match its own checksum.
    """
    path = store / "manifest.json"
    if not path.is_file():
        raise StoreError("no manifest.json: not a results directory", path=store)
    try:
        raw = path.read_bytes()
        manifest = json.loads(raw.decode("utf-8"))
    except OSError as exc:
        raise StoreError(f"cannot read manifest.json: {exc.strerror}", path=store) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StoreError(
            f"manifest.json is damaged ({len(raw):,} bytes, not valid JSON: {exc}); the chunk "
            "files cannot be trusted without it",
            path=store,
        ) from None
    if not isinstance(manifest, dict):
        raise StoreError("manifest.json is damaged: not a JSON object", path=store)
    fmt = manifest.get("format", 1)
    if manifest.get("kind") == KIND and isinstance(fmt, int) and fmt > FORMAT:
        raise StoreError(
            f"the store has format {fmt}, newer than this version of influence-sim reads "
            f"({FORMAT}); upgrade influence-sim",
            path=store,
        )
    if manifest.get("kind") == KIND:
        missing = [k for k in REQUIRED if k not in manifest]
        missing += [
            f"experiment.{k}"
            for k in ("name", "sha256")
            if "experiment" not in missing and k not in (manifest.get("experiment") or {})
        ]
        if missing:
            raise StoreError(f"manifest.json is damaged: it lacks {', '.join(missing)}", path=store)
    recorded = manifest.get(MANIFEST_CHECKSUM)
    if recorded is not None:
        actual = hashlib.sha256(_canonical(manifest)).hexdigest()
        if actual != recorded:
            raise StoreError(
                "manifest.json does not match its checksum (recorded "
                f"{str(recorded)[:12]}, content {actual[:12]}): it was edited or corrupted",
                path=store,
            )
    return manifest


@dataclass(frozen=True)
class ChunkFile:
    """One chunk file of a store, with what the manifest says of it."""

    store: Path
    chunk: str
    kind: str
    expected: dict[str, Any] | None  # {"bytes": int, "sha256": str}; None in format-1 stores

    @property
    def path(self) -> Path:
        """Where the file is."""
        return self.store / "chunks" / f"{self.chunk}.{self.kind}.parquet"

    def problem(self) -> str | None:
        """What is wrong with the file, or None when it matches the manifest."""
        try:
            size, digest = file_digest(self.path)
        except FileNotFoundError:
            return "missing"
        except OSError as exc:
            return f"unreadable ({exc.strerror})"
        if self.expected is None:
            return None
        if size != self.expected["bytes"]:
            return f"{size:,} bytes where the manifest records {self.expected['bytes']:,}"
        if digest != self.expected["sha256"]:
            return (
                f"content differs from the manifest's checksum (sha256 {digest[:12]}, "
                f"recorded {self.expected['sha256'][:12]})"
            )
        return None

    def verify(self) -> None:
        """Raise `StoreError` naming the store, the file and what differs."""
        problem = self.problem()
        if problem is not None:
            raise StoreError(
                f"chunk file chunks/{self.path.name} is damaged: {problem}. "
                "`influence-sim verify` lists all damage; resuming the batch re-runs "
                "damaged chunks",
                path=self.store,
            )


@dataclass
class StoreLock:
    """An exclusive advisory lock on a store, held by one writing process.

    The lock file records the holder (process id, host, start time) for the message a second
    writer gets. The lock itself is the kernel's (`fcntl.flock`), released when the holder
    exits or dies, so a lock file left by a killed batch does not block.
    """

    store: Path
    _fd: int | None = field(default=None, repr=False)

    @property
    def path(self) -> Path:
        """The lock file."""
        return self.store / ".lock"

    def acquire(self) -> StoreLock:
        """Take the lock, or raise `StoreError` naming the process that holds it."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            msg = f"cannot create the lock file: {exc.strerror}"
            raise StoreError(msg, path=self.store) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 300, 0).decode("utf-8", "replace").strip() or "unknown"
            os.close(fd)
            raise StoreError(
                f"another batch is writing to this store ({holder}); wait for it to finish "
                "or stop it",
                path=self.store,
            ) from None
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        text = f"process {os.getpid()} on {socket.gethostname()}, since {stamp}\n".encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, text, 0)
        self._fd = fd
        return self

    def release(self) -> None:
        """Let go of the lock (the lock file stays; it is harmless once released)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @contextmanager
    def held(self) -> Iterator[StoreLock]:
        """Hold the lock for a block."""
        self.acquire()
        try:
            yield self
        finally:
            self.release()
