"""``user.UserService`` (always answering) in a process of its own, for restart tests.

``python -m tests.resilience.user_server PORT`` serves on ``127.0.0.1:PORT``
(0: any free port), prints the port as the first line of stdout once it
listens, then serves until killed or until ``LIFETIME`` seconds have passed
(so a forgotten process ends by itself).
"""

from __future__ import annotations

import sys
from typing import Final

from tests.resilience.faults import FaultyUserService, start_server

LIFETIME: Final = 120.0


def main() -> None:
    server, port = start_server(FaultyUserService().handlers(), port=int(sys.argv[1]))
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    server.wait_for_termination(timeout=LIFETIME)


if __name__ == "__main__":
    main()
