# SPDX-License-Identifier: GPL-2.0-or-later
"""Command line of qapi-gen.py."""

import argparse
import sys

from .commands import gen_commands
from .error import QAPIError
from .events import gen_events
from .introspect import gen_introspect
from .qmpdoc import gen_doc
from .schema import Schema
from .types import gen_builtin_types, gen_types
from .visit import gen_builtin_visit, gen_visit


def main(argv=None):
    parser = argparse.ArgumentParser(
        description='Generate C code and documentation from a QAPI schema')
    parser.add_argument('-o', '--output-dir', default='.',
                        help='write the generated files to this directory')
    parser.add_argument('-p', '--prefix', default='',
                        help='prefix for the generated file and symbol '
                        'names; a prefixed schema uses the built-in types '
                        'of the main one')
    parser.add_argument('-u', '--unmask-non-abi-names', action='store_true',
                        dest='unmask',
                        help='keep type names in the introspection data')
    parser.add_argument('--doc', metavar='FILE.md',
                        help='also write the QMP reference in Markdown')
    parser.add_argument('--doc-only', action='store_true',
                        help='only check the schema and write --doc')
    parser.add_argument('schema', help='the main schema file')
    opts = parser.parse_args(argv)
    if not all(c.isalnum() or c in '_-' for c in opts.prefix):
        print("qapi-gen: funny character in prefix '%s'" % opts.prefix,
              file=sys.stderr)
        return 1
    try:
        schema = Schema(opts.schema)
    except QAPIError as err:
        print(err, file=sys.stderr)
        return 1
    files = []
    if opts.doc_only:
        pass
    elif not opts.prefix:
        files += gen_builtin_types(schema, opts)
        files += gen_builtin_visit(schema, opts)
    for gen in (gen_types, gen_visit, gen_commands, gen_events,
                gen_introspect):
        if not opts.doc_only:
            files += gen(schema, opts)
    for cfile in files:
        cfile.write(opts.output_dir)
    if opts.doc:
        gen_doc(schema, opts.doc)
    return 0
