# SPDX-License-Identifier: GPL-2.0-or-later
"""QAPI schema compiler: parses the schema and generates C and docs."""
