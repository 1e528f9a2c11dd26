"""A TCP proxy on loopback that adds a fixed delay per request round trip, like a distant region.

Half the delay each way, and chunks are scheduled rather than queued behind each other, so
requests in flight overlap as they would over a real long link. Given several upstream ports it
is also a round-robin balancer: each new connection goes to the next one (delay 0 for none).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Sequence

from infra.local.dynamodb_local import free_port


class LatencyProxy:
    """TCP proxy on 127.0.0.1 adding ``delay / 2`` to each direction (so ``delay`` per round
    trip), without serialising requests: chunks are scheduled, not queued behind each other."""

    def __init__(self, upstream_port: int | Sequence[int], delay: float = 0.0) -> None:
        ports = [upstream_port] if isinstance(upstream_port, int) else list(upstream_port)
        self.upstream_port = ports[0]
        self._upstreams = itertools.cycle(ports)  # round robin, one pick per connection
        self.one_way = delay / 2
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LatencyProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port)
        )
        self._ready.set()
        self._loop.run_forever()
        server.close()
        tasks = asyncio.all_tasks(self._loop)
        for task in tasks:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        self._loop.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    break
                await asyncio.sleep(max(0.0, due - loop.time()))
                writer.write(data)
                await writer.drain()
            with contextlib.suppress(OSError):
                writer.close()

        sender = asyncio.create_task(deliver())
        try:
            while data := await reader.read(65536):
                queue.put_nowait((loop.time() + self.one_way, data))
        except OSError:
            pass
        queue.put_nowait((0.0, b""))
        with contextlib.suppress(OSError):
            await sender

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", next(self._upstreams))
        except OSError:
            client_w.close()
            return
        try:
            await asyncio.gather(self._pipe(client_r, up_w), self._pipe(up_r, client_w))
        except asyncio.CancelledError:  # the proxy is shutting down: end quietly
            for writer in (client_w, up_w):
                writer.close()
