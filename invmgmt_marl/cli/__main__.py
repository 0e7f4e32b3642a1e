"""``python -m invmgmt_marl.cli``: the same as ``invmgmt-marl``."""

import sys

from invmgmt_marl.cli import main

sys.exit(main())
