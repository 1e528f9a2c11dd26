"""``model_api.permissions`` lists every AWS call model_api's source makes, and nothing more.

A static read of the source (fast, no TensorFlow): every DynamoDB operation name (botocore's
snake_case names) used as a method call or as a string (``_call("query", …)``) and every
``obstore.<function>(…)`` call must be listed, under the IAM action of that name. The task role
is built from that list, so a new call without its permission fails here.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name
from model_api import permissions

SOURCE = Path(permissions.__file__).resolve().parent


@functools.cache
def _dynamodb_operations() -> set[str]:
    model = botocore.session.get_session().get_service_model("dynamodb")
    return {xform_name(name) for name in model.operation_names}


@functools.cache
def _used_names() -> tuple[set[str], set[str]]:
    """(DynamoDB operations named in model_api's source, obstore functions it calls)."""
    operations = _dynamodb_operations()
    dynamodb: set[str] = set()
    obstore: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        if path.name == "permissions.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                attr = node.func
                if isinstance(attr.value, ast.Name) and attr.value.id == "obstore":
                    obstore.add(attr.attr)
                elif attr.attr in operations:
                    dynamodb.add(attr.attr)
            elif isinstance(node, ast.Constant) and node.value in operations:
                dynamodb.add(node.value)
    return dynamodb, obstore


def test_every_call_is_permitted() -> None:
    dynamodb, obstore = _used_names()
    assert dynamodb, "the scan found no DynamoDB call: it is broken"
    assert dynamodb <= set(permissions.DYNAMODB_CALLS), dynamodb - set(permissions.DYNAMODB_CALLS)
    assert obstore <= set(permissions.OBJECT_CALLS), obstore - set(permissions.OBJECT_CALLS)


@pytest.mark.parametrize(
    "method",
    ["batch_write_item", "query", "scan", "get_item", "update_item", "put_item", "delete_item"],
)
def test_todays_calls_are_found(method: str) -> None:
    """The score log, record reads, reviews and the registry: the scan must see each."""
    assert method in _used_names()[0]


def test_every_permission_maps_to_a_known_action() -> None:
    operations = _dynamodb_operations()
    for method, by_resource in permissions.DYNAMODB_CALLS.items():
        assert method in operations, method
        expected = "dynamodb:" + "".join(part.title() for part in method.split("_"))
        assert set(by_resource.values()) == {expected}, method
