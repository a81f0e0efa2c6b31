# SPDX-License-Identifier: GPL-2.0-or-later
"""Schema errors, reported as "FILE:LINE: message"."""


class SourceInfo:
    """Where a definition (or part of it) comes from."""

    def __init__(self, fname, line, parent=None):
        self.fname = fname
        self.line = line
        self.parent = parent      # SourceInfo of the 'include' directive
        self.defn_meta = None
        self.defn_name = None

    def at(self, line):
        info = SourceInfo(self.fname, line, self.parent)
        info.defn_meta = self.defn_meta
        info.defn_name = self.defn_name
        return info

    def set_defn(self, meta, name):
        self.defn_meta = meta
        self.defn_name = name

    def include_path(self):
        text = ''
        parent = self.parent
        while parent:
            text = 'In file included from %s:%d:\n' % (parent.fname,
                                                      parent.line) + text
            parent = parent.parent
        return text

    def context(self):
        if self.defn_name:
            return '%s: In %s \'%s\':\n' % (self.fname, self.defn_meta,
                                           self.defn_name)
        return ''

    def __str__(self):
        return '%s:%d' % (self.fname, self.line)


class QAPIError(Exception):
    def __init__(self, info, msg):
        super().__init__(msg)
        self.info = info
        self.msg = msg

    def __str__(self):
        if self.info is None:
            return 'qapi-gen: %s' % self.msg
        return '%s%s%s: %s' % (self.info.include_path(),
                               self.info.context(), self.info, self.msg)
