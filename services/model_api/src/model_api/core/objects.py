"""The object store: model_api's blobs (data set files, model weights, big lists) by key.

One interface over obstore for both backends, so every way to run takes the same code path:
``file:///path`` (the embedded default, a folder under the data directory) or
``s3://bucket/prefix`` (AWS, LocalStack, moto) with the standard AWS credential chain and the
configured endpoint. Keys are ``/``-separated (``datasets/3/data.csv``). A put is atomic on
both backends (S3 by nature, the local store writes a temporary file and renames it), so a
reader sees a whole object or none.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import obstore
from obstore.store import LocalStore, S3Store

from model_api.core.errors import ApiError

SCHEMES = ("file", "s3")


class ObjectMissing(KeyError):
    """No object under that key."""


def _s3_store(bucket: str, prefix: str, endpoint_url: str | None, region: str) -> S3Store:
    """An S3 store on ``endpoint_url`` (None = AWS) with the standard credential chain."""
    import boto3
    from obstore.auth.boto3 import Boto3CredentialProvider

    options: dict[str, Any] = {"region": region}
    if endpoint_url:
        options["endpoint"] = endpoint_url
    client_options = {"allow_http": True} if (endpoint_url or "").startswith("http://") else None
    session = boto3.Session(region_name=region)
    provider = Boto3CredentialProvider(session) if session.get_credentials() else None
    return S3Store(
        bucket,
        prefix=prefix or None,
        client_options=client_options,  # type: ignore[arg-type]
        credential_provider=provider,  # type: ignore[arg-type]
        **options,
    )


class ObjectStore:
    """Put, get, delete, test and list blobs by key in one configured place."""

    def __init__(
        self, url: str, endpoint_url: str | None = None, region: str = "us-east-1"
    ) -> None:
        parsed = urlparse(url)
        if parsed.scheme not in SCHEMES:
            raise ValueError(
                f"IRIS_OBJECT_STORE must be file:///path or s3://bucket/prefix, not {url!r}"
            )
        self.url = url
        if parsed.scheme == "file":
            root = Path(parsed.path)
            root.mkdir(parents=True, exist_ok=True)
            self._store: Any = LocalStore(root, automatic_cleanup=True)
        else:
            if not parsed.netloc:
                raise ValueError(f"IRIS_OBJECT_STORE names no bucket: {url!r}")
            self._store = _s3_store(parsed.netloc, parsed.path.strip("/"), endpoint_url, region)

    def put(self, key: str, data: bytes) -> None:
        obstore.put(self._store, key, data)

    def get(self, key: str) -> bytes:
        """The object's bytes; ``ObjectMissing`` if there is none."""
        try:
            return bytes(obstore.get(self._store, key).bytes())
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc

    def exists(self, key: str) -> bool:
        try:
            obstore.head(self._store, key)
        except FileNotFoundError:
            return False
        return True

    def delete(self, key: str) -> None:
        """Remove the object (no error if it is already gone)."""
        with contextlib.suppress(FileNotFoundError):
            obstore.delete(self._store, key)

    def list(self, prefix: str = "") -> list[str]:
        """Every key under ``prefix`` (a folder: ``models/3/``), sorted."""
        found: Iterable[Any] = obstore.list(self._store, prefix.rstrip("/") or None)
        return sorted(meta["path"] for batch in found for meta in batch)

    def delete_prefix(self, prefix: str) -> None:
        """Remove every object under ``prefix`` (a data set's or a model's folder)."""
        for key in self.list(prefix):
            self.delete(key)

    def check(self) -> str:
        """``ok`` if the store answers (the readiness probe), else why not."""
        try:
            self.exists(".ready")
        except Exception as exc:  # any failure makes the service not ready; say which
            return f"error: {type(exc).__name__}: {exc}"[:300]
        return "ok"


def missing_blob(what: str, key: str) -> ApiError:
    """A record whose blob is gone from the object store (deleted by hand, another bucket)."""
    return ApiError(
        500, "blob_missing", f"{what} has no object {key!r} in the object store", {"key": key}
    )
