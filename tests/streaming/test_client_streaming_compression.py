"""Compression of client-streaming uploads, measured in bytes on the wire.

grpcio's sync ``future()`` for client-streaming calls drops the compression
setting; a loopback proxy between client and server counts what the client
really sends.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import grpc
import pytest

from protoreq import GrpcClient
from protos import chat_pb2
from protos.chat_protoreq import UploadGrpcRequest
from tests.streaming.conftest import Driver

MESSAGES = 20
TEXT = "a" * 10_000
RAW_BYTES = MESSAGES * len(TEXT)
"""200 kB of payload that gzip shrinks to a few kB."""


class CountingProxy:
    """A loopback TCP proxy that counts the bytes going from the client to the server."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.rsplit(":", 1)
        self._upstream = (host, int(port))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.target = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self.sent_upstream = 0
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._sockets: list[socket.socket] = []
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                downstream, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(self._upstream, timeout=5)
            upstream.settimeout(None)
            self._sockets += [downstream, upstream]
            for source, sink, counted in (
                (downstream, upstream, True),
                (upstream, downstream, False),
            ):
                thread = threading.Thread(
                    target=self._pump, args=(source, sink, counted), daemon=True
                )
                self._threads.append(thread)
                thread.start()

    def _pump(self, source: socket.socket, sink: socket.socket, counted: bool) -> None:
        try:
            while chunk := source.recv(65536):
                if counted:
                    with self._lock:
                        self.sent_upstream += len(chunk)
                sink.sendall(chunk)
        except OSError:
            pass

    def close(self) -> None:
        self._stopped.set()
        self._listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the pump blocked in recv()
            sock.close()
        for thread in self._threads:
            thread.join(5)


@pytest.fixture
def proxy(chat_target: str) -> Iterator[CountingProxy]:
    counting = CountingProxy(chat_target)
    try:
        yield counting
    finally:
        counting.close()


def _upload(drive: Driver, client: GrpcClient) -> None:
    messages = [chat_pb2.ChatMessage(seq=seq, text=TEXT) for seq in range(MESSAGES)]
    response = drive.call(client, UploadGrpcRequest(messages=drive.messages(messages)))
    assert response.is_success(), response.details()
    assert response.message().count == MESSAGES


def _sent_by(proxy: CountingProxy, drive: Driver, compression: grpc.Compression | None) -> int:
    client = GrpcClient(proxy.target, timeout=20, compression=compression)
    try:
        _upload(drive, client)
    finally:
        if drive.is_async:
            drive.run(client.aclose())
        else:
            client.close()
    return proxy.sent_upstream


def test_client_streaming_upload_is_compressed(proxy: CountingProxy, drive: Driver) -> None:
    sent = _sent_by(proxy, drive, grpc.Compression.Gzip)

    assert sent < RAW_BYTES / 10, f"{sent} bytes on the wire for {RAW_BYTES} bytes of payload"


def test_uncompressed_upload_sends_the_payload(proxy: CountingProxy, drive: Driver) -> None:
    """The control: the proxy does see the whole payload when nothing compresses it."""
    assert _sent_by(proxy, drive, None) > RAW_BYTES
