# SPDX-License-Identifier: GPL-2.0-or-later
"""Parse and validate trace-events files, generate trace headers and tables.

A trace-events file has one event per line:

    [disable] name(type arg, type arg) "printf format" [PRIx64 "more"]

Lines starting with '#' are comments (by convention "# folder/file.c"
headers group the events of one source file); blank lines are ignored.
"""

BACKENDS = ('log', 'dtrace')


class TraceError(Exception):
    """A problem in a trace-events file, reported as FILE:LINE: message."""

    def __init__(self, path, lineno, message):
        where = f'{path}:{lineno}' if lineno else path
        super().__init__(f'{where}: {message}')
        self.path = path
        self.lineno = lineno
        self.message = message
