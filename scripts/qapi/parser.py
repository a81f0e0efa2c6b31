# SPDX-License-Identifier: GPL-2.0-or-later
"""Reader for the schema dialect: JSON objects with single-quoted
strings, '#' comments and '##' documentation blocks."""

import os

from .error import QAPIError, SourceInfo
from .doc import parse_doc


class Expression:
    def __init__(self, expr, info, doc):
        self.expr = expr
        self.info = info
        self.doc = doc


class SchemaReader:
    """Reads one file; 'include' directives recurse into new readers."""

    def __init__(self, fname, previously_included, parent_info=None):
        self.fname = fname
        self.parent_info = parent_info
        try:
            with open(fname, encoding='utf-8') as fobj:
                self.src = fobj.read()
        except OSError as exc:
            raise QAPIError(parent_info, "can't read %s file '%s': %s"
                            % ('include' if parent_info else 'schema',
                               fname, exc.strerror)) from exc
        if self.src == '' or self.src[-1] != '\n':
            self.src += '\n'
        self.pos = 0
        self.line = 1
        self.included = previously_included
        self.included.add(os.path.abspath(fname))
        self.exprs = []       # Expression, in order, includes expanded
        self.free_docs = []   # (doc, position in self.exprs)
        self._run()

    # --- lexer -------------------------------------------------------

    def _info(self, line=None):
        return SourceInfo(self.fname, line or self.line, self.parent_info)

    def _error(self, msg):
        raise QAPIError(self._info(), msg)

    def _skip_space(self, allow_doc):
        """Skip blanks and comments.  Returns doc lines when a '##' block
        starts here and @allow_doc, else None."""
        while self.pos < len(self.src):
            char = self.src[self.pos]
            if char == '\n':
                self.line += 1
                self.pos += 1
            elif char in ' \t\r':
                self.pos += 1
            elif char == '#':
                end = self.src.index('\n', self.pos)
                text = self.src[self.pos:end]
                if text.rstrip() == '##':
                    if not allow_doc:
                        self._error('documentation comment not allowed here')
                    return self._read_doc()
                self.pos = end
            else:
                return None
        return None

    def _read_doc(self):
        start = self.line
        end = self.src.index('\n', self.pos)
        self.pos = end + 1
        self.line += 1
        lines = []
        while True:
            if self.pos >= len(self.src):
                raise QAPIError(self._info(start),
                                "documentation comment must end with '##'")
            end = self.src.index('\n', self.pos)
            text = self.src[self.pos:end].strip()
            if not text.startswith('#'):
                self._error("documentation comment must end with '##'")
            self.pos = end + 1
            self.line += 1
            if text == '##':
                return (start, lines)
            if text[1:2] not in ('', ' '):
                raise QAPIError(self._info(self.line - 1),
                                "missing space after #")
            lines.append((self.line - 1, text[2:].rstrip()))

    def _read_string(self):
        self.pos += 1
        out = ''
        while True:
            char = self.src[self.pos]
            self.pos += 1
            if char == "'":
                return out
            if char == '\n':
                self._error('missing terminating "\'"')
            if char == '\\':
                esc = self.src[self.pos]
                self.pos += 1
                if esc not in "\\/'\"":
                    self._error("unknown escape \\%s" % esc)
                char = esc
            elif ord(char) < 32 or ord(char) >= 127:
                self._error('funny character in string')
            out += char

    def _value(self):
        self._skip_space(False)
        if self.pos >= len(self.src):
            self._error('expected value, got end of file')
        char = self.src[self.pos]
        if char == '{':
            return self._object()
        if char == '[':
            return self._array()
        if char == "'":
            return self._read_string()
        for word, value in (('true', True), ('false', False)):
            if self.src.startswith(word, self.pos):
                self.pos += len(word)
                return value
        if char == '"':
            self._error("strings must be single-quoted")
        self._error("stray '%s'" % char)
        return None

    def _expect(self, chars):
        self._skip_space(False)
        if self.pos >= len(self.src):
            self._error("expected %s, got end of file"
                        % ' or '.join("'%s'" % c for c in chars))
        char = self.src[self.pos]
        if char not in chars:
            self._error("expected %s"
                        % ' or '.join("'%s'" % c for c in chars))
        self.pos += 1
        return char

    def _object(self):
        self.pos += 1
        obj = {}
        self._skip_space(False)
        if self.src[self.pos:self.pos + 1] == '}':
            self.pos += 1
            return obj
        while True:
            self._skip_space(False)
            if self.src[self.pos:self.pos + 1] == '"':
                self._error('strings must be single-quoted')
            if self.src[self.pos:self.pos + 1] != "'":
                self._error('expected string')
            key = self._read_string()
            if key in obj:
                self._error("duplicate key '%s'" % key)
            self._expect(':')
            obj[key] = self._value()
            if self._expect(',}') == '}':
                return obj

    def _array(self):
        self.pos += 1
        arr = []
        self._skip_space(False)
        if self.src[self.pos:self.pos + 1] == ']':
            self.pos += 1
            return arr
        while True:
            arr.append(self._value())
            if self._expect(',]') == ']':
                return arr

    # --- top level ---------------------------------------------------

    def _run(self):
        pending_doc = None
        while True:
            doc_lines = self._skip_space(True)
            if doc_lines is not None:
                start, lines = doc_lines
                doc = parse_doc(self._info(start), lines)
                if pending_doc:
                    self._doc_not_followed(pending_doc)
                if doc.symbol:
                    pending_doc = doc
                else:
                    self.free_docs.append((doc, len(self.exprs)))
                continue
            if self.pos >= len(self.src):
                break
            line = self.line
            if self.src[self.pos] != '{':
                self._error("expected '{'")
            expr = self._object()
            info = self._info(line)
            if 'include' in expr:
                if pending_doc:
                    self._doc_not_followed(pending_doc)
                self._include(expr, info)
                continue
            if 'pragma' in expr:
                if len(expr) != 1 or not isinstance(expr['pragma'], dict):
                    raise QAPIError(info, "invalid 'pragma' directive")
                continue
            self.exprs.append(Expression(expr, info, pending_doc))
            pending_doc = None
        if pending_doc:
            self._doc_not_followed(pending_doc)

    @staticmethod
    def _doc_not_followed(doc):
        raise QAPIError(doc.info, "documentation for '%s' is not followed "
                        "by the definition" % doc.symbol)

    def _include(self, expr, info):
        if len(expr) != 1:
            raise QAPIError(info, "invalid 'include' directive")
        name = expr['include']
        if not isinstance(name, str):
            raise QAPIError(info, "value of 'include' must be a string")
        path = os.path.join(os.path.dirname(self.fname), name)
        if os.path.abspath(path) == os.path.abspath(self.fname):
            raise QAPIError(info, "inclusion loop for %s" % name)
        parent = info.parent
        while parent:
            if os.path.abspath(parent.fname) == os.path.abspath(path):
                raise QAPIError(info, "inclusion loop for %s" % name)
            parent = parent.parent
        if os.path.abspath(path) in self.included:
            return
        sub = SchemaReader(path, self.included, info)
        for doc, pos in sub.free_docs:
            self.free_docs.append((doc, len(self.exprs) + pos))
        self.exprs.extend(sub.exprs)
