#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Checks of scripts/tracetool.py: error reports and generated code.

usage: test-tracetool.py TRACETOOL SOURCE_ROOT CC [CC_ARGS...]
"""

import glob
import itertools
import os
import re
import subprocess
import sys
import tempfile
import unittest

TRACETOOL = None
SOURCE_ROOT = None
CC = None
HERE = os.path.dirname(os.path.abspath(__file__))
STRICT_FLAGS = ['-std=gnu11', '-Wall', '-Wextra', '-Werror', '-O2']
SANITIZE_FLAGS = ['-fsanitize=address,undefined']


def run_tracetool(*args):
    return subprocess.run([sys.executable, TRACETOOL, *args],
                          capture_output=True, text=True, check=False)


def have_sdt():
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, 'sdt.c')
        with open(src, 'w', encoding='utf-8') as f:
            f.write('#include <sys/sdt.h>\n')
        res = subprocess.run([*CC, '-c', src, '-o', os.path.join(tmp, 'o')],
                             capture_output=True, check=False)
        return res.returncode == 0


def cc_accepts(flags):
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, 'empty.c')
        with open(src, 'w', encoding='utf-8') as f:
            f.write('int main(void) { return 0; }\n')
        res = subprocess.run([*CC, *flags, src, '-o', os.path.join(tmp, 'a')],
                             capture_output=True, check=False)
        return res.returncode == 0


class BadInput(unittest.TestCase):
    """Each file in bad/ starts with "# expect: LINE: message"."""

    def test_bad_files(self):
        files = sorted(glob.glob(os.path.join(HERE, 'bad', '*.trace-events')))
        self.assertGreater(len(files), 10)
        for path in files:
            with self.subTest(file=os.path.basename(path)):
                with open(path, encoding='utf-8') as f:
                    first = f.readline()
                m = re.match(r'# expect: (.*)$', first)
                self.assertIsNotNone(m, 'missing "# expect:" line')
                res = run_tracetool('--backends', 'log,dtrace', path)
                self.assertEqual(res.returncode, 1)
                self.assertEqual(res.stderr, f'{path}:{m.group(1)}\n')
                self.assertEqual(res.stdout, '')

    def test_missing_file(self):
        res = run_tracetool('/nonexistent/trace-events')
        self.assertEqual(res.returncode, 1)
        self.assertRegex(res.stderr,
                         r'^/nonexistent/trace-events: cannot read: ')

    def test_unknown_backend(self):
        res = run_tracetool('--backends', 'log,simple',
                            os.path.join(HERE, 'test-trace-events'))
        self.assertEqual(res.returncode, 2)
        self.assertIn("unknown backend 'simple'", res.stderr)

    def test_no_output_on_error(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, 't.h')
            res = run_tracetool('--header', out, os.path.join(
                HERE, 'bad', 'count.trace-events'))
            self.assertEqual(res.returncode, 1)
            self.assertFalse(os.path.exists(out))

    def test_good_lines(self):
        text = ('# x.c\n\n'
                'a(void) "no args 100%%"\n'
                'b(const char*s, char *t) "%s %-10s"  \n'
                'c(uint64_t v, int w) "v=%" PRIu64 " w=%d"\n'
                'd(int w, int v) "%*d"\n'
                'disable e(const void *p, uintptr_t u) "%p %" PRIxPTR\n')
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, 'ev')
            with open(src, 'w', encoding='utf-8') as f:
                f.write(text)
            res = run_tracetool(src)
            self.assertEqual((res.returncode, res.stderr), (0, ''))


class Generated(unittest.TestCase):
    """Generated code compiles warning-free for every backend set."""

    CALLS = '''
#include <stddef.h>
#include "gen.h"
int main(void)
{
    int x = 1;
    trace_test_void();
    trace_test_int(x);
    trace_test_string("s", 2u);
    trace_test_u64(UINT64_C(1) << 40, sizeof(x));
    trace_test_pointer(&x, true);
    trace_test_other_a(-1, 2, 3L, 4LL, -5);
    trace_test_other_b(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
    trace_test_compiled_out(x);
    return 0;
}
'''

    def generate(self, tmp, events, backends):
        res = run_tracetool('--backends', ','.join(backends),
                            '--group', 'gen',
                            '--header', os.path.join(tmp, 'gen.h'),
                            '--source', os.path.join(tmp, 'gen.c'), events)
        self.assertEqual((res.returncode, res.stderr), (0, ''))

    def compile(self, tmp, src, flags):
        res = subprocess.run(
            [*CC, *flags, '-I', os.path.join(SOURCE_ROOT, 'include'),
             '-I', tmp, '-c', src, '-o', src + '.o'],
            capture_output=True, text=True, check=False)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stderr, '')

    def backend_sets(self):
        backends = ['log', 'dtrace'] if have_sdt() else ['log']
        for n in range(len(backends) + 1):
            yield from itertools.combinations(backends, n)

    def flag_sets(self):
        yield STRICT_FLAGS
        if cc_accepts(SANITIZE_FLAGS):
            yield STRICT_FLAGS + SANITIZE_FLAGS

    def check(self, events, with_calls):
        for backends, flags in itertools.product(self.backend_sets(),
                                                 self.flag_sets()):
            with self.subTest(backends=backends, flags=flags), \
                 tempfile.TemporaryDirectory() as tmp:
                self.generate(tmp, events, backends)
                self.compile(tmp, os.path.join(tmp, 'gen.c'), flags)
                if with_calls:
                    calls = os.path.join(tmp, 'calls.c')
                    with open(calls, 'w', encoding='utf-8') as f:
                        f.write(self.CALLS)
                    self.compile(tmp, calls, flags)

    def test_zero_events(self):
        with tempfile.TemporaryDirectory() as tmp:
            events = os.path.join(tmp, 'empty-events')
            with open(events, 'w', encoding='utf-8') as f:
                f.write('# nothing here yet\n\n')
            self.check(events, False)

    def test_all_types(self):
        self.check(os.path.join(HERE, 'test-trace-events'), True)

    def test_probe_and_log_calls(self):
        with tempfile.TemporaryDirectory() as tmp:
            self.generate(tmp, os.path.join(HERE, 'test-trace-events'),
                          ['log', 'dtrace'])
            with open(os.path.join(tmp, 'gen.h'), encoding='utf-8') as f:
                text = f.read()
        self.assertIn('STAP_PROBE2(colo_vm, test_string, name, idx);', text)
        self.assertIn('STAP_PROBE(colo_vm, test_void);', text)
        self.assertIn('trace_log_event("test_u64", "offset=0x%" PRIx64 '
                      '" len=%zu" "\\n", offset, len);', text)
        compiled_out = text[text.index('trace_test_compiled_out('):]
        compiled_out = compiled_out[:compiled_out.index('}')]
        self.assertNotIn('STAP_PROBE', compiled_out)
        self.assertNotIn('trace_log_event', compiled_out)


def main():
    global TRACETOOL, SOURCE_ROOT, CC
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    TRACETOOL, SOURCE_ROOT = sys.argv[1], sys.argv[2]
    CC = sys.argv[3:]
    prog = unittest.main(argv=[sys.argv[0], '-v'], exit=False)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main())
