#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Summarise a meson test run: tests per suite, then one closing line.

Reads BUILD_DIR/meson-logs/testlog.json (one JSON object per test) and
prints, per suite, how many tests passed, failed and were skipped, then
"N passed, N failed, N skipped".  Exits 1 if any test failed or none ran.
"""

import collections
import json
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: test-summary.py LABEL BUILD_DIR")
    label, build_dir = sys.argv[1], sys.argv[2]
    counts = collections.defaultdict(collections.Counter)
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
            suites = [s.split(":")[-1] for s in rec.get("suite", [])] or ["-"]
            for suite in suites:
                counts[suite][kind] += 1
            total[kind] += 1
    for suite in sorted(counts):
        c = counts[suite]
        print(f"{label} {suite}: {c['passed']} passed, {c['failed']} failed,"
              f" {c['skipped']} skipped")
    print(f"{label}: {total['passed']} passed, {total['failed']} failed, "
          f"{total['skipped']} skipped")
    if total["failed"] or not total["passed"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
