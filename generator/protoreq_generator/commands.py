"""The commands that talk to a server: ``list``, ``describe``, ``call`` and ``health``.

Each sends through protoreq's ``GrpcClient``, so channel settings, logging and
trace ids are the application's. Local problems (bad JSON, unknown names, no
reflection) are one line on stderr and exit code 1; RPC outcomes decide the
exit code by status class (see :mod:`protoreq_generator.exit_codes`).
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import click

from protoreq import NO_RETRY, RequestContext
from protoreq.context import new_trace_id
from protoreq_generator import exit_codes
from protoreq_generator.calling import CallSettings, Output, RequestJsonError, call, error_document
from protoreq_generator.connection import Connection, connection_options
from protoreq_generator.describing import describe
from protoreq_generator.dynamic import rpc_method
from protoreq_generator.protoc import ProtocError, ProtocFailedError
from protoreq_generator.reflection import ReflectionError
from protoreq_generator.schema import SchemaError, service_of, symbol_name

SERVER_COMMANDS_HELP = """\
It also talks to running servers, grpcurl-style, through protoreq's GrpcClient:
list, describe, call and health read the schema from server reflection (or
--proto / --protoset), and generate --from-server writes the same modules from
a server's descriptors.

\b
  protoreq list     127.0.0.1:50051 [SERVICE]
  protoreq describe 127.0.0.1:50051 chat.ChatMessage
  protoreq call     127.0.0.1:50051 chat.ChatService/Send -d '{"text": "hi"}'
  protoreq health   127.0.0.1:50051
  protoreq generate --from-server 127.0.0.1:50051 -o src/gen"""

EXIT_CODES_HELP = """\b
Exit codes:
  0  OK (health: SERVING)
  1  local error: bad JSON, unknown service or method, unreadable file, no reflection
  2  usage error
  3  INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE
  4  NOT_FOUND, ALREADY_EXISTS
  5  UNAUTHENTICATED, PERMISSION_DENIED
  6  UNAVAILABLE, RESOURCE_EXHAUSTED, ABORTED
  7  DEADLINE_EXCEEDED, CANCELLED
  8  UNIMPLEMENTED
  9  UNKNOWN, INTERNAL, DATA_LOSS
  10 health: NOT_SERVING
  11 health: SERVICE_UNKNOWN or UNKNOWN"""


def _fail(message: str) -> NoReturn:
    click.echo(f"protoreq: {message}", err=True)
    sys.exit(exit_codes.LOCAL_ERROR)


@contextlib.contextmanager
def _local_errors() -> Iterator[None]:
    """Turn the CLI's own failures into one line and exit code 1."""
    try:
        yield
    except (SchemaError, ReflectionError, RequestJsonError, ProtocError) as error:
        _fail(str(error))
    except ProtocFailedError as failed:
        sys.exit(failed.code)


def _connection(options: dict[str, Any]) -> Connection:
    return Connection(
        target=options["target"],
        protos=options["protos"],
        includes=options["includes"],
        protoset=options["protoset"],
        plaintext=options["plaintext"],
        cacert=options["cacert"],
        cert=options["cert"],
        key=options["key"],
        servername=options["servername"],
        insecure=options["insecure"],
        authority=options["authority"],
        headers=options["headers"],
        timeout=options["timeout"],
    )


@click.command(name="list", epilog=EXIT_CODES_HELP)
@connection_options
@click.argument("service", required=False)
def list_command(service: str | None, **options: Any) -> None:
    """List TARGET's services, or SERVICE's methods with their kinds.

    The schema comes from the server's reflection service (v1, else v1alpha)
    unless --proto or --protoset gives it.

    \b
    Examples:
      protoreq list 127.0.0.1:50051
      protoreq list 127.0.0.1:50051 chat.ChatService
    """
    connection = _connection(options)
    with _local_errors(), connection.client(retry=None) as client:
        schema = connection.schema(client, (service,) if service else ())
        if service is None:
            for name in schema.services:
                click.echo(name)
            return
        for method in schema.service(service).methods:
            kind = rpc_method(method).cardinality.value
            click.echo(f"{service}/{method.name}  {kind}")


@click.command(name="describe", epilog=EXIT_CODES_HELP)
@connection_options
@click.argument("symbol")
def describe_command(symbol: str, **options: Any) -> None:
    """Print SYMBOL (a service, method, message or enum) in .proto syntax.

    Methods are SERVICE.METHOD or SERVICE/METHOD; names are fully qualified.

    \b
    Examples:
      protoreq describe 127.0.0.1:50051 chat.ChatService
      protoreq describe 127.0.0.1:50051 chat.ChatMessage
    """
    connection = _connection(options)
    with _local_errors(), connection.client(retry=None) as client:
        schema = connection.schema(client, (symbol_name(symbol),))
        click.echo(describe(schema.symbol(symbol)))


