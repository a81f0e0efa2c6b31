# SPDX-License-Identifier: GPL-2.0-or-later
"""The QMP reference in Markdown, generated from the doc comments."""

import re

from .gen import write_if_changed
from .entities import AlternateType, ArrayType, ObjectType


def type_ref(typ):
    if isinstance(typ, ArrayType):
        return '[%s]' % type_ref(typ.element)
    return typ.name


def inline(text):
    """'@name' in doc text means a reference: render it as code."""
    return re.sub(r'@([A-Za-z0-9_-]+)', r'`\1`', text)


def paragraphs(section):
    return inline(section.text) + '\n\n' if section.text else ''


def member_list(title, members, doc):
    out = ''
    for member in members:
        text = doc.args[member.name].text if member.name in doc.args \
            else 'Not documented'
        opt = ' (optional)' if member.optional else ''
        out += '- `%s`: `%s`%s: %s\n' % (member.name, type_ref(member.type),
                                         opt, inline(' '.join(
                                             text.split())))
    return '**%s**\n\n%s\n' % (title, out) if out else ''


def section_text(section):
    if section.tag in ('Example', 'Examples'):
        return '**%s**\n\n```\n%s\n```\n\n' % (section.tag,
                                                 section.text.strip('\n'))
    if section.tag is None:
        return paragraphs(section)
    # Continuation lines are indented in the schema; Markdown needs not.
    paras = [' '.join(p.split()) for p in section.text.split('\n\n')]
    return '**%s**: %s\n\n' % (section.tag, inline('\n\n'.join(paras)))


def entity_doc(ent):
    doc = ent.doc
    kind = {'command': 'Command', 'event': 'Event', 'enum': 'Enum',
            'alternate': 'Alternate'}.get(ent.meta)
    if kind is None:
        kind = 'Union' if ent.is_union() else 'Struct'
    out = '### `%s` (%s)\n\n' % (ent.name, kind)
    out += paragraphs(doc.body)
    if ent.meta == 'enum':
        values = ''
        for member in ent.members:
            text = doc.args[member.name].text if member.name in doc.args \
                else 'Not documented'
            values += '- `%s`: %s\n' % (member.name,
                                        inline(' '.join(text.split())))
        out += '**Values**\n\n%s\n' % values
    elif isinstance(ent, AlternateType):
        out += member_list('One of', ent.members, doc)
    elif isinstance(ent, ObjectType):
        if ent.base and not ent.base.is_implicit():
            out += 'The members of `%s`, and:\n\n' % ent.base.name
            out += member_list('Members', ent.local_members, doc)
        else:
            out += member_list('Members', ent.all_members(), doc)
        for var in ent.variants:
            out += '- when `%s` is `%s`: the members of `%s`\n' % (
                ent.tag_member.name, var.case, var.type.name)
        if ent.variants:
            out += '\n'
    elif ent.arg_type:
        if not ent.arg_type.is_implicit():
            out += 'The members of `%s`.\n\n' % ent.arg_type.name
        else:
            title = 'Arguments' if ent.meta == 'command' else 'Data'
            out += member_list(title, ent.arg_type.all_members(), doc)
    if doc.features:
        out += '**Features**\n\n'
        for name, section in doc.features.items():
            out += '- `%s`: %s\n' % (name, inline(' '.join(
                section.text.split())))
        out += '\n'
    for section in doc.sections:
        out += section_text(section)
    return out


def free_doc(doc):
    out = ''
    for line in doc.body.text.split('\n'):
        match = re.match(r'(=+) (.*)', line)
        if match:
            out += '%s %s\n' % ('#' * len(match.group(1)), match.group(2))
        else:
            out += line + '\n'
    return out.strip('\n') + '\n\n'


def gen_doc(schema, path):
    """Free-form doc blocks (titles) keep their place among the
    definitions: each remembers how many definitions precede it."""
    out = ''
    free = list(schema.free_docs)
    for pos, ent in enumerate(schema.entities + [None]):
        while free and free[0][1] <= pos:
            out += free_doc(free.pop(0)[0])
        if ent is not None:
            out += entity_doc(ent)
    write_if_changed(path, out)
