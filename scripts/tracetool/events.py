# SPDX-License-Identifier: GPL-2.0-or-later
"""The trace-events parser and its checks."""

import re

from tracetool import TraceError

# USDT probes (sys/sdt.h) take at most this many arguments.
MAX_PROBE_ARGS = 12
# TRACE_EVENT_NAME_MAX in include/trace/event.h
MAX_NAME_LEN = 128

PROPERTIES = ('disable',)

SCALAR_TYPES = frozenset([
    'bool', 'char', 'signed char', 'unsigned char',
    'short', 'short int', 'unsigned short', 'unsigned short int',
    'int', 'signed', 'signed int', 'unsigned', 'unsigned int',
    'long', 'long int', 'unsigned long', 'unsigned long int',
    'long long', 'long long int', 'unsigned long long',
    'unsigned long long int',
    'int8_t', 'int16_t', 'int32_t', 'int64_t',
    'uint8_t', 'uint16_t', 'uint32_t', 'uint64_t',
    'size_t', 'ssize_t', 'off_t', 'intptr_t', 'uintptr_t', 'pid_t',
])

# Only pointers may point at void.
POINTEE_TYPES = SCALAR_TYPES | {'void'}

C_KEYWORDS = frozenset('''
    auto break case char const continue default do double else enum extern
    float for goto if inline int long register restrict return short signed
    sizeof static struct switch typedef union unsigned void volatile while
    _Bool _Complex _Imaginary bool true false
'''.split())

IDENT = re.compile(r'[A-Za-z_][A-Za-z0-9_]*\Z')
EVENT_LINE = re.compile(
    r'(?P<head>[^(]*)\((?P<args>[^)]*)\)(?P<fmt>.*)\Z')
FMT_TOKEN = re.compile(r'''
    \s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<macro>PRI[diouxX](?:8|16|32|64|PTR|MAX|LEAST(?:8|16|32|64)
                              |FAST(?:8|16|32|64)))
    | (?P<bad>\S.*)
    )''', re.VERBOSE)
CONVERSION = re.compile(r'''
    %(?P<flags>[-+ #0']*)(?P<width>\*|\d+)?(?:\.(?P<prec>\*|\d*))?
    (?:hh|h|ll|l|j|z|t|L)?(?P<conv>[diouxXeEfFgGaAcsp%]|.|\Z)''',
                        re.VERBOSE)


class Arg:
    def __init__(self, ctype, name):
        self.ctype = ctype
        self.name = name

    def __str__(self):
        sep = '' if self.ctype.endswith('*') else ' '
        return f'{self.ctype}{sep}{self.name}'


class Event:
    def __init__(self, name, props, args, fmt, lineno):
        self.name = name
        self.props = props
        self.args = args
        self.fmt = fmt
        self.lineno = lineno

    @property
    def disabled(self):
        return 'disable' in self.props


def _normalize_type(text):
    """'const  char*' -> 'const char *'."""
    text = text.replace('*', ' * ')
    words = text.split()
    out = ''
    for word in words:
        if word == '*':
            out += ' *' if not out.endswith('*') else '*'
        else:
            out += (' ' if out else '') + word
    return out


def _check_type(ctype):
    """Return an error message if ctype is not allowed, else None."""
    stars = ctype.count('*')
    words = [w for w in ctype.replace('*', ' ').split() if w != 'const']
    base = ' '.join(words)
    if stars > 2:
        return f"type '{ctype}' has too many levels of pointers"
    allowed = POINTEE_TYPES if stars else SCALAR_TYPES
    if base not in allowed:
        return (f"unsupported argument type '{ctype}' (use an integer type, "
                "bool, size_t, const char * or a pointer)")
    return None


def _parse_arg(text):
    """'const char *name' -> Arg, or an error message string."""
    m = re.match(r'(?P<type>.*?)(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*\Z',
                 text.strip(), re.DOTALL)
    if not m or not m.group('type').strip():
        return f"argument '{text.strip()}' needs a type and a name"
    ctype = _normalize_type(m.group('type'))
    name = m.group('name')
    if name in C_KEYWORDS:
        return f"argument name '{name}' is a C keyword"
    err = _check_type(ctype)
    return err if err else Arg(ctype, name)


