# SPDX-License-Identifier: GPL-2.0-or-later
"""PREFIXqapi-introspect.{h,c}: the schema as query-qmp-schema returns
it, stored as one JSON text.

Like QEMU, type names are masked by default: every type that is not
built in gets a number (in order of first use), because type names are
not part of the wire ABI.  --unmask-non-abi-names keeps the names."""

import json

from .cnames import c_name
from .gen import CFile, code
from .entities import (AlternateType, ArrayType, BuiltinType, EnumType,
                     ObjectType)

# Built-in types collapse to what the client can see on the wire.
WIRE_BUILTIN = {'number': 'number', 'str': 'str', 'bool': 'bool',
                'any': 'any', 'null': 'null'}


class Introspector:
    def __init__(self, schema, unmask):
        self.schema = schema
        self.unmask = unmask
        self.names = {}        # type name -> name on the wire
        self.queue = []        # types used but not yet described
        self.entries = []
        self.counter = 0

    def use(self, typ):
        """Name of @typ on the wire; @typ is described later."""
        if typ is None:
            return self._use_empty()
        if isinstance(typ, BuiltinType):
            key = WIRE_BUILTIN.get(typ.name, 'int')
        else:
            key = typ.name
        if key in self.names:
            return self.names[key]
        if isinstance(typ, BuiltinType):
            wire = key
        elif isinstance(typ, ArrayType):
            wire = '[%s]' % self.use(typ.element)
        elif self.unmask:
            wire = typ.name
        else:
            wire = self._number()
        self.names[key] = wire
        self.queue.append((typ, wire, key))
        return wire

    def _number(self):
        self.counter += 1
        return str(self.counter - 1)

    def _use_empty(self):
        key = 'q_empty'
        if key not in self.names:
            wire = key if self.unmask else self._number()
            self.names[key] = wire
            self.queue.append((None, wire, key))
        return self.names[key]

    @staticmethod
    def _features(ent, entry):
        if ent.features:
            entry['features'] = [f.name for f in ent.features]
        return entry

    def describe(self, typ, wire, key):
        if typ is None:
            return {'name': wire, 'meta-type': 'object', 'members': []}
        if isinstance(typ, BuiltinType):
            json_type = 'int' if key == 'int' else typ.json_type
            return {'name': wire, 'meta-type': 'builtin',
                    'json-type': json_type}
        if isinstance(typ, ArrayType):
            return {'name': wire, 'meta-type': 'array',
                    'element-type': self.use(typ.element)}
        if isinstance(typ, EnumType):
            members = []
            for member in typ.members:
                entry = {'name': member.name}
                if member.features:
                    entry['features'] = [f.name for f in member.features]
                members.append(entry)
            return self._features(typ, {
                'name': wire, 'meta-type': 'enum', 'members': members,
                'values': [m.name for m in typ.members]})
        if isinstance(typ, AlternateType):
            return self._features(typ, {
                'name': wire, 'meta-type': 'alternate',
                'members': [{'type': self.use(m.type)}
                            for m in typ.members]})
        assert isinstance(typ, ObjectType)
        members = []
        for member in typ.all_members():
            entry = {'name': member.name, 'type': self.use(member.type)}
            if member.optional:
                entry['default'] = None
            if member.features:
                entry['features'] = [f.name for f in member.features]
            members.append(entry)
        entry = {'name': wire, 'meta-type': 'object', 'members': members}
        if typ.variants:
            entry['tag'] = typ.tag_member.name
            entry['variants'] = [{'case': v.case, 'type': self.use(v.type)}
                                 for v in typ.variants]
        return self._features(typ, entry)

    def run(self):
        for ent in self.schema.entities:
            if ent.meta == 'command':
                entry = {'name': ent.name, 'meta-type': 'command',
                         'arg-type': self.use(ent.arg_type),
                         'ret-type': self.use(ent.ret_type)}
                if ent.allow_oob:
                    entry['allow-oob'] = True
                self.entries.append(self._features(ent, entry))
            elif ent.meta == 'event':
                entry = {'name': ent.name, 'meta-type': 'event',
                         'arg-type': self.use(ent.arg_type)}
                self.entries.append(self._features(ent, entry))
        while self.queue:
            typ, wire, key = self.queue.pop(0)
            self.entries.append(self.describe(typ, wire, key))
        return self.entries


def c_string(text):
    return '"%s"' % text.replace('\\', '\\\\').replace('"', '\\"')


def gen_introspect(schema, opts):
    pre = c_name(opts.prefix, False)
    hdr = CFile(opts.prefix + 'qapi-introspect.h', opts.schema)
    src = CFile(opts.prefix + 'qapi-introspect.c', opts.schema)
    entries = Introspector(schema, opts.unmask).run()
    hdr.add(code('''

        /* The JSON array query-qmp-schema returns, as text. */
        extern const char %(p)sqmp_schema_json[];
        ''', p=pre))
    lines = ['[']
    for i, entry in enumerate(entries):
        sep = ',' if i + 1 < len(entries) else ''
        lines.append(json.dumps(entry, sort_keys=False) + sep)
    lines.append(']')
    body = ''.join('    %s\n' % c_string(ln) for ln in lines)
    src.add(code('''

        #include "%(f)sqapi-introspect.h"

        const char %(p)sqmp_schema_json[] =
        %(body)s;
        ''', f=opts.prefix, p=pre, body=body.rstrip('\n')))
    return [hdr, src]
