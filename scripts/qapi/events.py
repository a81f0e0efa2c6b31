# SPDX-License-Identifier: GPL-2.0-or-later
"""PREFIXqapi-events.{h,c}: the QAPIEvent enum and qapi_event_send_*."""

from .cnames import c_enum_const, c_name
from .gen import CFile, code, wrap_prototype
from .types import gen_enum_h, gen_enum_lookup


def send_params(event):
    if not event.arg_type:
        return 'void'
    if event.boxed:
        return '%s *arg' % event.arg_type.c_name()
    params = []
    for member in event.arg_type.all_members():
        if member.needs_has():
            params.append('bool has_%s' % member.c_name())
        ctype = member.type.c_param_type()
        sep = '' if ctype.endswith('*') else ' '
        params.append('%s%s%s' % (ctype, sep, member.c_name()))
    return ', '.join(params)


def fill_param(event):
    if event.boxed:
        return ''
    out = ''
    for member in event.arg_type.all_members():
        cname = member.c_name()
        if member.needs_has():
            out += '    param.has_%s = has_%s;\n' % (cname, cname)
        cast = '(char *)' if member.type.name == 'str' else ''
        out += '    param.%s = %s%s;\n' % (cname, cast, cname)
    return out


def gen_send(event, enum_const, emit):
    name = event.name
    data = ''
    decl = ''
    if event.arg_type:
        tname = event.arg_type.c_name()
        if event.boxed:
            target = 'arg'
            decl = ''
        else:
            target = '&param'
            decl = '    %s param = {0};\n' % tname
        data = code('''
            v = json_output_visitor_new(&data);
            if (visit_start_struct(v, "%(n)s", NULL, 0, &error_abort)) {
                if (visit_type_%(t)s_members(v, %(target)s, &error_abort)) {
                    visit_check_struct(v, &error_abort);
                }
                visit_end_struct(v, NULL);
            }
            visit_complete(v, &data);
            visit_free(v);
            json_object_set_new(obj, "data", data);
            ''', n=name, t=tname, target=target)
        data = ''.join('    ' + ln for ln in data.splitlines(True))
        decl += '    Visitor *v;\n    json_t *data = NULL;\n'
    return code('''

        void qapi_event_send_%(c)s(%(params)s)
        {
            json_t *obj;
        %(decl)s
        %(fill)s    obj = qmp_event_build_dict("%(n)s");
        %(data)s    %(emit)s(%(const)s, obj);
            json_decref(obj);
        }
        ''', c=c_name(name.lower()), params=send_params(event), decl=decl,
                fill=fill_param(event) if event.arg_type else '', n=name,
                data=data, emit=emit, const=enum_const)


def gen_events(schema, opts):
    pre = opts.prefix
    hdr = CFile(pre + 'qapi-events.h', opts.schema)
    src = CFile(pre + 'qapi-events.c', opts.schema)
    enum_name = c_name(pre + 'QAPIEvent', False)
    emit = c_name(pre + 'qapi_event_emit', False)
    events = [e for e in schema.entities if e.meta == 'event']
    consts = [c_enum_const(enum_name, e.name) for e in events]
    max_const = c_enum_const(enum_name, '_MAX')
    hdr.add(code('''

        #include <jansson.h>

        #include "qapi/util.h"
        #include "%(p)sqapi-types.h"
        ''', p=pre))
    hdr.add(gen_enum_h(enum_name, consts, max_const))
    hdr.add(code('''

        /*
         * Delivers @event_obj (borrowed) to the clients.  Without a
         * prefix, qapi/qmp-event.c provides it and hands the event to
         * the emitter set with qapi_event_set_emitter(); a program
         * that generates a prefixed schema provides its own.
         */
        void %(emit)s(%(e)s event, json_t *event_obj);

        ''', emit=emit, e=enum_name))
    src.add(code('''

        #include "qapi/json-output-visitor.h"
        #include "qapi/qmp-dispatch.h"
        #include "%(p)sqapi-events.h"
        #include "%(p)sqapi-visit.h"
        ''', p=pre))
    src.add(gen_enum_lookup(enum_name, consts, [e.name for e in events],
                            max_const))
    for event, const in zip(events, consts):
        hdr.add(wrap_prototype('void qapi_event_send_%s(%s);'
                               % (c_name(event.name.lower()),
                                  send_params(event))) + '\n')
        src.add(gen_send(event, const, emit))
    return [hdr, src]
