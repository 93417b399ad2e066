"""Live fragments pushed over real loopback TCP: order, token, slow and gone readers."""

from __future__ import annotations

import asyncio
import socket

import pytest

from iris.live import push as push_module
from iris.live.push import HEADER, TOKEN_BYTES, FragmentPush, PushListener, frame
from iris.live.types import Fragment

TOKEN = b"t" * TOKEN_BYTES


def fragments(*keys: bool, start: int = 1, size: int = 10) -> list[Fragment]:
    return [Fragment(start + i, key, bytes([start + i]) * size) for i, key in enumerate(keys)]


async def connected(listener: PushListener, token: bytes = TOKEN) -> FragmentPush:
    return await asyncio.to_thread(FragmentPush.connect, listener.host, listener.port, token, 7)


def test_fragments_arrive_in_order_and_the_end_frame_ends_the_stream() -> None:
    async def main() -> None:
        async with PushListener("127.0.0.1", TOKEN) as listener:
            sender = await connected(listener)
            sent = fragments(True, False, False, True)
            sender.offer(sent[:2])
            sender.offer(sent[2:])
            sender.end()
            got = [batch async for batch in listener.fragments(5.0)]
        assert got == [[f] for f in sent] + [None]
        assert sender.closed

    asyncio.run(main())


def test_a_connection_without_the_token_is_refused_and_the_camera_still_gets_in() -> None:
    async def main() -> None:
        async with PushListener("127.0.0.1", TOKEN) as listener:
            intruder = await asyncio.to_thread(socket.create_connection,
                                               (listener.host, listener.port), 5.0)
            intruder.sendall(b"x" * TOKEN_BYTES + frame(fragments(True)[0]))
            intruder.settimeout(5.0)
            assert await asyncio.to_thread(intruder.recv, 1) == b""  # closed on it
            intruder.close()
            sender = await connected(listener)
            sender.offer(fragments(True))
            sender.end()
            got = [batch async for batch in listener.fragments(5.0)]
        assert got == [fragments(True), None]

    asyncio.run(main())


def test_a_camera_that_goes_quiet_or_away_ends_the_stream() -> None:
    async def main() -> None:
        async with PushListener("127.0.0.1", TOKEN) as listener:
            sender = await connected(listener)
            sender.offer(fragments(True))
            stream = listener.fragments(0.3)
            assert await anext(stream) == fragments(True)
            assert await anext(stream) is None  # nothing for 0.3 s: the reader starts over
            sender.close()

    asyncio.run(main())


def test_a_reader_that_does_not_read_is_dropped_without_blocking_the_camera(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(push_module, "MAX_PENDING", 1 << 20)

    async def main() -> None:
        async with PushListener("127.0.0.1", TOKEN) as listener:
            sender = await connected(listener)
            stream = listener.fragments(5.0)
            first = fragments(True)
            sender.offer(first)
            assert await anext(stream) == first  # connected and read once, then never again
            seq = 2
            while not sender.closed:  # far more than any socket buffer holds: never blocks
                sender.offer(fragments(False, start=seq, size=256 << 10))
                seq += 1
                assert seq < 10_000, "the push was never dropped"
            await stream.aclose()

    asyncio.run(main())


def test_a_reader_that_left_closes_the_push() -> None:
    async def main() -> None:
        async with PushListener("127.0.0.1", TOKEN) as listener:
            sender = await connected(listener)
            stream = listener.fragments(5.0)
            sender.offer(fragments(True))
            assert await anext(stream) == fragments(True)
            await stream.aclose()
        for seq in range(2, 200):  # the reader's socket is closed: sends start failing
            sender.offer(fragments(False, start=seq, size=64 << 10))
            if sender.closed:
                break
            await asyncio.sleep(0.01)  # let the peer's reset arrive
        assert sender.closed

    asyncio.run(main())


def test_the_header_carries_sequence_flags_and_length() -> None:
    data = frame(Fragment(9, True, b"abc"))
    assert HEADER.unpack(data[:HEADER.size]) == (9, push_module.KEYFRAME, 3)
    assert data[HEADER.size:] == b"abc"
