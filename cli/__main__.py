"""`python -m cli`: the `telemart` command."""

import sys

from cli.main import main

sys.exit(main())
