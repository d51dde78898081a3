"""Entry point of the ``tvix`` command.

``tvix --version`` answers without loading anything; well-formed ``eval``/``instantiate``
command lines go straight to the runner (:mod:`tvix_cli.cmdline`); everything else builds the
typer application (:mod:`tvix_cli.app`). The store, lmdb and grpc load only when used.
"""

from __future__ import annotations

import sys

__version__ = "0.1.0"


def main(argv: list[str] | None = None) -> None:
    """Run the ``tvix`` command with ``argv`` (default: ``sys.argv[1:]``)."""
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
            code = run_request(to_request(fast))
        except KeyboardInterrupt:
            sys.stderr.write("error: interrupted by the user\n")
            code = 130
        sys.exit(code)
    from tvix_cli.app import run

    run(args)


if __name__ == "__main__":
    main()
