# SPDX-License-Identifier: GPL-2.0-or-later
"""The definitions of a schema: types, commands and events."""

import re

from .cnames import c_name, c_enum_const

BUILTINS = {
    # name: (C type, JSON type of introspection)
    'str': ('char *', 'string'),
    'number': ('double', 'number'),
    'int': ('int64_t', 'int'),
    'int8': ('int8_t', 'int'),
    'int16': ('int16_t', 'int'),
    'int32': ('int32_t', 'int'),
    'int64': ('int64_t', 'int'),
    'uint8': ('uint8_t', 'int'),
    'uint16': ('uint16_t', 'int'),
    'uint32': ('uint32_t', 'int'),
    'uint64': ('uint64_t', 'int'),
    'size': ('uint64_t', 'int'),
    'bool': ('bool', 'boolean'),
    'any': ('json_t *', 'value'),
    'null': ('json_t *', 'null'),
}

SPECIAL_FEATURES = ('deprecated', 'unstable')

META_KEYS = {
    'enum': ({'data'}, {'prefix', 'features'}),
    'struct': ({'data'}, {'base', 'features'}),
    'union': ({'base', 'discriminator', 'data'}, {'features'}),
    'alternate': ({'data'}, {'features'}),
    'command': (set(), {'data', 'returns', 'boxed', 'gen',
                        'success-response', 'allow-oob',
                        'allow-preconfig', 'coroutine', 'features'}),
    'event': (set(), {'data', 'boxed', 'features'}),
}

NAME_RE = re.compile(r'[A-Za-z][A-Za-z0-9_.-]*$')


class Feature:
    def __init__(self, name, info):
        self.name = name
        self.info = info

    def is_special(self):
        return self.name in SPECIAL_FEATURES


class Entity:
    meta = None

    def __init__(self, name, info, doc, features=()):
        self.name = name
        self.info = info
        self.doc = doc
        self.features = list(features)

    def c_name(self):
        return c_name(self.name)

    def is_implicit(self):
        return self.name.startswith('q_')

    def special_features(self):
        return [f.name for f in self.features if f.is_special()]

    def describe(self):
        return "%s '%s'" % (self.meta, self.name)


class Type(Entity):
    json_type = None

    def c_type(self):
        """Type of a member holding a value."""
        return self.c_name() + ' *'

    def c_param_type(self):
        return self.c_type()

    def is_pointer(self):
        return self.c_type().endswith('*')

    def is_builtin(self):
        return False


class BuiltinType(Type):
    meta = 'built-in'

    def __init__(self, name):
        super().__init__(name, None, None)
        self._c_type, self.json_type = BUILTINS[name]

    def c_type(self):
        return self._c_type

    def c_param_type(self):
        return 'const char *' if self.name == 'str' else self._c_type

    def is_builtin(self):
        return True


class EnumMember:
    def __init__(self, name, info, features):
        self.name = name
        self.info = info
        self.features = features


class EnumType(Type):
    meta = 'enum'
    json_type = 'string'

    def __init__(self, name, info, doc, members, prefix, features):
        super().__init__(name, info, doc, features)
        self.members = members
        self.prefix = prefix

    def c_type(self):
        return self.c_name()

    def member_const(self, member_name):
        return c_enum_const(self.name, member_name, self.prefix)

    def max_const(self):
        return c_enum_const(self.name, '_MAX', self.prefix)


class ArrayType(Type):
    meta = 'array'
    json_type = 'array'

    def __init__(self, element_name, info):
        super().__init__(element_name + 'List', info, None)
        self.element_name = element_name
        self.element = None

    def is_builtin(self):
        return self.element.is_builtin()

    def describe(self):
        return "array of '%s'" % self.element_name


class Member:
    def __init__(self, name, type_name, optional, info, features):
        self.name = name
        self.type_name = type_name
        self.optional = optional
        self.info = info
        self.features = features
        self.type = None

    def c_name(self):
        return c_name(self.name)

    def needs_has(self):
        return self.optional and not self.type.is_pointer()

    def describe(self):
        return "member '%s'" % self.name


class Variant:
    def __init__(self, case, type_name, info):
        self.case = case
        self.type_name = type_name
        self.info = info
        self.type = None


class ObjectType(Type):
    meta = 'struct'
    json_type = 'object'

    def __init__(self, name, info, doc, base_name, members, features,
                 discriminator=None, variants=None):
        super().__init__(name, info, doc, features)
        self.base_name = base_name
        self.base = None
        self.local_members = members
        self.discriminator = discriminator
        self.variants = variants or []
        self.tag_member = None
        self.checked = False

    def all_members(self):
        base = self.base.all_members() if self.base else []
        return base + self.local_members

    def is_union(self):
        return self.discriminator is not None

    def describe(self):
        return "%s '%s'" % ('union' if self.is_union() else self.meta,
                            self.name)


class AlternateType(Type):
    """A value that may be of one of several JSON types."""
    meta = 'alternate'
    json_type = 'value'

    def __init__(self, name, info, doc, members, features):
        super().__init__(name, info, doc, features)
        self.members = members      # Member, never optional

    def describe(self):
        return "alternate '%s'" % self.name


def qtype_of(typ):
    """The QType constant of the JSON values of @typ."""
    if isinstance(typ, BuiltinType):
        return {'str': 'QTYPE_QSTRING', 'bool': 'QTYPE_QBOOL',
                'null': 'QTYPE_QNULL', 'any': None}.get(typ.name,
                                                        'QTYPE_QNUM')
    if isinstance(typ, EnumType):
        return 'QTYPE_QSTRING'
    if isinstance(typ, ObjectType):
        return 'QTYPE_QDICT'
    return None


class Command(Entity):
    meta = 'command'

    def __init__(self, name, info, doc, arg_type_name, ret_type_name, expr,
                 features):
        super().__init__(name, info, doc, features)
        self.arg_type_name = arg_type_name
        self.ret_type_name = ret_type_name
        self.arg_type = None
        self.ret_type = None
        self.boxed = expr.get('boxed', False)
        self.gen = expr.get('gen', True)
        self.success_response = expr.get('success-response', True)
        self.allow_oob = expr.get('allow-oob', False)
        self.allow_preconfig = expr.get('allow-preconfig', False)


class Event(Entity):
    meta = 'event'

    def __init__(self, name, info, doc, arg_type_name, boxed, features):
        super().__init__(name, info, doc, features)
        self.arg_type_name = arg_type_name
        self.arg_type = None
        self.boxed = boxed
