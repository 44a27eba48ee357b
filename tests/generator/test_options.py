"""Plugin options: strict parsing, clear errors."""

from __future__ import annotations

import pytest

from protoreq_generator.options import GeneratorOptions, OptionsError, parse_options


@pytest.mark.parametrize(
    ("parameter", "expected"),
    [
        ("", GeneratorOptions(facade=True)),
        ("facade=false", GeneratorOptions(facade=False)),
        (" facade = off , ", GeneratorOptions(facade=False)),
        ("facade", GeneratorOptions(facade=True)),
        ("facade=no,facade=yes", GeneratorOptions(facade=True)),
    ],
)
def test_parse(parameter: str, expected: GeneratorOptions) -> None:
    assert parse_options(parameter) == expected


def test_unknown_option_names_the_known_ones() -> None:
    with pytest.raises(OptionsError, match=r"unknown option 'facad'.*known options: facade="):
        parse_options("facad=false")


def test_bad_value() -> None:
    with pytest.raises(OptionsError, match="takes true or false"):
        parse_options("facade=maybe")


def test_pb2_module_maps_a_proto_to_an_installed_module() -> None:
    options = parse_options(
        "pb2_module=grpc/health/v1/health.proto:grpc_health.v1.health_pb2,facade=true"
    )
    assert options.pb2_modules == (("grpc/health/v1/health.proto", "grpc_health.v1.health_pb2"),)
    assert options.pb2_module("grpc/health/v1/health.proto") == "grpc_health.v1.health_pb2"
    assert options.pb2_module("a/b/user-v1.proto") == "a.b.user_v1_pb2"


@pytest.mark.parametrize("value", ["", "x.proto", "x.proto:", ":m_pb2", "x.proto:not a.module"])
def test_pb2_module_refuses_malformed_values(value: str) -> None:
    with pytest.raises(OptionsError, match="takes PROTO:MODULE"):
        parse_options(f"pb2_module={value}")
