"""The Lambda zip is deterministic: same source, same bytes, same CodeSha256."""

from __future__ import annotations

import os
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from infra.config import InfraSettings
from infra.provision.package import LambdaPackageError, build_function_zip, build_zip


def _package(root: Path) -> Path:
    pkg = root / "flagger"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "handler.py").write_text("def lambda_handler(event, context):\n    return {}\n")
    (pkg / "sub" / "rules.py").write_text("X = 1\n")
    return pkg


def test_same_source_gives_identical_zip_regardless_of_mtime_and_caches(tmp_path):
    pkg = _package(tmp_path)
    first = build_zip(pkg)
    os.utime(pkg / "handler.py", (0, 0))
    (pkg / "__pycache__").mkdir()
    (pkg / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"\x00junk")
    (pkg / "handler.pyc").write_bytes(b"junk")

    second = build_zip(pkg)

    assert second.zip_bytes == first.zip_bytes
    assert second.code_sha256 == first.code_sha256
    assert first.files == ("flagger/__init__.py", "flagger/handler.py", "flagger/sub/rules.py")
    with zipfile.ZipFile(BytesIO(first.zip_bytes)) as zf:
        assert zf.read("flagger/sub/rules.py") == b"X = 1\n"
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_changed_source_changes_the_hash(tmp_path):
    pkg = _package(tmp_path)
    before = build_zip(pkg).code_sha256
    (pkg / "sub" / "rules.py").write_text("X = 2\n")
    assert build_zip(pkg).code_sha256 != before


def test_handler_module_must_be_in_the_zip(tmp_path):
    pkg = _package(tmp_path)
    assert "flagger/handler.py" in build_function_zip(pkg, "flagger.handler.lambda_handler").files
    with pytest.raises(LambdaPackageError, match=r"flagger/missing\.py"):
        build_function_zip(pkg, "flagger.missing.lambda_handler")


def test_default_source_is_the_installed_flagger_package_with_its_handler():
    settings = InfraSettings()
    source = settings.lambda_source_dir
    assert source is not None and source.name == "flagger"
    files = build_function_zip(source, settings.lambda_handler).files
    assert {"flagger/__init__.py", "flagger/handler.py"} <= set(files)
