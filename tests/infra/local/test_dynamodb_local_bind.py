"""DynamoDB Local listens on the configured address only (127.0.0.1 by default).

A non-loopback address of this machine is made for the test: a network namespace joined to the
root namespace by a veth pair with addresses in a private /30 that exists only inside this machine.
Traffic goes only to those two addresses; the namespace and the pair are removed afterwards.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from infra.local.dynamodb_local import DynamoDBLocal, free_port

pytestmark = pytest.mark.integration

_PROBE = (
    "import socket, sys\n"
    "s = socket.socket(); s.settimeout(5)\n"
    "try:\n"
    "    s.connect((sys.argv[1], int(sys.argv[2]))); print('connected')\n"
    "except ConnectionRefusedError:\n"
    "    print('refused')\n"
)


@dataclass(frozen=True)
class Veth:
    namespace: str
    host_address: str  # this machine's non-loopback address (root namespace end)
    peer_address: str  # the namespace's end


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def _free_subnet() -> tuple[str, str]:
    """Two addresses of a 10.254.x.y/30 no route of this machine already covers."""
    routes = _ip("-4", "route", "show", "table", "all").stdout
    for _ in range(50):
        third, fourth = random.randrange(256), random.randrange(0, 256, 4)
        prefix = f"10.254.{third}."
        if prefix not in routes:
            return f"{prefix}{fourth + 1}", f"{prefix}{fourth + 2}"
    raise RuntimeError("no free private /30 found")


@pytest.fixture
def veth() -> Iterator[Veth]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.fail("this test needs root and iproute2 (`ip`) to make a network namespace")
    tag = f"{os.getpid() % 100000}{random.randrange(100)}"
    ns, host_if, peer_if = f"irisbind{tag}", f"ibh{tag}", f"ibp{tag}"
    host_addr, peer_addr = _free_subnet()
    try:
        _ip("netns", "add", ns)
        _ip("link", "add", host_if, "type", "veth", "peer", "name", peer_if)
        _ip("link", "set", peer_if, "netns", ns)
        _ip("addr", "add", f"{host_addr}/30", "dev", host_if)
        _ip("link", "set", host_if, "up")
        _ip("-n", ns, "addr", "add", f"{peer_addr}/30", "dev", peer_if)
        _ip("-n", ns, "link", "set", peer_if, "up")
        _ip("-n", ns, "link", "set", "lo", "up")
        yield Veth(namespace=ns, host_address=host_addr, peer_address=peer_addr)
    finally:
        _ip("link", "del", host_if, check=False)  # removes the peer too
        _ip("netns", "del", ns, check=False)


def _probe_from_namespace(v: Veth, port: int) -> str:
    """Connect from inside the namespace to this machine's veth address: what a neighbour sees."""
    out = subprocess.run(
        [
            "ip",
            "netns",
            "exec",
            v.namespace,
            sys.executable,
            "-c",
            _PROBE,
            v.host_address,
            str(port),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_default_bind_refuses_a_non_loopback_address(veth: Veth) -> None:
    with DynamoDBLocal(port=free_port()) as server:
        assert server.endpoint_url.startswith("http://127.0.0.1:")
        assert _probe_local("127.0.0.1", server.port) == "connected"
        assert _probe_local(veth.host_address, server.port) == "refused"
        assert _probe_from_namespace(veth, server.port) == "refused"


def test_an_explicit_wildcard_bind_is_reachable_there(veth: Veth) -> None:
    """The control: the same probe connects when every interface is asked for, so the refusal
    above is the bind address's doing."""
    with DynamoDBLocal(port=free_port(), host="0.0.0.0") as server:
        assert _probe_from_namespace(veth, server.port) == "connected"


def test_bind_to_the_veth_address_only(veth: Veth) -> None:
    with DynamoDBLocal(port=free_port(), host=veth.host_address) as server:
        assert server.endpoint_url == f"http://{veth.host_address}:{server.port}"
        assert _probe_from_namespace(veth, server.port) == "connected"
        assert _probe_local("127.0.0.1", server.port) == "refused"


def _probe_local(host: str, port: int) -> str:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, host, str(port)], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()
