#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Generate trace.h / trace.c from a trace-events file.

usage: tracetool.py --backends log,dtrace [--group main]
                    [--header OUT.h] [--source OUT.c] TRACE-EVENTS

Without --header and --source the file is only checked.  Problems are
reported as "FILE:LINE: message" on stderr with exit status 1.
"""

import argparse
import os
import re
import sys

from tracetool import BACKENDS, TraceError
from tracetool.events import read_events
from tracetool import generate


def parse_backends(text):
    backends = [b for b in text.split(',') if b] if text else []
    for b in backends:
        if b not in BACKENDS:
            raise argparse.ArgumentTypeError(
                f"unknown backend '{b}' (known: {', '.join(BACKENDS)})")
    return backends


def parse_group(text):
    if not re.fullmatch(r'[A-Za-z_][A-Za-z0-9_]*', text):
        raise argparse.ArgumentTypeError(f"invalid group name '{text}'")
    return text


def write_file(path, text):
    # Write through a temporary file so a failed run never leaves a
    # truncated output that the build would take as up to date.
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--backends', type=parse_backends, default=[],
                    help='comma-separated list of: ' + ', '.join(BACKENDS))
    ap.add_argument('--group', type=parse_group, default='main',
                    help='name of the event group (C identifier)')
    ap.add_argument('--header', help='trace header to write')
    ap.add_argument('--source', help='event table to write')
    ap.add_argument('input', help='trace-events file')
    args = ap.parse_args(argv)

    try:
        events = read_events(args.input)
    except TraceError as e:
        print(e, file=sys.stderr)
        return 1
    src = os.path.basename(args.input)
    try:
        if args.header:
            write_file(args.header, generate.header(
                events, args.backends, src, args.header))
        if args.source:
            header_name = os.path.basename(args.header or 'trace.h')
            write_file(args.source, generate.source(
                events, args.backends, src, header_name, args.group))
    except OSError as e:
        print(f'tracetool: {e}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
