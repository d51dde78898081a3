"""Entry point of ``python -m tvix_serde``."""

import sys

from tvix_serde.cli import main

sys.exit(main())
