# SPDX-License-Identifier: GPL-2.0-or-later
"""PREFIXqapi-commands.{h,c}: handler declarations, marshallers and the
registration of every command."""

from .gen import CFile, code, wrap_prototype


def handler_params(cmd):
    """C parameter list of the qmp_* handler, without errp."""
    if not cmd.arg_type:
        return ''
    if cmd.boxed:
        return '%s *arg, ' % cmd.arg_type.c_name()
    out = ''
    for member in cmd.arg_type.all_members():
        if member.needs_has():
            out += 'bool has_%s, ' % member.c_name()
        ctype = member.type.c_param_type()
        sep = '' if ctype.endswith('*') else ' '
        out += '%s%s%s, ' % (ctype, sep, member.c_name())
    return out


def handler_args(cmd):
    if not cmd.arg_type:
        return ''
    if cmd.boxed:
        return '&arg, '
    out = ''
    for member in cmd.arg_type.all_members():
        if member.needs_has():
            out += 'arg.has_%s, ' % member.c_name()
        out += 'arg.%s, ' % member.c_name()
    return out


def ret_ctype(cmd):
    if not cmd.ret_type:
        return 'void '
    ctype = cmd.ret_type.c_type()
    return ctype if ctype.endswith('*') else ctype + ' '


def gen_output_func(typ):
    return code('''

        static void qmp_marshal_output_%(c)s(%(t)sret_in, json_t **ret_out,
                                        Error **errp)
        {
            Visitor *v = json_output_visitor_new(ret_out);

            if (visit_type_%(c)s(v, "unused", &ret_in, errp)) {
                visit_complete(v, ret_out);
            }
            visit_free(v);
            v = dealloc_visitor_new();
            visit_type_%(c)s(v, "unused", &ret_in, NULL);
            visit_free(v);
        }
        ''', c=typ.c_name(), t=typ.c_type())


def gen_marshal(cmd):
    cname = cmd.c_name()
    decl_arg = ''
    visit_members = ''
    free_members = ''
    if cmd.arg_type:
        decl_arg = '    %s arg = {0};\n' % cmd.arg_type.c_name()
        visit_members = code('''
            if (visit_type_%(t)s_members(v, &arg, errp)) {
                ok = visit_check_struct(v, errp);
            }
            ''', t=cmd.arg_type.c_name())
        free_members = ('    visit_type_%s_members(v, &arg, NULL);\n'
                        % cmd.arg_type.c_name())
    else:
        visit_members = 'ok = visit_check_struct(v, errp);\n'
    visit_members = ''.join('    ' + ln for ln in
                            visit_members.splitlines(True))
    if cmd.ret_type:
        call = code('''
            retval = qmp_%(c)s(%(args)s&err);
            if (err) {
                error_propagate(errp, err);
                goto out;
            }
            qmp_marshal_output_%(r)s(retval, ret, errp);
            ''', c=cname, args=handler_args(cmd),
                    r=cmd.ret_type.c_name())
        decl_ret = '    %sretval;\n' % ret_ctype(cmd)
    else:
        call = code('''
            qmp_%(c)s(%(args)s&err);
            if (err) {
                error_propagate(errp, err);
                goto out;
            }
            *ret = json_object();
            ''', c=cname, args=handler_args(cmd))
        decl_ret = ''
    call = ''.join('    ' + ln for ln in call.splitlines(True))
    return code('''

        void qmp_marshal_%(c)s(json_t *args, json_t **ret, Error **errp)
        {
            Error *err = NULL;
            bool ok = false;
            json_t *no_args = NULL;
            Visitor *v;
        %(decl_ret)s%(decl_arg)s
            if (!args) {
                args = no_args = json_object();
            }
            v = json_input_visitor_new(args);
            if (!visit_start_struct(v, NULL, NULL, 0, errp)) {
                goto out;
            }
        %(visit)s    visit_end_struct(v, NULL);
            if (!ok) {
                goto out;
            }
        %(call)s
        out:
            visit_free(v);
            v = dealloc_visitor_new();
            visit_start_struct(v, NULL, NULL, 0, NULL);
        %(free)s    visit_end_struct(v, NULL);
            visit_free(v);
            json_decref(no_args);
        }
        ''', c=cname, decl_ret=decl_ret, decl_arg=decl_arg,
                visit=visit_members, call=call, free=free_members)


def options(cmd):
    opts = []
    if not cmd.success_response:
        opts.append('QCO_NO_SUCCESS_RESP')
    if cmd.allow_oob:
        opts.append('QCO_ALLOW_OOB')
    if cmd.allow_preconfig:
        opts.append('QCO_ALLOW_PRECONFIG')
    return ' | '.join(opts) or 'QCO_NO_OPTIONS'


def specials(cmd):
    flags = ['QAPI_' + f.upper() for f in cmd.special_features()]
    return ' | '.join(flags) or '0'


def gen_commands(schema, opts):
    pre = opts.prefix
    hdr = CFile(pre + 'qapi-commands.h', opts.schema)
    src = CFile(pre + 'qapi-commands.c', opts.schema)
    hdr.add(code('''

        #include <jansson.h>

        #include "qapi/qmp-dispatch.h"
        #include "%(p)sqapi-types.h"

        ''', p=pre))
    src.add(code('''

        #include "qapi/dealloc-visitor.h"
        #include "qapi/json-input-visitor.h"
        #include "qapi/json-output-visitor.h"
        #include "%(p)sqapi-commands.h"
        #include "%(p)sqapi-visit.h"
        ''', p=pre))
    commands = [e for e in schema.entities if e.meta == 'command']
    done_outputs = set()
    register = ''
    for cmd in commands:
        cname = cmd.c_name()
        if not cmd.gen:
            hdr.add(wrap_prototype('void qmp_%s(json_t *args, json_t **ret, '
                                   'Error **errp);' % cname) + '\n')
            register += ('    qmp_register_command(cmds, "%s", qmp_%s,\n'
                         '                         %s, %s);\n'
                         % (cmd.name, cname, options(cmd), specials(cmd)))
            continue
        hdr.add(wrap_prototype('%sqmp_%s(%sError **errp);'
                               % (ret_ctype(cmd), cname,
                                  handler_params(cmd))) + '\n')
        hdr.add(wrap_prototype('void qmp_marshal_%s(json_t *args, '
                               'json_t **ret, Error **errp);' % cname)
                + '\n')
        if cmd.ret_type and cmd.ret_type.name not in done_outputs:
            done_outputs.add(cmd.ret_type.name)
            src.add(gen_output_func(cmd.ret_type))
        src.add(gen_marshal(cmd))
        register += ('    qmp_register_command(cmds, "%s", qmp_marshal_%s,\n'
                     '                         %s, %s);\n'
                     % (cmd.name, cname, options(cmd), specials(cmd)))
    init = 'void %sqmp_init_marshal(QmpCommandList *cmds)' % \
        pre.replace('-', '_')
    hdr.add('\n%s;\n' % init)
    src.add('\n%s\n{\n%s}\n' % (init, register))
    return [hdr, src]
