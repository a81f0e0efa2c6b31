# SPDX-License-Identifier: GPL-2.0-or-later
"""How schema names become C identifiers."""

import re

C_KEYWORDS = frozenset('''
    auto break case char const continue default do double else enum extern
    float for goto if inline int long register restrict return short signed
    sizeof static struct switch typedef union unsigned void volatile while
    _Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary _Noreturn
    _Static_assert _Thread_local bool true false asm typeof errno unix
'''.split())


def c_name(name, protect=True):
    """'query-version' -> 'query_version'; C keywords get a 'q_' prefix."""
    name = re.sub(r'[^A-Za-z0-9_]', '_', name)
    if protect and (name in C_KEYWORDS or name[0].isdigit()):
        return 'q_' + name
    return name


def camel_to_upper(name):
    """'QMPCapability' -> 'QMP_CAPABILITY', 'ShutdownCause' ->
    'SHUTDOWN_CAUSE': a word starts at an upper-case letter followed by
    a lower-case one, or at an upper-case letter after a digit."""
    cname = c_name(name, False)
    if cname.isupper():
        return cname
    out = []
    for i, char in enumerate(cname):
        if i > 0 and char.isupper() and cname[i - 1] != '_':
            starts_word = (i + 1 < len(cname) and cname[i + 1].islower())
            if starts_word or cname[i - 1].isdigit():
                out.append('_')
        out.append(char)
    return ''.join(out).lstrip('_').upper()


def c_enum_const(type_name, member, prefix=None):
    if prefix is None:
        prefix = camel_to_upper(type_name)
    return prefix + '_' + c_name(member, False).upper()
