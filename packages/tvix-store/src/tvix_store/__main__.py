"""``python -m tvix_store`` runs the tvix-store command."""

from tvix_store.cli import main

main()
