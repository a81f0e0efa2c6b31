#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Summarise meson test runs by test case, not by test program.

    test-summary.py LABEL BUILD_DIR...
    test-summary.py --total LABEL BUILD_DIR...

Reads BUILD_DIR/meson-logs/testlog.json (one JSON object per test
program, with its stdout and stderr) and counts the cases each program
reports itself:

- cmocka: per group "[==========] Running N test(s).", then
  "[  PASSED  ] N test(s)." and "[  SKIPPED ] N test(s), listed
  below:"; groups are summed.  Every case that ran without passing or
  skipping failed: cmocka 1.1 lists failed cases on a "[  FAILED  ]"
  line but leaves out the ones whose setup failed, and after a failed
  group setup it runs none, so the count is "Running" minus passed
  minus skipped.  A group whose program died before its summary counts
  all of its cases as failed.
- Python unittest: "Ran N tests", then "OK", "OK (skipped=N)" or
  "FAILED (failures=N, errors=N, skipped=N)".
- Anything else counts as one case with meson's result: the fuzz
  driver, tests/unit/qapi/test-qapi-schema.py (which checks every
  schema and prints one line of totals, not cases), and a program that
  skipped as a whole (exit status 77).

A program meson saw fail (crash, sanitizer report at exit, timeout, or
a failed cmocka group teardown) while no case of its own failed has
one passed case counted as failed instead (or one more failed case if
none passed): a failed program is never reported as all passed.

Cases that skip say why on a line "SKIP: needs REQUIREMENT"
(TEST_REQUIRE in tests/lib/test-require.h); each distinct requirement
is printed once with the number of cases it skipped.

The full report is one line per suite, "LABEL SUITE: N passed, N failed,
N skipped (P programs)", the unmet requirements, and the closing line
"LABEL: N passed, N failed, N skipped" over the cases of every
BUILD_DIR.  With --total only the closing line is printed.  Exits 1 if
any case failed or none passed.
"""

import collections
import json
import re
import sys

CMOCKA_RUNNING = re.compile(r"^\[==========\] Running (\d+) test\(s\)\.", re.M)
CMOCKA_PASSED = re.compile(r"^\[  PASSED  \] (\d+) test\(s\)\.", re.M)
CMOCKA_SKIPPED = re.compile(
    r"^\[  SKIPPED \] (\d+) test\(s\), listed below:", re.M)
CMOCKA_TEARDOWN_FAILED = re.compile(r"^\[  FAILED  \] GROUP TEARDOWN", re.M)
UNITTEST_RAN = re.compile(r"^Ran (\d+) tests? in ", re.M)
UNITTEST_RESULT = re.compile(r"^(OK|FAILED)(?: \(([^)]*)\))?\s*$", re.M)
REQUIREMENT = re.compile(r"^SKIP: needs (.+?)\s*$", re.M)

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


def suites_of(rec):
    """meson 1.0 names tests "project:suite / name"."""
    if rec.get("suite"):
        return [s.split(":")[-1] for s in rec["suite"]]
    head = rec["name"].split(" / ")[0]
    return [head.split(":")[-1]] if ":" in head else ["-"]


def cmocka_cases(out):
    """Case counts from cmocka's group summaries, or None."""
    if not CMOCKA_RUNNING.search(out):
        return None
    running = sum(int(n) for n in CMOCKA_RUNNING.findall(out))
    passed = sum(int(n) for n in CMOCKA_PASSED.findall(out))
    skipped = sum(int(n) for n in CMOCKA_SKIPPED.findall(out))
    return collections.Counter({PASSED: passed, SKIPPED: skipped,
                                FAILED: max(running - passed - skipped, 0)})


def unittest_cases(out):
    """Case counts from unittest's closing lines, or None."""
    ran = UNITTEST_RAN.search(out)
    if not ran:
        return None
    counts = collections.Counter()
    result = UNITTEST_RESULT.search(out, ran.end())
    if result and result.group(2):
        for item in result.group(2).split(","):
            key, _, value = item.strip().partition("=")
            counts[key] = int(value)
    total = int(ran.group(1))
    failed = (counts["failures"] + counts["errors"]
              + counts["unexpected successes"])
    if not result:
        # The summary never came: whatever did not report ran badly.
        failed = total
    skipped = min(counts["skipped"], total - failed)
    return collections.Counter({PASSED: total - failed - skipped,
                                SKIPPED: skipped, FAILED: failed})


def program_cases(rec):
    """Case counts of one test program, and its unmet requirements."""
    out = (rec.get("stdout") or "") + (rec.get("stderr") or "")
    program_ok = rec["result"] in ("OK", "EXPECTEDFAIL", "SKIP")
    cases = cmocka_cases(out)
    if cases is None:
        cases = unittest_cases(out)
    if cases is None:
        kind = {"OK": PASSED, "EXPECTEDFAIL": PASSED,
                "SKIP": SKIPPED}.get(rec["result"], FAILED)
        cases = collections.Counter({kind: 1})
    if CMOCKA_TEARDOWN_FAILED.search(out):
        program_ok = False
    if not program_ok and not cases[FAILED]:
        if cases[PASSED]:
            cases[PASSED] -= 1
        cases[FAILED] += 1
    return cases, collections.Counter(REQUIREMENT.findall(out))


def plural(n, noun):
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def counts_line(label, c):
    return (f"{label}: {c[PASSED]} passed, {c[FAILED]} failed, "
            f"{c[SKIPPED]} skipped")


def main(argv):
    total_only = bool(argv) and argv[0] == "--total"
    if total_only:
        argv = argv[1:]
    if len(argv) < 2:
        sys.exit("usage: test-summary.py [--total] LABEL BUILD_DIR...")
    label, build_dirs = argv[0], argv[1:]
    suites = collections.defaultdict(collections.Counter)
    programs = collections.Counter()
    needs = collections.Counter()
    total = collections.Counter()
    for build_dir in build_dirs:
        with open(f"{build_dir}/meson-logs/testlog.json",
                  encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                cases, unmet = program_cases(rec)
                for suite in suites_of(rec):
                    suites[suite].update(cases)
                    programs[suite] += 1
                total.update(cases)
                needs.update(unmet)
    if not total_only:
        for suite in sorted(suites):
            print(f"{counts_line(f'{label} {suite}', suites[suite])} "
                  f"({plural(programs[suite], 'program')})")
        for requirement, n in needs.most_common():
            print(f"{label} needs {requirement}: "
                  f"{plural(n, 'case')} skipped")
        unexplained = total[SKIPPED] - sum(needs.values())
        if unexplained > 0:
            print(f"{label} needs something it did not name: "
                  f"{plural(unexplained, 'case')} skipped")
    print(counts_line(label, total))
    if total[FAILED] or not total[PASSED]:
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
