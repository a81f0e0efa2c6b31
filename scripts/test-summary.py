#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Summarise a meson test run: tests per suite, then one closing line.

Reads BUILD_DIR/meson-logs/testlog.json (one JSON object per test) and
prints, per suite, how many test programs passed, failed and were skipped
and how many cases they ran, then "N passed, N failed, N skipped".
Exits 1 if any test failed or none ran.
"""

import collections
import json
import re
import sys

# Cases inside one test program: cmocka's and Python unittest's own counts.
CASES_RUN = (re.compile(r"^\[==========\] (\d+) test\(s\) run\.", re.M),
             re.compile(r"^Ran (\d+) tests? in", re.M))


def suite_of(rec):
    """meson 1.0 names tests "project:suite / name"."""
    if rec.get("suite"):
        return [s.split(":")[-1] for s in rec["suite"]]
    head = rec["name"].split(" / ")[0]
    return [head.split(":")[-1]] if ":" in head else ["-"]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: test-summary.py LABEL BUILD_DIR")
    label, build_dir = sys.argv[1], sys.argv[2]
    counts = collections.defaultdict(collections.Counter)
    cases = collections.Counter()
    total = collections.Counter()
    with open(f"{build_dir}/meson-logs/testlog.json", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            result = rec["result"]
            if result in ("OK", "EXPECTEDFAIL"):
                kind = "passed"
            elif result == "SKIP":
                kind = "skipped"
            else:
                kind = "failed"
            out = (rec.get("stdout") or "") + (rec.get("stderr") or "")
            ran = sum(int(n) for pat in CASES_RUN for n in pat.findall(out))
            for suite in suite_of(rec):
                counts[suite][kind] += 1
                cases[suite] += ran
            total[kind] += 1
    for suite in sorted(counts):
        c = counts[suite]
        print(f"{label} {suite}: {c['passed']} passed, {c['failed']} failed,"
              f" {c['skipped']} skipped ({cases[suite]} cases)")
    print(f"{label}: {total['passed']} passed, {total['failed']} failed, "
          f"{total['skipped']} skipped")
    if total["failed"] or not total["passed"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
