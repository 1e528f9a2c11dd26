"""The Lambda deployment zip, built deterministically from the ``flagger`` package.

Same source → byte-identical zip → same ``CodeSha256``, so provisioning can tell whether the
deployed code is current and only uploads when it changed. The zip holds the package folder at
its root (``flagger/handler.py``), which is what the handler name ``flagger.handler.…`` needs,
and beside it the workspace's standard-library-only ``iris_common`` (the one time format), which
the function imports; the Lambda runtime provides boto3, so nothing else goes in.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from infra.config import package_dir

# Fixed metadata: timestamps and permissions must not depend on the checkout.
_EPOCH = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o100644 << 16
_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}
# What the function imports besides itself, the standard library and boto3 (stdlib-only packages).
FUNCTION_LIBRARIES = ("iris_common",)


class LambdaPackageError(RuntimeError):
    """The function's source is missing or does not contain its handler module."""


@dataclass(frozen=True)
class LambdaPackage:
    """A built zip and the hash Lambda reports for it."""

    zip_bytes: bytes
    code_sha256: str  # base64(sha256(zip)), the format of Lambda's CodeSha256
    files: tuple[str, ...]


def _source_files(source_dir: Path) -> list[Path]:
    files = []
    for path in source_dir.rglob("*"):
        rel = path.relative_to(source_dir)
        if any(part in _SKIP_DIRS or part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and path.suffix not in _SKIP_SUFFIXES:
            files.append(path)
    return sorted(files, key=lambda p: p.relative_to(source_dir).as_posix())


def build_zip(source_dir: Path, *libraries: Path) -> LambdaPackage:
    """Zip ``source_dir`` and any ``libraries`` (package folders), each under its own name,
    deterministically."""
    folders = [Path(folder).resolve() for folder in (source_dir, *libraries)]
    for folder in folders:
        if not folder.is_dir():
            raise LambdaPackageError(f"Lambda source folder not found: {folder}")
    buffer = io.BytesIO()
    names: list[str] = []
    files = [(folder, path) for folder in folders for path in _source_files(folder)]
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for folder, path in files:
            name = f"{folder.name}/{path.relative_to(folder).as_posix()}"
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = _FILE_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so external_attr means the same everywhere
            zf.writestr(info, path.read_bytes(), compresslevel=9)
            names.append(name)
    data = buffer.getvalue()
    sha = base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
    return LambdaPackage(zip_bytes=data, code_sha256=sha, files=tuple(names))


def function_libraries() -> list[Path]:
    """The installed folders of :data:`FUNCTION_LIBRARIES`."""
    folders = [package_dir(name) for name in FUNCTION_LIBRARIES]
    missing = [n for n, f in zip(FUNCTION_LIBRARIES, folders, strict=True) if f is None]
    if missing:
        raise LambdaPackageError(f"the function's libraries are not installed: {missing}")
    return [f for f in folders if f is not None]


def build_function_zip(source_dir: Path, handler: str) -> LambdaPackage:
    """Build the zip (the function and its libraries) and check the handler's module is inside."""
    package = build_zip(source_dir, *function_libraries())
    module_path, _, function = handler.rpartition(".")
    expected = module_path.replace(".", "/") + ".py"
    if not function or expected not in package.files:
        raise LambdaPackageError(
            f"handler {handler!r} needs {expected} in the zip built from {source_dir}; "
            f"found: {', '.join(package.files) or 'nothing'}"
        )
    return package
