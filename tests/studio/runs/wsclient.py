"""A small websocket client (RFC 6455) for tests that talk to a real daphne.

The test process cannot use autobahn's asyncio flavour (daphne, an installed app, has
already bound txaio to Twisted), so this speaks the protocol itself: the upgrade
handshake, masked client frames, text and close frames from the server.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct

TEXT, CLOSE, PING, PONG, CONTINUATION = 0x1, 0x8, 0x9, 0xA, 0x0


class HandshakeRefused(Exception):
    """The server answered the upgrade with something other than 101."""


class WebSocket:
    """One client connection; :meth:`receive` returns None once it is closed."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, host: str, port: int, path: str, headers: dict[str, str]) -> WebSocket:
        """Open ``ws://host:port/path`` with extra request headers."""
        reader, writer = await asyncio.open_connection(host, port)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {host}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        status = await reader.readline()
        while (await reader.readline()).strip():
            pass  # the response headers
        if b" 101 " not in status:
            writer.close()
            raise HandshakeRefused(status.decode(errors="replace").strip())
        return cls(reader, writer)

    async def receive(self) -> str | None:
        """The next text message, or None when the connection closed."""
        parts: list[bytes] = []
        try:
            while True:
                opcode, is_final, payload = await self.read_frame()
                if opcode == CLOSE:
                    return None
                if opcode == PING:
                    self.send_frame(PONG, payload)
                elif opcode in (TEXT, CONTINUATION):
                    parts.append(payload)
                    if is_final:
                        return b"".join(parts).decode()
        except (asyncio.IncompleteReadError, ConnectionError):
            return None

    async def read_frame(self) -> tuple[int, bool, bytes]:
        """One frame from the server (servers do not mask)."""
        first, second = await self.reader.readexactly(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
        return first & 0x0F, bool(first & 0x80), await self.reader.readexactly(length)

    def send_frame(self, opcode: int, payload: bytes) -> None:
        """One masked frame to the server."""
        header = bytes([0x80 | opcode])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        elif len(payload) < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", len(payload))
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        self.writer.write(header + mask + masked)

    def send_text(self, text: str) -> None:
        """A text message."""
        self.send_frame(TEXT, text.encode())

    async def close(self) -> None:
        """Drop the connection."""
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except ConnectionError:
            pass
