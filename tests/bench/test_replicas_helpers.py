"""The replicas benchmark's pure pieces: its percentile, and the proxy's round robin."""

from __future__ import annotations

import socket
import threading

import numpy as np
import pytest

from bench.latency_proxy import LatencyProxy
from bench.replicas_load import percentile


@pytest.mark.parametrize("q", [0, 50, 95, 100])
def test_percentile_matches_numpys_linear_interpolation(q: float) -> None:
    samples = [0.3, 0.1, 0.7, 0.2, 0.9, 0.4, 0.05]
    assert percentile(samples, q) == pytest.approx(float(np.percentile(samples, q)))


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 50)


def _named_server(name: bytes) -> tuple[socket.socket, int]:
    """A loopback server that answers each connection with ``name`` and closes it."""
    srv = socket.create_server(("127.0.0.1", 0))

    def loop() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            with conn:
                conn.sendall(name)

    threading.Thread(target=loop, daemon=True).start()
    return srv, srv.getsockname()[1]


def _ask(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        out = b""
        while chunk := sock.recv(16):
            out += chunk
        return out


def test_the_proxy_sends_each_new_connection_to_the_next_upstream() -> None:
    (sa, pa), (sb, pb) = _named_server(b"a"), _named_server(b"b")
    try:
        with LatencyProxy([pa, pb]) as proxy:
            assert [_ask(proxy.port) for _ in range(4)] == [b"a", b"b", b"a", b"b"]
    finally:
        sa.close()
        sb.close()
