"""Testing support: a fake client, a scripted fake server, an in-process server, pytest fixtures.

Import it explicitly (``from protoreq.testing import FakeGrpcClient``);
``import protoreq`` never loads it. The pytest fixtures register themselves
through the ``pytest11`` entry point: ``fake_grpc_client``,
``fake_grpc_server`` and ``grpc_server``.
"""

from protoreq.testing.failure import Failure
from protoreq.testing.fake import FakeGrpcClient, UnscriptedCallError
from protoreq.testing.records import ReceivedCall, SentCall
from protoreq.testing.script import ScriptError
from protoreq.testing.scripted import FakeGrpcServer
from protoreq.testing.server import Service, serve, serve_async

__all__ = [
    "Failure",
    "FakeGrpcClient",
    "FakeGrpcServer",
    "ReceivedCall",
    "ScriptError",
    "SentCall",
    "Service",
    "UnscriptedCallError",
    "serve",
    "serve_async",
]
