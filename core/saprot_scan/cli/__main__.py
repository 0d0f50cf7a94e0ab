"""``python -m saprot_scan.cli``: the command line (same as ``saprot-scan``)."""
import sys

from saprot_scan.cli import main

sys.exit(main())