def _parse_args(text):
    """Return a list of Arg, or an error message string."""
    text = text.strip()
    if text in ('', 'void'):
        return []
    args = []
    for part in text.split(','):
        arg = _parse_arg(part)
        if isinstance(arg, str):
            return arg
        if any(a.name == arg.name for a in args):
            return f"duplicate argument name '{arg.name}'"
        args.append(arg)
    return args


def _macro_conversion(macro):
    """What a PRI* macro expands to, for counting conversions."""
    return 'll' + macro[3]


def _parse_format(text):
    """Return (C format text, printf template), or an error string."""
    parts = []
    template = ''
    has_literal = False
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = FMT_TOKEN.match(text, pos)
        if m.group('bad') is not None:
            bad = m.group('bad')
            if bad.startswith('"'):
                return 'unterminated string literal in format'
            return ('format must be a string literal, optionally joined '
                    f"with PRI* macros (found '{bad}')")
        if m.group('str') is not None:
            parts.append(m.group('str'))
            template += m.group('str')[1:-1]
            has_literal = True
        elif m.group('macro') is not None:
            parts.append(m.group('macro'))
            template += _macro_conversion(m.group('macro'))
        pos = m.end()
    if not has_literal:
        return 'missing format string'
    if template.endswith('\\n'):
        return 'format must not end with a newline'
    return ' '.join(parts), template


def _count_conversions(template):
    """Number of arguments a printf template consumes, or an error."""
    count = 0
    for m in CONVERSION.finditer(template):
        conv = m.group('conv')
        if conv == '%':
            continue
        if conv == 'n':
            return "format uses '%n'"
        if not conv or conv not in 'diouxXeEfFgGaAcsp':
            return f"bad conversion '{m.group(0)}' in format"
        count += 1 + (m.group('width') == '*') + (m.group('prec') == '*')
    return count


def _parse_head(head):
    """'disable name' -> (name, props), or an error string."""
    words = head.split()
    if not words:
        return 'missing event name'
    name, props = words[-1], words[:-1]
    for prop in props:
        if prop not in PROPERTIES:
            return f"unknown property '{prop}'"
    if not IDENT.match(name):
        return f"invalid event name '{name}'"
    if len(name) > MAX_NAME_LEN:
        return f'event name longer than {MAX_NAME_LEN} characters'
    return name, props


def parse_line(line):
    """Return an Event (without lineno), or an error message string."""
    m = EVENT_LINE.match(line.strip())
    if not m:
        return "expected 'name(type arg, ...) \"format\"'"
    head = _parse_head(m.group('head'))
    if isinstance(head, str):
        return head
    name, props = head
    args = _parse_args(m.group('args'))
    if isinstance(args, str):
        return args
    if len(args) > MAX_PROBE_ARGS:
        return (f"event '{name}' has {len(args)} arguments; USDT probes "
                f"allow at most {MAX_PROBE_ARGS}")
    fmt = _parse_format(m.group('fmt'))
    if isinstance(fmt, str):
        return fmt
    nconv = _count_conversions(fmt[1])
    if isinstance(nconv, str):
        return nconv
    if nconv != len(args):
        return (f'format has {nconv} conversion(s) but the event has '
                f'{len(args)} argument(s)')
    return Event(name, props, args, fmt[0], 0)


def read_events(path):
    """Parse a trace-events file; raise TraceError on the first problem."""
    try:
        with open(path, encoding='utf-8') as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise TraceError(path, None, f'cannot read: {e}') from e
    events = []
    seen = {}
    for lineno, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped or stripped.startswith('#'):
            continue
        ev = parse_line(stripped)
        if isinstance(ev, str):
            raise TraceError(path, lineno, ev)
        # The C names use the upper-case form: foo and FOO would clash.
        key = ev.name.upper()
        if key in seen:
            raise TraceError(path, lineno,
                             f"duplicate event '{ev.name}' (first defined "
                             f'at line {seen[key]})')
        ev.lineno = lineno
        seen[key] = lineno
        events.append(ev)
    return events
