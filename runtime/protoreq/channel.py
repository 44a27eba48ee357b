"""Channel settings and channel creation, shared by the sync and async paths.

grpcio takes channel options as untyped ``(name, value)`` pairs; the client
takes them as typed keyword arguments and turns them into pairs here, once.

Every channel protoreq opens has its own connections: grpcio otherwise pools
subchannels process-wide, so two channels (or two clients) to one target with
equal options would silently share one TCP connection, and ``pool_size`` or a
hand-written pool of clients would add nothing. Sharing is explicit instead
(``GrpcClient(..., share_channels=True)``, see :mod:`protoreq.sharing`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import grpc

from protoreq.credentials import TlsConfig

ChannelOption = tuple[str, str | int]

LOAD_BALANCING_POLICIES: Final = frozenset({"pick_first", "round_robin"})
"""Policies grpcio ships; others (``weighted_round_robin``, xDS ones) pass through ``options``."""

GRPC_RETRIES_OPTION: Final = "grpc.enable_retries"
"""grpcio's own retries (service-config ``retryPolicy``): off on protoreq's channels unless set."""

_RESERVED_OPTIONS: Final = {
    "grpc.use_local_subchannel_pool": "protoreq sets it so each channel owns its connections",
}


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    """Everything that decides how a channel is opened; equal settings can share channels.

    Settings compare by value (a :class:`TlsConfig` too), except raw grpcio
    ``credentials``, which compare by identity: pass the same object to share.
    """

    target: str
    credentials: grpc.ChannelCredentials | None = None
    tls: TlsConfig | None = None
    max_send_message_length: int | None = None
    max_receive_message_length: int | None = None
    keepalive_time: float | None = None
    keepalive_timeout: float | None = None
    keepalive_permit_without_calls: bool = False
    load_balancing: str | None = None
    ssl_target_name_override: str | None = None
    extra_options: tuple[ChannelOption, ...] = field(default=())
    interceptors: tuple[Any, ...] = field(default=())
    """grpcio's own client interceptors for sync channels (compared by identity)."""
    aio_interceptors: tuple[Any, ...] = field(default=())
    """``grpc.aio`` client interceptors for async channels."""

    def __post_init__(self) -> None:
        if self.tls is not None and self.credentials is not None:
            raise ValueError("pass either tls= (a TlsConfig) or credentials=, not both")
        override = self.tls.server_name_override if self.tls is not None else None
        if override and self.ssl_target_name_override not in (None, override):
            raise ValueError(
                "ssl_target_name_override and TlsConfig.server_name_override disagree: "
                f"{self.ssl_target_name_override!r} vs {override!r}"
            )
        if self.load_balancing is not None and self.load_balancing not in LOAD_BALANCING_POLICIES:
            raise ValueError(
                f"unknown load_balancing {self.load_balancing!r}: use one of "
                f"{sorted(LOAD_BALANCING_POLICIES)}, or a service config in options="
            )
        names = {name for name, _ in self.extra_options}
        for name, reason in _RESERVED_OPTIONS.items():
            if name in names:
                raise ValueError(f"channel option {name!r} cannot be set: {reason}")
        if self.load_balancing is not None and "grpc.service_config" in names:
            raise ValueError("load_balancing= and a grpc.service_config option both set the policy")
        for name, value in (
            ("max_send_message_length", self.max_send_message_length),
            ("max_receive_message_length", self.max_receive_message_length),
            ("keepalive_time", self.keepalive_time),
            ("keepalive_timeout", self.keepalive_timeout),
        ):
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")

    @property
    def grpc_retries(self) -> bool:
        """Whether grpcio's own retry layer is on: only when ``grpc.enable_retries`` is set to 1.

        protoreq retries itself (:mod:`protoreq.retry`); a ``retryPolicy`` in a
        service config would otherwise repeat every protoreq attempt again,
        unseen by ``attempts()``. One layer is in charge, protoreq's by default.
        """
        return any(
            name == GRPC_RETRIES_OPTION and bool(value) for name, value in self.extra_options
        )

    @property
    def secure(self) -> bool:
        return self.tls is not None or self.credentials is not None

    def channel_credentials(self) -> grpc.ChannelCredentials | None:
        if self.tls is not None:
            return self.tls.channel_credentials()
        return self.credentials

    def grpc_options(self) -> list[ChannelOption]:
        """grpcio channel arguments, typed settings first, then the raw ``extra_options``."""
        options: list[ChannelOption] = [("grpc.use_local_subchannel_pool", 1)]
        if not any(name == GRPC_RETRIES_OPTION for name, _ in self.extra_options):
            options.append((GRPC_RETRIES_OPTION, 0))  # one retry layer: see grpc_retries
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
        override = self.ssl_target_name_override or (
            self.tls.server_name_override if self.tls is not None else None
        )
        if override:
            options.append(("grpc.ssl_target_name_override", override))
        if self.load_balancing is not None:
            config: dict[str, object] = {"loadBalancingConfig": [{self.load_balancing: {}}]}
            options.append(("grpc.service_config", json.dumps(config, separators=(",", ":"))))
        options.extend(self.extra_options)
        return options

    def open_sync(self) -> grpc.Channel:
        credentials = self.channel_credentials()
        if credentials is None:
            channel = grpc.insecure_channel(self.target, self.grpc_options())
        else:
            channel = grpc.secure_channel(self.target, credentials, self.grpc_options())
        if self.interceptors:
            return grpc.intercept_channel(channel, *self.interceptors)
        return channel

    def open_async(self) -> grpc.aio.Channel:
        credentials = self.channel_credentials()
        interceptors = list(self.aio_interceptors) or None
        if credentials is None:
            return grpc.aio.insecure_channel(
                self.target, self.grpc_options(), interceptors=interceptors
            )
        return grpc.aio.secure_channel(
            self.target, credentials, self.grpc_options(), interceptors=interceptors
        )

    def __repr__(self) -> str:
        shown = [f"{self.target!r}"]
        if self.tls is not None:
            shown.append(f"tls={self.tls!r}")
        else:
            shown.append(f"secure={self.credentials is not None}")
        for name in (
            "max_send_message_length",
            "max_receive_message_length",
            "keepalive_time",
            "keepalive_timeout",
            "load_balancing",
            "ssl_target_name_override",
        ):
            value = getattr(self, name)
            if value is not None:
                shown.append(f"{name}={value!r}")
        if self.keepalive_permit_without_calls:
            shown.append("keepalive_permit_without_calls=True")
        if self.extra_options:
            shown.append(f"extra_options={self.extra_options!r}")
        return f"ChannelSettings({', '.join(shown)})"


def as_options(options: Sequence[ChannelOption]) -> tuple[ChannelOption, ...]:
    return tuple((str(name), value) for name, value in options)
