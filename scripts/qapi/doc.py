# SPDX-License-Identifier: GPL-2.0-or-later
"""Documentation comments: parsing and checking against definitions."""

import re

from .error import QAPIError

SECTION_TAGS = ('Returns', 'Since', 'Example', 'Examples', 'Note', 'Notes',
                'TODO', 'Errors')
SECTION_RE = re.compile(r'(%s):(\s.*)?$' % '|'.join(SECTION_TAGS))
MEMBER_RE = re.compile(r'@([^:\s]+):(\s.*)?$')


class Section:
    def __init__(self, tag, info):
        self.tag = tag        # None for untagged text after member docs
        self.info = info
        self.lines = []

    @property
    def text(self):
        return '\n'.join(self.lines).strip('\n')


class QAPIDoc:
    def __init__(self, info):
        self.info = info
        self.symbol = None
        self.body = Section(None, info)
        self.args = {}        # member name -> Section
        self.features = {}    # feature name -> Section
        self.sections = []    # tagged sections, in order

    def check(self, members, features):
        """Complain about documentation of things that do not exist."""
        for kind, documented, real in (('member', self.args, members),
                                       ('feature', self.features,
                                        features)):
            missing = [name for name in documented if name not in real]
            if missing:
                raise QAPIError(documented[missing[0]].info,
                                "documented %s '%s' does not exist"
                                % (kind, missing[0]))


def _add_arg(table, name, info, kind):
    if name in table:
        raise QAPIError(info, "'%s' %s duplicated" % (name, kind))
    table[name] = Section(name, info)
    return table[name]


def parse_doc(info, lines):
    """@lines: (line number, text without the leading '# ')."""
    doc = QAPIDoc(info)
    if lines and lines[0][1].startswith('@'):
        lineno, text = lines[0]
        match = re.match(r'@([^:\s]+):$', text)
        if not match:
            raise QAPIError(info.at(lineno),
                            "line should end with ':'" if ':' not in text
                            else "the first line of a definition's "
                            "documentation must be '@NAME:' alone")
        doc.symbol = match.group(1)
        lines = lines[1:]
    current = doc.body
    mode = 'body'             # body -> args -> features -> sections
    for lineno, text in lines:
        linfo = info.at(lineno)
        member = MEMBER_RE.match(text)
        section = SECTION_RE.match(text)
        if text == 'Features:' and doc.symbol:
            if mode == 'sections':
                raise QAPIError(linfo, "'Features:' must come before "
                                "any section")
            mode = 'features'
            current = None
            continue
        if member and doc.symbol and mode in ('body', 'args', 'features'):
            if mode == 'body':
                mode = 'args'
            table = doc.features if mode == 'features' else doc.args
            current = _add_arg(table, member.group(1), linfo,
                               'feature' if mode == 'features'
                               else 'member')
            current.lines.append((member.group(2) or '').strip())
            continue
        if section and doc.symbol:
            mode = 'sections'
            current = Section(section.group(1), linfo)
            doc.sections.append(current)
            first = (section.group(2) or '').strip()
            if first:
                current.lines.append(first)
            continue
        if text == '':
            if mode in ('args', 'features'):
                current = None
            elif current is not None:
                current.lines.append('')
            continue
        if current is None:
            current = Section(None, linfo)
            doc.sections.append(current)
            mode = 'sections'
        if current.tag and mode in ('args', 'features'):
            current.lines.append(text.strip())
        else:
            current.lines.append(text)
    return doc
