"""Channel settings and channel creation, shared by the sync and async paths.

grpcio takes channel options as untyped ``(name, value)`` pairs; the client
takes them as typed keyword arguments and turns them into pairs here, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import grpc

ChannelOption = tuple[str, str | int]


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    """Everything that decides how a channel is opened; equal settings can share channels."""

    target: str
    credentials: grpc.ChannelCredentials | None = None
    max_send_message_length: int | None = None
    max_receive_message_length: int | None = None
    keepalive_time: float | None = None
    keepalive_timeout: float | None = None
    keepalive_permit_without_calls: bool = False
    compression: grpc.Compression | None = None
    ssl_target_name_override: str | None = None
    extra_options: tuple[ChannelOption, ...] = field(default=())

    def grpc_options(self, *, pool_index: int | None = None) -> list[ChannelOption]:
        """grpcio channel arguments; ``pool_index`` forces a connection of its own."""
        options: list[ChannelOption] = []
        if self.max_send_message_length is not None:
            options.append(("grpc.max_send_message_length", self.max_send_message_length))
        if self.max_receive_message_length is not None:
            options.append(("grpc.max_receive_message_length", self.max_receive_message_length))
        if self.keepalive_time is not None:
            options.append(("grpc.keepalive_time_ms", round(self.keepalive_time * 1000)))
        if self.keepalive_timeout is not None:
            options.append(("grpc.keepalive_timeout_ms", round(self.keepalive_timeout * 1000)))
        if self.keepalive_permit_without_calls:
            options.append(("grpc.keepalive_permit_without_calls", 1))
        if self.ssl_target_name_override is not None:
            options.append(("grpc.ssl_target_name_override", self.ssl_target_name_override))
        if pool_index is not None:
            # grpcio shares subchannels between channels with equal arguments; a
            # local pool and a distinct argument give each pooled channel its own
            # TCP connection.
            options.append(("grpc.use_local_subchannel_pool", 1))
            options.append(("protoreq.pool_index", pool_index))
        options.extend(self.extra_options)
        return options

    def open_sync(self, *, pool_index: int | None = None) -> grpc.Channel:
        options = self.grpc_options(pool_index=pool_index)
        if self.credentials is None:
            return grpc.insecure_channel(self.target, options, self.compression)
        return grpc.secure_channel(self.target, self.credentials, options, self.compression)

    def open_async(self, *, pool_index: int | None = None) -> grpc.aio.Channel:
        options = self.grpc_options(pool_index=pool_index)
        if self.credentials is None:
            return grpc.aio.insecure_channel(self.target, options, self.compression)
        return grpc.aio.secure_channel(self.target, self.credentials, options, self.compression)

    def __repr__(self) -> str:
        shown = [f"{self.target!r}", f"secure={self.credentials is not None}"]
        for name in (
            "max_send_message_length",
            "max_receive_message_length",
            "keepalive_time",
            "keepalive_timeout",
            "compression",
            "ssl_target_name_override",
        ):
            value = getattr(self, name)
            if value is not None:
                shown.append(f"{name}={value!r}")
        if self.extra_options:
            shown.append(f"extra_options={self.extra_options!r}")
        return f"ChannelSettings({', '.join(shown)})"


def as_options(options: Sequence[ChannelOption]) -> tuple[ChannelOption, ...]:
    return tuple((str(name), value) for name, value in options)
