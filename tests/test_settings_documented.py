"""Every setting a service reads from its environment is documented: each field of the
settings classes, by its variable name, is in README.md's Configuration table or in
docs/configuration.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dashboard.config import UiSettings
from infra.config import InfraSettings
from infra.esm.settings import EsmSettings
from model_api.config import ApiSettings
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[1]
CLASSES = [ApiSettings, UiSettings, InfraSettings, EsmSettings]


def variable(cls: type[BaseSettings], name: str) -> str:
    """The environment variable pydantic-settings reads for a field."""
    alias = cls.model_fields[name].validation_alias
    if isinstance(alias, str):
        return alias
    return f"{cls.model_config.get('env_prefix', '')}{name}".upper()


def documented() -> set[str]:
    text = (ROOT / "README.md").read_text() + (ROOT / "docs" / "configuration.md").read_text()
    return set(re.findall(r"`((?:IRIS|AWS)_[A-Z0-9_]+)", text))


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_field_is_documented(cls: type[BaseSettings]) -> None:
    missing = sorted({variable(cls, n) for n in cls.model_fields} - documented())
    assert not missing, f"{cls.__name__}: document {missing} in docs/configuration.md"


def test_no_documented_variable_is_unknown() -> None:
    known = {variable(c, n) for c in CLASSES for n in c.model_fields}
    # read outside the settings classes: the test fixtures' and the launcher's own switches
    others = {v for v in documented() if v.startswith(("IRIS_TEST_", "AWS_"))}
    assert sorted(documented() - known - others) == []
