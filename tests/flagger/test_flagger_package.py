"""The function deploys as a zip of its folder and the stdlib-only ``iris_common`` beside it:
stdlib + boto3 only, importable from the zip (the one ``iris-provision`` deploys)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from infra.provision.package import build_function_zip

SERVICES = Path(__file__).resolve().parents[2] / "services"
PACKAGE = SERVICES / "lambda" / "src" / "flagger"
COMMON = SERVICES / "common" / "src" / "iris_common"
ALLOWED_THIRD_PARTY = {"boto3", "botocore", "flagger", "iris_common"}


def test_package_imports_only_stdlib_and_boto3():
    for source in [*PACKAGE.glob("*.py"), *COMMON.glob("*.py")]:
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY, (
                    f"{source.name} imports {name}"
                )


def test_handler_imports_from_a_zip_without_site_packages(tmp_path):
    bundle = tmp_path / "function.zip"
    bundle.write_bytes(build_function_zip(PACKAGE, "flagger.handler.lambda_handler").zip_bytes)
    code = "import flagger.handler as h; print(callable(h.lambda_handler), h.__file__)"
    out = subprocess.run(
        [sys.executable, "-S", "-c", code],
        env={"PYTHONPATH": str(bundle)},  # the zip alone, as Lambda's task root
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.startswith("True")
    assert str(bundle) in out.stdout
