"""`python -m server.cli`: the same as the `trendsearch` script."""

import sys

from server.cli import main

sys.exit(main())
