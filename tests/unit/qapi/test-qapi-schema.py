#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Run qapi-gen.py on every schema in tests/qapi-schema/.

bad-*.json must fail with exit status 1 and print exactly what the
matching bad-*.err holds; good-*.json and qapi-schema-test.json must
succeed silently, and their QMP reference must match the .md file
beside them when there is one.  The generator runs in the schema directory so the
file names in the messages do not depend on where the tree lives."""

import glob
import os
import subprocess
import sys
import tempfile


def run(qapi_gen, schema_dir, schema, outdir, extra=()):
    return subprocess.run([sys.executable, qapi_gen, '-o', outdir]
                          + list(extra) + [schema],
                          cwd=schema_dir, capture_output=True, text=True,
                          check=False)


def check_bad(qapi_gen, schema_dir, schema, outdir):
    errfile = os.path.join(schema_dir, schema[:-len('.json')] + '.err')
    try:
        with open(errfile, encoding='utf-8') as fobj:
            expected = fobj.read()
    except OSError:
        return ['%s: missing expected-error file %s' % (schema, errfile)]
    res = run(qapi_gen, schema_dir, schema, outdir)
    problems = []
    if res.returncode != 1:
        problems.append('%s: exit status %d, expected 1'
                        % (schema, res.returncode))
    if res.stderr != expected:
        problems.append('%s: got:\n%sexpected:\n%s'
                        % (schema, res.stderr, expected))
    if 'Traceback' in res.stderr:
        problems.append('%s: the generator crashed' % schema)
    return problems


def check_good(qapi_gen, schema_dir, schema, outdir):
    doc = os.path.join(outdir, 'doc.md')
    res = run(qapi_gen, schema_dir, schema, outdir,
              ['-p', 'good-', '--doc', doc])
    if res.returncode != 0 or res.stderr:
        return ['%s: failed (%d):\n%s' % (schema, res.returncode,
                                          res.stderr)]
    problems = []
    for kind in ('types', 'visit', 'commands', 'events', 'introspect'):
        for ext in ('.h', '.c'):
            path = os.path.join(outdir, 'good-qapi-%s%s' % (kind, ext))
            if not os.path.exists(path):
                problems.append('%s: %s not generated' % (schema, path))
    with open(doc, encoding='utf-8') as fobj:
        got = fobj.read()
    if not got:
        problems.append('%s: empty documentation' % schema)
    golden = os.path.join(schema_dir, schema[:-len('.json')] + '.md')
    if os.path.exists(golden):
        with open(golden, encoding='utf-8') as fobj:
            if fobj.read() != got:
                problems.append('%s: documentation differs from %s'
                                % (schema, golden))
    return problems


def main():
    qapi_gen, schema_dir = sys.argv[1], sys.argv[2]
    qapi_gen = os.path.abspath(qapi_gen)
    bad = sorted(os.path.basename(p)
                 for p in glob.glob(os.path.join(schema_dir, 'bad-*.json')))
    good = sorted(os.path.basename(p)
                  for p in glob.glob(os.path.join(schema_dir,
                                                  'good-*.json')))
    good.append('qapi-schema-test.json')
    problems = []
    with tempfile.TemporaryDirectory() as outdir:
        for schema in bad:
            problems += check_bad(qapi_gen, schema_dir, schema, outdir)
        for schema in good:
            problems += check_good(qapi_gen, schema_dir, schema, outdir)
    for problem in problems:
        print(problem)
    print('%d bad and %d good schemas checked, %d problems'
          % (len(bad), len(good), len(problems)))
    return 1 if problems or not bad else 0


if __name__ == '__main__':
    sys.exit(main())
