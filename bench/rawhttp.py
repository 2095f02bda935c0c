"""A small HTTP/1.1 client for the load benchmarks: one keep-alive connection per server, its
own cookies, nothing else (no redirects, no TLS; a gzip answer, when the caller's headers ask
for one, is unpacked). The client shares the machine with the server it measures; httpx spends
about 1.7 ms of CPU on a request, this about a tenth of that, so more of the two cores are left
to the server.

It raises httpx's exceptions, so callers treat both clients alike: ``httpx.ConnectError`` when
the request never left (connection refused: safe to send anywhere again), ``httpx.ReadError``
when it may have reached the server and the answer was lost.
"""

from __future__ import annotations

import asyncio
import gzip
import json as jsonlib
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx


class RawResponse:
    def __init__(self, status_code: int, headers: list[tuple[str, str]], content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)


class RawClient:
    """``await request(method, url, data=… | json=…, headers=…)``; ``cookies`` name → value."""

    def __init__(self, cookies: dict[str, str] | None = None, headers: dict[str, str] | None = None,
                 timeout: float = 120) -> None:
        self.cookies = dict(cookies or {})
        self.headers = dict(headers or {})
        self.timeout = timeout
        self._conns: dict[tuple[str, int], tuple[asyncio.StreamReader, asyncio.StreamWriter]] = {}

    async def aclose(self) -> None:
        for _, writer in self._conns.values():
            writer.close()
        self._conns.clear()

    def local_ports(self) -> list[int]:
        """This client's own port of each connection it holds open."""
        return [writer.get_extra_info("sockname")[1] for _, writer in self._conns.values()
                if not writer.is_closing()]

    async def _connection(self, host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        conn = self._conns.get((host, port))
        if conn is None or conn[1].is_closing():
            try:
                conn = await asyncio.wait_for(asyncio.open_connection(host, port), self.timeout)
            except (TimeoutError, OSError) as exc:
                raise httpx.ConnectError(f"{host}:{port}: {exc}") from exc
            self._conns[(host, port)] = conn
        return conn

    async def request(self, method: str, url: str, *, data: dict[str, str] | None = None, json: Any = None,
                      content: bytes | None = None, headers: dict[str, str] | None = None) -> RawResponse:
        """``content``: the body as it is (the caller's headers name its Content-Type)."""
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        body = b""
        head = {"Host": parts.netloc, **self.headers, **(headers or {})}
        if json is not None:
            body = jsonlib.dumps(json).encode()
            head["Content-Type"] = "application/json"
        elif content is not None:
            body = content
        elif data is not None:
            body = urlencode(data).encode()
            head["Content-Type"] = "application/x-www-form-urlencoded"
        if body or method not in ("GET", "HEAD"):
            head["Content-Length"] = str(len(body))
        if self.cookies:
            head["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        raw = (f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in head.items())
               + "\r\n").encode("latin-1")
        reader, writer = await self._connection(host, port)
        try:
            writer.writelines((raw, body))  # a large body is not copied into the head
            return await asyncio.wait_for(self._read(reader, writer, (host, port), method), self.timeout)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            writer.close()
            self._conns.pop((host, port), None)
            raise httpx.ReadError(f"{method} {url}: {type(exc).__name__} {exc}") from exc

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, key: tuple[str, int],
                    method: str) -> RawResponse:
        block = await reader.readuntil(b"\r\n\r\n")
        lines = block.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = [(k.strip().lower(), v.strip()) for k, v in (ln.split(":", 1) for ln in lines[1:] if ln)]
        fields = dict(headers)
        if method == "HEAD" or status in (204, 304):
            content = b""
        elif "chunked" in fields.get("transfer-encoding", ""):
            chunks = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
            content = b"".join(chunks)
        elif "content-length" in fields:
            content = await reader.readexactly(int(fields["content-length"]))
        else:  # no length: the body runs to the end of the connection
            content = await reader.read()
            fields["connection"] = "close"
        if fields.get("content-encoding", "").lower() == "gzip":  # asked for with Accept-Encoding
            content = gzip.decompress(content)
        for name, value in headers:
            if name == "set-cookie":
                pair = value.split(";", 1)[0]
                if "=" in pair:
                    k, v = pair.split("=", 1)
                    self.cookies[k.strip()] = v.strip().strip('"')
        if fields.get("connection", "").lower() == "close":
            writer.close()
            self._conns.pop(key, None)
        return RawResponse(status, headers, content)
