"""``python -m protoreq_generator``: the ``protoreq`` CLI without its console script."""

from protoreq_generator.cli import main

main()
