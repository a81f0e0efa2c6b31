# SPDX-License-Identifier: GPL-2.0-or-later
"""PREFIXqapi-types.{h,c} (and qapi-builtin-types.{h,c})."""

from .cnames import c_name
from .gen import CFile, code
from .entities import AlternateType, EnumType, ObjectType


def gen_enum_h(cname, consts, max_const):
    body = ''.join('    %s,\n' % c for c in consts)
    return code('''

        typedef enum %(c)s {
        %(body)s    %(max)s,
        } %(c)s;

        #define %(c)s_str(val) \\
            qapi_enum_lookup(&%(c)s_lookup, (val))

        extern const QEnumLookup %(c)s_lookup;
        ''', c=cname, body=body, max=max_const)


def gen_enum_lookup(cname, consts, names, max_const, specials=None):
    array = ''.join('        [%s] = "%s",\n' % (c, n)
                    for c, n in zip(consts, names))
    special = ''
    if specials and any(specials):
        items = ''.join('        [%s] = %s,\n' % (c, ' | '.join(s))
                        for c, s in zip(consts, specials) if s)
        special = code('''
            .special_features = (const unsigned char[%(max)s]) {
            %(items)s    },
            ''', max=max_const, items=items)
        special = ''.join('    ' + ln if ln else ln
                          for ln in special.splitlines(True))
    return code('''

        const QEnumLookup %(c)s_lookup = {
            .array = (const char *const[]) {
        %(array)s    },
        %(special)s    .size = %(max)s
        };
        ''', c=cname, array=array, special=special, max=max_const)


def special_flags(features):
    return ['QAPI_' + f.name.upper() for f in features if f.is_special()]


def gen_list_typedef(cname):
    return 'typedef struct %sList %sList;\n' % (cname, cname)


def gen_list_struct(cname, elem_ctype):
    return code('''

        struct %(c)sList {
            %(c)sList *next;
            %(t)svalue;
        };
        ''', c=cname, t=elem_ctype if elem_ctype.endswith('*')
                else elem_ctype + ' ')


def member_decls(members):
    out = ''
    for member in members:
        if member.needs_has():
            out += '    bool has_%s;\n' % member.c_name()
        ctype = member.type.c_type()
        sep = '' if ctype.endswith('*') else ' '
        out += '    %s%s%s;\n' % (ctype, sep, member.c_name())
    return out


def gen_struct(obj):
    body = ''
    if obj.base and obj.base.is_implicit():
        body += member_decls(obj.base.all_members())
    elif obj.base:
        body += '    /* Members inherited from %s: */\n' % obj.base.c_name()
        body += member_decls(obj.base.all_members())
        if obj.local_members:
            body += '    /* Own members: */\n'
    body += member_decls(obj.local_members)
    branches = obj.variants
    if branches:
        body += '    union { /* union tag is @%s */\n' % \
            obj.tag_member.c_name()
        for var in branches:
            body += '        %s %s;\n' % (var.type.c_name(),
                                           c_name(var.case))
        body += '    } u;\n'
    if not body:
        body = '    char qapi_dummy_for_empty_struct;\n'
    return '\nstruct %s {\n%s};\n' % (obj.c_name(), body)


def gen_alternate(alt):
    body = ''.join('        %s%s%s;\n' % (m.type.c_type(),
                                         '' if m.type.is_pointer() else ' ',
                                         m.c_name())
                   for m in alt.members)
    return code('''

        struct %(c)s {
            QType type;
            union { /* selected by type */
        %(body)s    } u;
        };
        ''', c=alt.c_name(), body=body)


def struct_order(objects):
    """Union branches are embedded by value: define them first."""
    done, order = set(), []

    def visit(obj):
        if obj.name in done:
            return
        done.add(obj.name)
        for var in obj.variants:
            visit(var.type)
        order.append(obj)
    for obj in objects:
        visit(obj)
    return order


def gen_free_decl(cname):
    return code('''

        void qapi_free_%(c)s(%(c)s *obj);
        G_DEFINE_AUTOPTR_CLEANUP_FUNC(%(c)s, qapi_free_%(c)s)
        ''', c=cname)


