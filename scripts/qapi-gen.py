#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Generate the QAPI C code (types, visitors, commands, events,
introspection) and the QMP reference from a schema."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from qapi.main import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
