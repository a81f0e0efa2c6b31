# SPDX-License-Identifier: GPL-2.0-or-later
"""PREFIXqapi-visit.{h,c} (and qapi-builtin-visit.{h,c})."""

from .cnames import c_name
from .gen import CFile, code
from .entities import AlternateType, BuiltinType, EnumType, qtype_of
from .types import implicit_objects, named_types


def visit_call(typ, name, addr):
    """The call that visits one value of @typ stored at @addr."""
    if isinstance(typ, BuiltinType):
        return 'visit_type_%s(v, %s, %s, errp)' % (typ.name, name, addr)
    return 'visit_type_%s(v, %s, %s, errp)' % (typ.c_name(), name, addr)


def gen_members_body(obj):
    out = ''
    if obj.base:
        out += code('''
            if (!visit_type_%(b)s_members(v, (%(b)s *)obj, errp)) {
                return false;
            }
            ''', b=obj.base.c_name())
    for member in obj.local_members:
        cname = member.c_name()
        call = visit_call(member.type, '"%s"' % member.name,
                          '&obj->%s' % cname)
        check = code('''
            if (!%(call)s) {
                return false;
            }
            ''', call=call)
        if not member.optional:
            out += check
            continue
        if member.needs_has():
            out += 'if (visit_optional(v, "%s", &obj->has_%s)) {\n' % (
                member.name, cname)
        else:
            out += 'bool has_%s = !!obj->%s;\n\n' % (cname, cname)
            out += 'if (visit_optional(v, "%s", &has_%s)) {\n' % (
                member.name, cname)
        out += ''.join('    ' + ln + '\n' for ln in check.splitlines())
        out += '}\n'
    if obj.variants:
        tag = obj.tag_member
        out += 'switch (obj->%s) {\n' % tag.c_name()
        for var in obj.variants:
            out += code('''
                case %(const)s:
                    return visit_type_%(t)s_members(v, &obj->u.%(case)s, errp);
                ''', const=tag.type.member_const(var.case),
                        t=var.type.c_name(), case=c_name(var.case))
        out += 'default:\n    break;\n}\n'
    out += 'return true;\n'
    return ''.join('    ' + ln if ln.strip() else ln
                   for ln in out.splitlines(True))


def gen_struct_visit(obj):
    text = code('''

        bool visit_type_%(c)s_members(Visitor *v, %(c)s *obj, Error **errp)
        {
        %(body)s}
        ''', c=obj.c_name(), body=gen_members_body(obj))
    if obj.is_implicit():
        return text
    return text + code('''

        bool visit_type_%(c)s(Visitor *v, const char *name,
                         %(c)s **obj, Error **errp)
        {
            bool ok = false;

            if (!visit_start_struct(v, name, (void **)obj, sizeof(%(c)s),
                                    errp)) {
                return false;
            }
            if (!*obj) {
                /* Only the dealloc visitor meets a missing object. */
                ok = true;
                goto out_obj;
            }
            if (!visit_type_%(c)s_members(v, *obj, errp)) {
                goto out_obj;
            }
            ok = visit_check_struct(v, errp);
        out_obj:
            visit_end_struct(v, (void **)obj);
            if (!ok && visit_is_input(v)) {
                qapi_free_%(c)s(*obj);
                *obj = NULL;
            }
            return ok;
        }
        ''', c=obj.c_name())


def gen_list_visit(cname, elem):
    call = visit_call(elem, 'NULL', '&tail->value')
    return code('''

        bool visit_type_%(c)sList(Visitor *v, const char *name,
                         %(c)sList **obj, Error **errp)
        {
            bool ok = false;
            %(c)sList *tail;
            size_t size = sizeof(**obj);

            if (!visit_start_list(v, name, (GenericList **)obj, size, errp)) {
                return false;
            }
            for (tail = *obj; tail;
                 tail = (%(c)sList *)visit_next_list(v, (GenericList *)tail,
                                                   size)) {
                if (!%(call)s) {
                    goto out_obj;
                }
            }
            ok = visit_check_list(v, errp);
        out_obj:
            visit_end_list(v, (void **)obj);
            if (!ok && visit_is_input(v)) {
                qapi_free_%(c)sList(*obj);
                *obj = NULL;
            }
            return ok;
        }
        ''', c=cname, call=call)


