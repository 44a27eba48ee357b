"""``python -m examples``: regenerate ``examples/generated`` from ``protos/``, then run the demo.

The demo is imported only after generation, because it imports the generated
modules.
"""

from __future__ import annotations

import sys

from examples.generate import regenerate


def main() -> int:
    regenerate()
    from examples.demo import run  # noqa: PLC0415  # imports the code regenerate() just wrote

    return run()


if __name__ == "__main__":
    sys.exit(main())