def gen_free_def(cname):
    return code('''

        void qapi_free_%(c)s(%(c)s *obj)
        {
            Visitor *v;

            if (!obj) {
                return;
            }
            v = dealloc_visitor_new();
            visit_type_%(c)s(v, NULL, &obj, NULL);
            visit_free(v);
        }
        ''', c=cname)


def gen_builtin_types(schema, opts):
    hdr = CFile('qapi-builtin-types.h', opts.schema)
    src = CFile('qapi-builtin-types.c', opts.schema)
    hdr.add(code('''

        #include <stdbool.h>
        #include <stdint.h>
        #include <jansson.h>

        #include "qapi/util.h"

        '''))
    src.add(code('''

        #include "qapi-builtin-types.h"
        #include "qapi-builtin-visit.h"
        #include "qapi/dealloc-visitor.h"
        '''))
    for typ in schema.builtins:
        hdr.add(gen_list_typedef(typ.name))
    for typ in schema.builtins:
        hdr.add(gen_list_struct(typ.name, typ.c_type()))
        hdr.add(gen_free_decl(typ.name + 'List'))
        src.add(gen_free_def(typ.name + 'List'))
    return [hdr, src]


def named_types(schema):
    return [e for e in schema.entities
            if isinstance(e, (EnumType, ObjectType, AlternateType))]


def implicit_objects(schema):
    return [t for t in schema.defined.values()
            if isinstance(t, ObjectType) and t.is_implicit()]


def gen_types(schema, opts):
    pre = opts.prefix
    hdr = CFile(pre + 'qapi-types.h', opts.schema)
    src = CFile(pre + 'qapi-types.c', opts.schema)
    builtin_h = 'qapi-builtin-types.h' if not pre else \
        'qapi/qapi-builtin-types.h'
    hdr.add(code('''

        #include "%(b)s"
        ''', b=builtin_h))
    src.add(code('''

        #include "qapi/dealloc-visitor.h"
        #include "qapi/qmp-dispatch.h"
        #include "%(p)sqapi-types.h"
        #include "%(p)sqapi-visit.h"
        ''', p=pre))
    types = named_types(schema)
    objects = [t for t in types if isinstance(t, ObjectType)]
    objects += implicit_objects(schema)
    alternates = [t for t in types if isinstance(t, AlternateType)]
    hdr.add('\n')
    for obj in objects + alternates:
        hdr.add('typedef struct %s %s;\n' % (obj.c_name(), obj.c_name()))
    for typ in types:
        hdr.add(gen_list_typedef(typ.c_name()))
    for enum in [t for t in types if isinstance(t, EnumType)]:
        consts = [enum.member_const(m.name) for m in enum.members]
        hdr.add(gen_enum_h(enum.c_name(), consts, enum.max_const()))
        src.add(gen_enum_lookup(enum.c_name(), consts,
                                [m.name for m in enum.members],
                                enum.max_const(),
                                [special_flags(m.features)
                                 for m in enum.members]))
    for typ in types:
        hdr.add(gen_list_struct(typ.c_name(), typ.c_type()))
    for obj in struct_order(objects):
        hdr.add(gen_struct(obj))
        if obj.base and not obj.base.is_implicit():
            hdr.add(code('''

                static inline %(b)s *qapi_%(c)s_base(const %(c)s *obj)
                {
                    return (%(b)s *)obj;
                }
                ''', b=obj.base.c_name(), c=obj.c_name()))
        if not obj.is_implicit():
            hdr.add(gen_free_decl(obj.c_name()))
            src.add(gen_free_def(obj.c_name()))
    for alt in alternates:
        hdr.add(gen_alternate(alt))
        hdr.add(gen_free_decl(alt.c_name()))
        src.add(gen_free_def(alt.c_name()))
    for typ in types:
        hdr.add(gen_free_decl(typ.c_name() + 'List'))
        src.add(gen_free_def(typ.c_name() + 'List'))
    return [hdr, src]

