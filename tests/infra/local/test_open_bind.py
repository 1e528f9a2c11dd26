"""The launcher refuses to expose the stack off loopback without a token, unless told to."""

from __future__ import annotations

from pathlib import Path

import pytest
from infra.config import InfraSettings, is_loopback
from infra.local.cli import main
from infra.local.dynamodb_local import free_port
from infra.local.stack import LaunchError, Options, Stack


def _stack(tmp_path: Path, **settings: object) -> Stack:
    ports = {"aws_port": free_port(), "api_port": free_port(), "ui_port": free_port()}
    return Stack(InfraSettings(data_dir=tmp_path, **ports, **settings), Options())


def test_loopback_names() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("127.9.9.9") and is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3") and not is_loopback("::")


def test_non_loopback_without_token_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LaunchError, match="IRIS_API_TOKEN"):
        _stack(tmp_path, host="0.0.0.0")._preflight()


@pytest.mark.parametrize("extra", [{"api_token": "s3cret-token"}, {"allow_open_bind": True}])
def test_token_or_explicit_opt_in_passes_the_check(tmp_path: Path, extra: dict) -> None:
    _stack(tmp_path, host="0.0.0.0", **extra)._preflight()  # raises on any refusal


def test_the_cli_refuses_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("IRIS_HOST", "0.0.0.0")
    monkeypatch.delenv("IRIS_API_TOKEN", raising=False)
    monkeypatch.delenv("IRIS_ALLOW_OPEN_BIND", raising=False)
    code = main(["run", "--data-dir", str(tmp_path), "--aws-port", str(free_port())])
    assert code != 0
    captured = capsys.readouterr()
    assert "--allow-open-bind" in captured.out + captured.err
