"""The entry point of `python3 -m pigkit.audit` and `pig-audit`; the code lives in pigkit/evaluation/audit.py.

Memorization audit: each generated pair's nearest training pair against real held-out pairs'.
"""

import sys

from pigkit.evaluation.audit import main

if __name__ == "__main__":
    sys.exit(main())