def gen_enum_visit(enum):
    return code('''

        bool visit_type_%(c)s(Visitor *v, const char *name, %(c)s *obj,
                         Error **errp)
        {
            int value = *obj;
            bool ok = visit_type_enum(v, name, &value, &%(c)s_lookup, errp);

            *obj = value;
            return ok;
        }
        ''', c=enum.c_name())


def gen_alternate_visit(alt):
    cases = ''
    for member in alt.members:
        call = visit_call(member.type, 'name',
                          '&(*obj)->u.%s' % member.c_name())
        cases += code('''
            case %(q)s:
                ok = %(call)s;
                break;
            ''', q=qtype_of(member.type), call=call)
    cases = ''.join('    ' + ln if ln.strip() else ln
                    for ln in cases.splitlines(True))
    qtypes = (' |\n' + ' ' * 31).join('(1u << %s)' % qtype_of(m.type)
                                      for m in alt.members)
    return code('''

        bool visit_type_%(c)s(Visitor *v, const char *name,
                         %(c)s **obj, Error **errp)
        {
            bool ok = false;

            if (!visit_start_alternate(v, name, (GenericAlternate **)obj,
                                       sizeof(**obj),
                                       %(qtypes)s,
                                       "%(n)s", errp)) {
                return false;
            }
            if (!*obj) {
                /* Only the dealloc visitor meets a missing object. */
                ok = true;
                goto out_obj;
            }
            switch ((*obj)->type) {
        %(cases)s    default:
                /* Input only hands out the types listed above. */
                ok = visit_is_dealloc(v);
                if (!ok) {
                    error_setg(errp, "Alternate '%(n)s' holds no valid type");
                }
            }
        out_obj:
            visit_end_alternate(v, (void **)obj);
            if (!ok && visit_is_input(v)) {
                qapi_free_%(c)s(*obj);
                *obj = NULL;
            }
            return ok;
        }
        ''', c=alt.c_name(), n=alt.name, qtypes=qtypes, cases=cases)


def list_decl(cname):
    return ('bool visit_type_%sList(Visitor *v, const char *name,\n'
            '    %sList **obj, Error **errp);\n' % (cname, cname))


def gen_builtin_visit(schema, opts):
    hdr = CFile('qapi-builtin-visit.h', opts.schema)
    src = CFile('qapi-builtin-visit.c', opts.schema)
    hdr.add(code('''

        #include "qapi/visitor.h"
        #include "qapi-builtin-types.h"

        '''))
    src.add(code('''

        #include "qapi-builtin-visit.h"
        '''))
    for typ in schema.builtins:
        hdr.add(list_decl(typ.name))
        src.add(gen_list_visit(typ.name, typ))
    return [hdr, src]


def gen_visit(schema, opts):
    pre = opts.prefix
    hdr = CFile(pre + 'qapi-visit.h', opts.schema)
    src = CFile(pre + 'qapi-visit.c', opts.schema)
    builtin_h = 'qapi-builtin-visit.h' if not pre else \
        'qapi/qapi-builtin-visit.h'
    hdr.add(code('''

        #include "%(b)s"
        #include "%(p)sqapi-types.h"

        ''', b=builtin_h, p=pre))
    src.add(code('''

        #include "%(p)sqapi-visit.h"
        ''', p=pre))
    for obj in implicit_objects(schema):
        hdr.add('bool visit_type_%s_members(Visitor *v, %s *obj, '
                'Error **errp);\n' % (obj.c_name(), obj.c_name()))
        src.add(gen_struct_visit(obj))
    for typ in named_types(schema):
        cname = typ.c_name()
        if isinstance(typ, EnumType):
            hdr.add('bool visit_type_%s(Visitor *v, const char *name, '
                    '%s *obj,\n    Error **errp);\n' % (cname, cname))
            src.add(gen_enum_visit(typ))
        elif isinstance(typ, AlternateType):
            hdr.add('bool visit_type_%s(Visitor *v, const char *name,\n'
                    '    %s **obj, Error **errp);\n' % (cname, cname))
            src.add(gen_alternate_visit(typ))
        else:
            hdr.add('bool visit_type_%s_members(Visitor *v, %s *obj, '
                    'Error **errp);\n' % (cname, cname))
            hdr.add('bool visit_type_%s(Visitor *v, const char *name,\n'
                    '    %s **obj, Error **errp);\n' % (cname, cname))
            src.add(gen_struct_visit(typ))
        hdr.add(list_decl(cname))
        src.add(gen_list_visit(cname, typ))
    return [hdr, src]

