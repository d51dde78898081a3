"""``python -m tvix_cli``: the ``tvix`` command."""

from tvix_cli.main import main

main()
