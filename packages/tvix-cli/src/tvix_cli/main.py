"""Entry point of the ``tvix`` command.

``tvix --version`` answers without loading anything; well-formed ``eval``/``instantiate``
command lines go straight to the runner (:mod:`tvix_cli.cmdline`); everything else builds the
typer application (:mod:`tvix_cli.app`). The store, lmdb and grpc load only when used.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

__version__ = "0.1.0"


def main(argv: list[str] | None = None) -> None:
    """Run the ``tvix`` command with ``argv`` (default: ``sys.argv[1:]``, and then this is the
    whole process: it ends as soon as the command is done, see :func:`_exit_now`)."""
    one_shot = argv is None
    args = sys.argv[1:] if argv is None else argv
    if args in (["--version"], ["-V"]):
        sys.stdout.write(f"tvix {__version__}\n")
        sys.exit(0)
    from tvix_cli.cmdline import parse_fast

    fast = parse_fast(args)
    if fast is not None:
        from tvix_cli.cmdline import to_request
        from tvix_cli.runner import run_request

        try:
            code = run_request(to_request(fast), one_shot=one_shot)
        except KeyboardInterrupt:
            sys.stderr.write("error: interrupted by the user\n")
            code = 130
        if one_shot:
            _exit_now(code)
        sys.exit(code)
    from tvix_cli.app import run

    run(args)


def _exit_now(code: int) -> NoReturn:
    """End the process without tearing down its heap.

    Freeing a big evaluation's millions of objects one by one takes longer than the
    evaluation did (seconds for a 40,000-line file). Everything the command promised is done
    by now: output is written, ``.drv`` files are committed to the store.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: the reader is gone
            code = code or 1
    os._exit(code)


if __name__ == "__main__":
    main()
