"""`python -m eicontract ...` is `eicontract ...`."""

import sys

from eicontract.cli import main

sys.exit(main())
