"""``ChatService`` in a process of its own, for tests that SIGKILL the server mid-stream.

Prints its port as the first line of stdout, then serves until killed or
until ``LIFETIME`` seconds have passed (so a forgotten process ends by itself).
"""

from __future__ import annotations

import sys
from concurrent import futures
from typing import Final

import grpc

from tests.streaming.chat_service import ChatService

LIFETIME: Final = 120.0


def main() -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((ChatService().handler(),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    server.wait_for_termination(timeout=LIFETIME)


if __name__ == "__main__":
    main()
