"""``python -m tvix_castore``: the ``tvix-castore`` command."""

from tvix_castore.cli import main

main()