def _body(data: str | None) -> str | Any:
    """-d's text: literal JSON, @FILE, or @- (stdin, read line by line as the call goes)."""
    if data is None:
        return ""
    if data == "@-":
        return sys.stdin
    if data.startswith("@"):
        try:
            return Path(data[1:]).read_text(encoding="utf-8")
        except OSError as error:
            _fail(f"cannot read {data[1:]}: {error.strerror}")
    return data


@click.command(name="call", epilog=EXIT_CODES_HELP)
@connection_options
@click.argument("method", metavar="SERVICE/METHOD")
@click.option(
    "-d",
    "--data",
    metavar="JSON|@FILE|@-",
    help="The request as JSON (protobuf's mapping); for client streams and bidi, several "
    "JSON objects one after the other. @FILE reads a file, @- stdin. Default: {}.",
)
@click.option("--emit-defaults", is_flag=True, help="Print fields that hold their default too.")
@click.option(
    "--retry", is_flag=True, help="Retry failed attempts (off by default, even for safe RPCs)."
)
@click.option("--trace-id", metavar="ID", help="The x-trace-id the call carries (default: new).")
@click.option(
    "-v", "--verbose", is_flag=True, help="Print metadata (secrets redacted) and timing on stderr."
)
def call_command(
    *,
    method: str,
    data: str | None,
    emit_defaults: bool,
    retry: bool,
    trace_id: str | None,
    verbose: bool,
    **options: Any,
) -> None:
    """Call METHOD (SERVICE/METHOD or SERVICE.METHOD) on TARGET with the request in -d.

    Answers are printed as JSON, one document per message for server streams
    and bidi (as they arrive). A failure prints a JSON error on stderr with the
    status code, details and the decoded google.rpc.Status details.

    \b
    Examples:
      protoreq call 127.0.0.1:50051 chat.ChatService/Send -d '{"text": "hi"}'
      protoreq call 127.0.0.1:50051 chat.ChatService/Upload -d '{"seq": 1} {"seq": 2}'
      echo '{"text": "hi"}' | protoreq call 127.0.0.1:50051 chat.ChatService/Converse -d @-
    """
    connection = _connection(options)
    body = _body(data)
    settings = CallSettings(connection.metadata(), connection.timeout, retry)
    with (
        _local_errors(),
        connection.client(retry=None, retry_throttle=None) as client,
        RequestContext.scope(trace_id=trace_id or new_trace_id()),  # one id for -v and the call
    ):
        schema = connection.schema(client, (service_of(method),))
        descriptor = schema.method(method)
        output = Output(
            out=sys.stdout,
            err=sys.stderr,
            pool=schema.pool,
            emit_defaults=emit_defaults,
            verbose=verbose,
        )
        code = call(client, descriptor, body, settings, output)
    sys.exit(code)


_HEALTH_CODES = {
    "SERVING": exit_codes.OK,
    "NOT_SERVING": exit_codes.NOT_SERVING,
}


@click.command(name="health", epilog=EXIT_CODES_HELP)
@connection_options
@click.argument("service", default="")
def health_command(service: str, **options: Any) -> None:
    """Ask TARGET's grpc.health.v1 service whether SERVICE (default: the server) is serving.

    Prints the status (SERVING, NOT_SERVING, ...) and exits 0 only for SERVING.
    Needs no reflection.

    \b
    Examples:
      protoreq health 127.0.0.1:50051
      protoreq health 127.0.0.1:50051 chat.ChatService
    """
    from protoreq.health import HealthCheckResponse  # noqa: PLC0415  # only health needs it

    connection = _connection(options)
    with connection.client(retry=NO_RETRY) as client:
        response = client.check_health(service)
        if not response.is_success():
            click.echo(json.dumps(error_document(response), indent=2), err=True)
            sys.exit(exit_codes.for_status(response.status_code()))
        name = HealthCheckResponse.ServingStatus.Name(response.message().status)
    click.echo(name)
    sys.exit(_HEALTH_CODES.get(name, exit_codes.HEALTH_UNKNOWN))


def server_commands() -> list[click.Command]:
    """The commands ``cli.py`` registers beside ``generate`` and ``check``."""
    return [list_command, describe_command, call_command, health_command]


def from_server_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``generate``'s --from-server and --service options."""
    command = click.option(
        "--service",
        "services",
        multiple=True,
        metavar="NAME",
        help="With --from-server: generate only this service's files (repeatable; default: "
        "every service but reflection and health).",
    )(command)
    return click.option(
        "--from-server",
        metavar="TARGET",
        help="Generate from the descriptors TARGET's reflection service sends instead of PATHS "
        "(plaintext to loopback, TLS elsewhere). Comments are not sent, so docstrings from "
        "them are missing; the rest is identical to generating from the same .proto files.",
    )(command)
