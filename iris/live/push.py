"""Live MP4 fragments pushed over a socket: the camera writes, one reader reads (no Ray here).

A Ray call per fragment cost the camera's process more than cutting the fragment did (waking a
call thread, the task's bookkeeping, the reply), so a live reader asks once and the camera then
writes each fragment to a TCP connection from its ingest thread as it cuts it. The reader
listens; the camera connects and first sends the reader's one-time token, so nothing else can
feed a stream. Frames are a fixed header (sequence number, flags, length) and the fragment's
bytes; an END frame says the epoch is over.

The camera's side never blocks its ingest thread: the socket is non-blocking, what the kernel
does not take at once waits in a buffer that is retried with every packet, and a reader that
owes more than `MAX_PENDING` bytes (or has gone) is dropped. The reader comes back through the
usual route (`init`, then a new push from the newest keyframe), so a slow reader loses
fragments, never the camera's recording.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import socket
import struct
from collections.abc import AsyncGenerator, Iterable

from iris.live.types import Fragment

log = logging.getLogger(__name__)

HEADER = struct.Struct("!QBI")
"""Sequence number, flags, length of the bytes that follow."""
KEYFRAME = 1
END = 2
TOKEN_BYTES = 32
MAX_PENDING = 8 << 20
"""Bytes a reader may owe (several keyframe fragments of a 4K camera) before it is dropped."""
SEND_BUFFER = 4 << 20
CONNECT_S = 5.0


def frame(fragment: Fragment) -> bytes:
    """One fragment as it goes over the wire."""
    flags = KEYFRAME if fragment.keyframe else 0
    return HEADER.pack(fragment.seq, flags, len(fragment.data)) + fragment.data


END_FRAME = HEADER.pack(0, END, 0)


class FragmentPush:
    """The camera's side of one push: a connected, non-blocking socket and what it still owes.

    `connect` runs on the camera's call thread (it may wait `CONNECT_S`); every other method
    is called with the producer's lock held, from whichever thread holds it, and none blocks.
    """

    def __init__(self, sock: socket.socket, epoch: int) -> None:
        self.epoch = epoch
        self._sock = sock
        self._pending = bytearray()
        self.closed = False

    @classmethod
    def connect(cls, host: str, port: int, token: bytes, epoch: int,
                timeout_s: float = CONNECT_S) -> FragmentPush:
        """Connect to a waiting reader and authenticate with its token.

        Raises:
            OSError: the reader cannot be reached.
        """
        sock = socket.create_connection((host, port), timeout=timeout_s)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
            sock.sendall(token)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        return cls(sock, epoch)

    def offer(self, fragments: Iterable[Fragment]) -> None:
        """Queue `fragments` and send what the socket takes now."""
        if self.closed:
            return
        for fragment in fragments:
            self._pending += frame(fragment)
        if len(self._pending) > MAX_PENDING:
            log.info("live push: reader %d MiB behind; dropped (it reconnects from a keyframe)",
                     len(self._pending) >> 20)
            self.close()
            return
        self.flush()

    def flush(self) -> None:
        """Send what is owed as far as the socket takes it without waiting."""
        while self._pending and not self.closed:
            try:
                n = self._sock.send(self._pending)
            except BlockingIOError:
                return
            except OSError as exc:  # the reader went away
                log.debug("live push ended: %s", exc)
                self.close()
                return
            del self._pending[:n]

    def end(self) -> None:
        """The epoch is over: say so (as far as the socket takes it) and close."""
        if not self.closed:
            self._pending += END_FRAME
            self.flush()
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._pending.clear()
        try:
            self._sock.close()
        except OSError:
            pass


class PushListener:
    """The reader's side: a one-time listener a camera connects to with `token`.

    Use as an async context manager; `host`/`port` are what the camera is told.
    """

    def __init__(self, host: str, token: bytes) -> None:
        self.host = host
        self.token = token
        self.port = 0
        self._server: asyncio.Server | None = None
        self._accepted: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]] | None \
            = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> PushListener:
        self._accepted = asyncio.get_running_loop().create_future()
        self._server = await asyncio.start_server(self._on_connect, host=self.host, port=0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._close_server()
        if self._accepted is not None and not self._accepted.done():
            self._accepted.cancel()
        if self._writer is not None:
            self._writer.close()

    def _close_server(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    async def _on_connect(self, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        try:
            token = await asyncio.wait_for(reader.readexactly(TOKEN_BYTES), CONNECT_S)
        except (TimeoutError, asyncio.IncompleteReadError, OSError):
            writer.close()
            return
        accepted = self._accepted
        if not hmac.compare_digest(token, self.token) or accepted is None or accepted.done():
            log.warning("live push: a connection without this stream's token was refused")
            writer.close()
            return
        self._close_server()  # one camera per listener: nobody else gets in afterwards
        self._writer = writer
        accepted.set_result((reader, writer))

    async def fragments(self, idle_s: float) -> AsyncGenerator[list[Fragment] | None, None]:
        """The pushed fragments, one batch each, and None, last, when the epoch ended, the
        camera went away or sent nothing for `idle_s` (the caller starts over)."""
        assert self._accepted is not None, "use PushListener as a context manager"
        try:
            reader, _ = await asyncio.wait_for(asyncio.shield(self._accepted), CONNECT_S)
        except TimeoutError:
            yield None
            return
        while True:
            try:
                head = await asyncio.wait_for(reader.readexactly(HEADER.size), idle_s)
                seq, flags, size = HEADER.unpack(head)
                if flags & END:
                    break
                data = await asyncio.wait_for(reader.readexactly(size), idle_s)
            except (TimeoutError, asyncio.IncompleteReadError, OSError):
                break
            yield [Fragment(seq, bool(flags & KEYFRAME), data)]
        yield None
