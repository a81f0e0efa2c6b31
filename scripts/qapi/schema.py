# SPDX-License-Identifier: GPL-2.0-or-later
"""The schema as a set of checked, resolved definitions."""

import re

from .cnames import c_name
from .entities import (BUILTINS, META_KEYS, NAME_RE, AlternateType,
                       ArrayType, BuiltinType, Command, EnumMember, EnumType,
                       Event, Feature, Member, ObjectType, Type, Variant,
                       qtype_of)
from .error import QAPIError
from .parser import SchemaReader


class Schema:
    def __init__(self, fname):
        reader = SchemaReader(fname, set())
        self.free_docs = reader.free_docs
        self.entities = []      # definitions in schema order
        self.types = {}
        for name in BUILTINS:
            self.types[name] = BuiltinType(name)
        self.builtins = [self.types[n] for n in BUILTINS]
        self.defined = {}
        for expr in reader.exprs:
            self._define(expr)
        for ent in self.entities:
            self._resolve(ent)
        for ent in self.entities:
            self._check_doc(ent)

    # --- building definitions -----------------------------------------

    def _define(self, exp):
        expr, info = exp.expr, exp.info
        metas = [k for k in META_KEYS if k in expr]
        if len(metas) != 1:
            raise QAPIError(info, "expression must have exactly one key "
                            "'enum', 'struct', 'union', 'alternate', "
                            "'command', 'event'")
        meta = metas[0]
        name = expr[meta]
        if not isinstance(name, str):
            raise QAPIError(info, "'%s' requires a string name" % meta)
        info.set_defn(meta, name)
        required, optional = META_KEYS[meta]
        keys = set(expr) - {meta}
        missing = sorted(required - keys)
        if missing:
            raise QAPIError(info, "%s '%s' misses key '%s'"
                            % (meta, name, missing[0]))
        unknown = sorted(keys - required - optional)
        if unknown:
            raise QAPIError(info, "%s '%s' has unknown key '%s'"
                            % (meta, name, unknown[0]))
        self._check_defn_name(meta, name, info)
        if exp.doc is None:
            raise QAPIError(info, "documentation comment required")
        if exp.doc.symbol != name:
            raise QAPIError(info, "definition of '%s' follows documentation"
                            " for '%s'" % (name, exp.doc.symbol))
        features = self._features(expr.get('features', []), info)
        getattr(self, '_define_' + meta)(name, expr, info, exp.doc,
                                         features)

    @staticmethod
    def _check_defn_name(meta, name, info):
        if not NAME_RE.match(name):
            raise QAPIError(info, "%s name '%s' is invalid" % (meta, name))
        if name.startswith('q_') or name.startswith('q-'):
            raise QAPIError(info, "%s name '%s' uses reserved prefix 'q_'"
                            % (meta, name))
        if meta == 'command':
            if re.search('[A-Z]', name):
                raise QAPIError(info, "name of command '%s' must not use "
                                "uppercase" % name)
        elif meta == 'event':
            if re.search('[a-z-]', name):
                raise QAPIError(info, "name of event '%s' must not use "
                                "lowercase or '-'" % name)
        else:
            if not name[0].isupper() or '-' in name or '_' in name:
                raise QAPIError(info, "name of %s '%s' must use CamelCase"
                                % (meta, name))
            for suffix in ('List', 'Kind'):
                if name.endswith(suffix):
                    raise QAPIError(info, "%s name should not end in '%s'"
                                    % (meta, suffix))

    def _features(self, features, info):
        if not isinstance(features, list):
            raise QAPIError(info, "'features' must be an array")
        out = []
        for feat in features:
            if isinstance(feat, dict):
                if set(feat) != {'name'}:
                    raise QAPIError(info, "feature must have exactly the "
                                    "key 'name'")
                feat = feat['name']
            if not isinstance(feat, str):
                raise QAPIError(info, "feature requires a string name")
            if not re.match(r'[a-z][a-z0-9-]*$', feat):
                raise QAPIError(info, "feature name '%s' is invalid" % feat)
            if feat in [f.name for f in out]:
                raise QAPIError(info, "feature '%s' is duplicated" % feat)
            out.append(Feature(feat, info))
        return out

    def _add(self, ent):
        if ent.name in self.defined or ent.name in BUILTINS:
            raise QAPIError(ent.info, "'%s' is already defined" % ent.name)
        self.defined[ent.name] = ent
        if not ent.is_implicit():
            self.entities.append(ent)
        if isinstance(ent, Type):
            self.types[ent.name] = ent

    def _define_enum(self, name, expr, info, doc, features):
        data = expr['data']
        prefix = expr.get('prefix')
        if prefix is not None and not isinstance(prefix, str):
            raise QAPIError(info, "'prefix' must be a string")
        if not isinstance(data, list):
            raise QAPIError(info, "'data' must be an array")
        members = []
        seen = {}
        for item in data:
            mfeat = []
            if isinstance(item, dict):
                unknown = set(item) - {'name', 'features'}
                if 'name' not in item or unknown:
                    raise QAPIError(info, "enum member must have key 'name'"
                                    " and optionally 'features'")
                mfeat = self._features(item.get('features', []), info)
                item = item['name']
            if not isinstance(item, str):
                raise QAPIError(info, "enum member requires a string name")
            if not re.match(r'[A-Za-z0-9][A-Za-z0-9_.-]*$', item):
                raise QAPIError(info, "enum member '%s' has an invalid name"
                                % item)
            cname = c_name(item, False).upper()
            if cname in seen:
                raise QAPIError(info, "value '%s' collides with value '%s'"
                                % (item, seen[cname]))
            seen[cname] = item
            members.append(EnumMember(item, info, mfeat))
        self._add(EnumType(name, info, doc, members, prefix, features))

    def _members(self, data, info, what):
        if not isinstance(data, dict):
            raise QAPIError(info, "%s must be an object" % what)
        members = []
        for key, value in data.items():
            optional = key.startswith('*')
            mname = key[1:] if optional else key
            mfeat = []
            if isinstance(value, dict):
                unknown = set(value) - {'type', 'features'}
                if 'type' not in value or unknown:
                    raise QAPIError(info, "member '%s' must have key 'type' "
                                    "and optionally 'features'" % mname)
                mfeat = self._features(value.get('features', []), info)
                value = value['type']
            if not re.match(r'[a-z][a-z0-9_-]*$', mname):
                if re.match(r'[A-Za-z][A-Za-z0-9_-]*$', mname):
                    raise QAPIError(info, "name of member '%s' must not use"
                                    " uppercase" % mname)
                raise QAPIError(info, "member '%s' has an invalid name"
                                % mname)
            if mname.startswith('has-') or mname.startswith('has_'):
                raise QAPIError(info, "member '%s' uses reserved prefix "
                                "'has-'" % mname)
            members.append(Member(mname, self._type_ref(value, info,
                                                         "member '%s'"
                                                         % mname),
                                  optional, info, mfeat))
        return members

    def _type_ref(self, value, info, what):
        """A type name or ['name']; returns the name to resolve later."""
        if isinstance(value, list):
            if len(value) != 1 or not isinstance(value[0], str):
                raise QAPIError(info, "%s: array type must contain single "
                                "type name" % what)
            arr = ArrayType(value[0], info)
            return arr
        if not isinstance(value, str):
            raise QAPIError(info, "%s should be a type name" % what)
        return value

    def _implicit(self, name, data, info, what):
        obj = ObjectType(name, info, None, None,
                         self._members(data, info, what), [])
        self._add(obj)
        return name

    def _define_struct(self, name, expr, info, doc, features):
        base = expr.get('base')
        if base is not None and not isinstance(base, str):
            raise QAPIError(info, "'base' should be a type name")
        members = self._members(expr['data'], info, "'data'")
        self._add(ObjectType(name, info, doc, base, members, features))

    def _define_union(self, name, expr, info, doc, features):
        base = expr['base']
        if isinstance(base, dict):
            base = self._implicit('q_obj_%s_base' % name, base, info,
                                  "'base'")
        elif not isinstance(base, str):
            raise QAPIError(info, "'base' should be a type name or object")
        disc = expr['discriminator']
        if not isinstance(disc, str):
            raise QAPIError(info, "'discriminator' must be a string")
        data = expr['data']
        if not isinstance(data, dict):
            raise QAPIError(info, "'data' must be an object")
        variants = []
        for case, value in data.items():
            if isinstance(value, dict) and set(value) == {'type'}:
                value = value['type']
            if not isinstance(value, str):
                raise QAPIError(info, "branch '%s' should be a type name"
                                % case)
            variants.append(Variant(case, value, info))
        self._add(ObjectType(name, info, doc, base, [], features, disc,
                             variants))

    def _define_alternate(self, name, expr, info, doc, features):
        data = expr['data']
        if not isinstance(data, dict) or not data:
            raise QAPIError(info, "'data' must be a non-empty object")
        for key in data:
            if key.startswith('*'):
                raise QAPIError(info, "branch '%s' of an alternate must not "
                                "be optional" % key[1:])
            if isinstance(data[key], list):
                raise QAPIError(info, "branch '%s' of an alternate cannot "
                                "be an array" % key)
        members = self._members(data, info, "'data'")
        self._add(AlternateType(name, info, doc, members, features))

    def _define_command(self, name, expr, info, doc, features):
        for key in ('boxed', 'gen', 'success-response', 'allow-oob',
                    'allow-preconfig', 'coroutine'):
            if key in expr and not isinstance(expr[key], bool):
                raise QAPIError(info, "'%s' must be a boolean" % key)
        data = expr.get('data')
        if isinstance(data, dict):
            if expr.get('boxed'):
                raise QAPIError(info, "'data' for command '%s' must be a "
                                "type name when 'boxed': true" % name)
            data = self._implicit('q_obj_%s_arg' % c_name(name), data,
                                  info, "'data'")
        elif data is not None and not isinstance(data, str):
            raise QAPIError(info, "'data' should be an object or type name")
        elif expr.get('boxed') and data is None:
            raise QAPIError(info, "'boxed': true requires 'data'")
        rets = expr.get('returns')
        if rets is not None:
            rets = self._type_ref(rets, info, "'returns'")
        self._add(Command(name, info, doc, data, rets, expr, features))

    def _define_event(self, name, expr, info, doc, features):
        data = expr.get('data')
        if 'boxed' in expr and not isinstance(expr['boxed'], bool):
            raise QAPIError(info, "'boxed' must be a boolean")
        if isinstance(data, dict):
            if expr.get('boxed'):
                raise QAPIError(info, "'data' for event '%s' must be a "
                                "type name when 'boxed': true" % name)
            data = self._implicit('q_obj_%s_arg' % c_name(name), data,
                                  info, "'data'")
        elif data is not None and not isinstance(data, str):
            raise QAPIError(info, "'data' should be an object or type name")
        self._add(Event(name, info, doc, data, expr.get('boxed', False),
                        features))

    # --- resolving names ----------------------------------------------

    def lookup(self, ref, info, what):
        if isinstance(ref, ArrayType):
            if ref.name in self.types:
                return self.types[ref.name]
            ref.element = self.lookup(ref.element_name, info, what)
            self.types[ref.name] = ref
            return ref
        typ = self.types.get(ref)
        if typ is None:
            if ref in self.defined:
                raise QAPIError(info, "%s uses %s '%s' where a type is "
                                "expected" % (what, self.defined[ref].meta,
                                              ref))
            raise QAPIError(info, "%s uses unknown type '%s'" % (what, ref))
        return typ

    def _struct_ref(self, ref, info, what, allow_union=False):
        typ = self.lookup(ref, info, what)
        if not isinstance(typ, ObjectType) or \
           (typ.is_union() and not allow_union):
            raise QAPIError(info, "%s requires a struct type, %s isn't"
                            % (what, typ.describe()))
        self._resolve(typ)
        return typ

    def _resolve(self, ent):
        if isinstance(ent, ObjectType):
            self._resolve_object(ent)
        elif isinstance(ent, AlternateType):
            self._resolve_alternate(ent)
        elif isinstance(ent, Command):
            self._resolve_command(ent)
        elif isinstance(ent, Event):
            if ent.arg_type_name:
                ent.arg_type = self._struct_ref(ent.arg_type_name, ent.info,
                                                "'data'", ent.boxed)
                ent.doc_members = [m.name
                                   for m in ent.arg_type.all_members()]

    def _resolve_alternate(self, alt):
        seen = {}
        for member in alt.members:
            what = "branch '%s'" % member.name
            member.type = self.lookup(member.type_name, alt.info, what)
            qtype = qtype_of(member.type)
            if qtype is None:
                raise QAPIError(alt.info, "%s cannot use %s" % (
                    what, member.type.describe() if not
                    member.type.is_builtin() else "built-in type '%s'"
                    % member.type.name))
            if qtype in seen:
                raise QAPIError(alt.info, "%s can't be distinguished from "
                                "'%s'" % (what, seen[qtype]))
            seen[qtype] = member.name
            if isinstance(member.type, ObjectType):
                self._resolve_object(member.type)

    def _resolve_object(self, obj):
        if obj.checked is True:
            return
        if obj.checked == 'busy':
            raise QAPIError(obj.info, "object '%s' contains itself"
                            % obj.name)
        obj.checked = 'busy'
        if obj.base_name:
            obj.base = self._struct_ref(obj.base_name, obj.info, "'base'")
        for member in obj.local_members:
            member.type = self.lookup(member.type_name, member.info,
                                      member.describe())
        seen = {}
        inherited = obj.base.all_members() if obj.base else []
        for member in obj.all_members():
            cname = member.c_name()
            if cname in seen:
                where = ''
                if seen[cname] in [m.name for m in inherited] and \
                        not obj.base.is_implicit():
                    where = " of type '%s'" % obj.base.name
                raise QAPIError(obj.info, "member '%s' collides with member"
                                " '%s'%s" % (member.name, seen[cname], where))
            seen[cname] = member.name
        if obj.is_union():
            self._resolve_union(obj, seen)
        obj.checked = True

    def _resolve_union(self, obj, seen):
        tag = None
        for member in obj.all_members():
            if member.name == obj.discriminator:
                tag = member
        if tag is None:
            raise QAPIError(obj.info, "discriminator '%s' is not a member "
                            "of 'base'" % obj.discriminator)
        if not isinstance(tag.type, EnumType):
            raise QAPIError(obj.info, "discriminator member '%s' of 'base' "
                            "must be of enum type" % tag.name)
        if tag.optional:
            raise QAPIError(obj.info, "discriminator member '%s' of 'base' "
                            "must not be optional" % tag.name)
        obj.tag_member = tag
        if 'u' in seen:
            raise QAPIError(obj.info, "member 'u' collides with the storage "
                            "of the union's branches")
        values = [m.name for m in tag.type.members]
        for var in obj.variants:
            if var.case not in values:
                raise QAPIError(obj.info, "branch '%s' is not a value of "
                                "enum type '%s'" % (var.case,
                                                    tag.type.name))
            what = "branch '%s'" % var.case
            var.type = self._struct_ref(var.type_name, obj.info, what)
            for member in var.type.all_members():
                if member.c_name() in seen:
                    raise QAPIError(obj.info, "member '%s' of %s collides "
                                    "with member '%s' of 'base'"
                                    % (member.name, what,
                                       seen[member.c_name()]))

    def _resolve_command(self, cmd):
        if cmd.arg_type_name:
            cmd.arg_type = self._struct_ref(cmd.arg_type_name, cmd.info,
                                            "'data'", cmd.boxed)
            cmd.doc_members = [m.name for m in cmd.arg_type.all_members()]
        if cmd.ret_type_name:
            cmd.ret_type = self.lookup(cmd.ret_type_name, cmd.info,
                                       "'returns'")
            if not isinstance(cmd.ret_type, (ObjectType, ArrayType)):
                raise QAPIError(cmd.info, "'returns' for command '%s' "
                                "cannot use %s" % (cmd.name,
                                                   cmd.ret_type.describe()
                                                   if not cmd.ret_type
                                                   .is_builtin() else
                                                   "built-in type '%s'"
                                                   % cmd.ret_type.name))

    # --- documentation ------------------------------------------------

    def _check_doc(self, ent):
        if isinstance(ent, (EnumType, AlternateType)):
            members = [m.name for m in ent.members]
        elif isinstance(ent, ObjectType):
            members = [m.name for m in ent.local_members]
            if ent.base and ent.base.is_implicit():
                members += [m.name for m in ent.base.all_members()]
        else:
            members = getattr(ent, 'doc_members', [])
            if getattr(ent, 'boxed', False):
                members = []
        features = [f.name for f in ent.features]
        if isinstance(ent, (EnumType, ObjectType, AlternateType)):
            for member in getattr(ent, 'members', None) or \
                    getattr(ent, 'local_members', []):
                features += [f.name for f in member.features]
        if isinstance(ent, (Command, Event)) and ent.arg_type and \
                ent.arg_type.is_implicit():
            for member in ent.arg_type.local_members:
                features += [f.name for f in member.features]
        ent.doc.check(members, features)
