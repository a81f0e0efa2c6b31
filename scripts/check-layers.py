#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Check that every product source includes only headers of its own
layer or of the layers below it (docs/devel/layout.md).

Usage: check-layers.py SOURCE_ROOT

Each .c file of the product belongs to one layer (its library, see the
top-level meson.build), and each included header belongs to the layer
that implements it.  A header of a higher layer is an upward
dependency: the file is named with the header, and the exit status is 1.
"""

import pathlib
import re
import sys

# Layer -> the layers it may use (itself included).
USES = {
    "util": {"util"},
    "qapi": {"util", "qapi"},
    "io": {"util", "io"},
    "chardev": {"util", "chardev"},
    "monitor": {"util", "qapi", "monitor"},
    "migration-core": {"util", "qapi", "io", "migration-core"},
    "system": {"util", "qapi", "io", "chardev", "migration-core", "system"},
}
USES["accel"] = USES["system"] | {"accel"}
USES["hw"] = USES["system"] | {"hw"}
USES["migration"] = USES["system"] | {"migration"}
USES["proxy"] = USES["migration"] | {"proxy"}
USES["main"] = set(USES) | {"main"}

MIGRATION_CORE = {"qemu-file", "vmstate", "vmstate-types", "savevm-register",
                  "register", "savevm-int"}
ACCEL = re.compile(r"^(kvm|tcg|qtest)")
MAIN = {"main", "cmdline"}


def layer_of_source(path):
    """The layer of a product .c file, from its folder and name."""
    folder, stem = path.parent.name, path.stem
    if folder == "trace":
        return "monitor" if stem == "qmp" else "util"
    if folder == "migration":
        return "migration-core" if stem in MIGRATION_CORE else "migration"
    if folder == "system":
        if stem in MAIN:
            return "main"
        if ACCEL.match(stem):
            return "accel"
        return "system"
    return folder


def layer_of_header(name, source_layer):
    """The layer of an included header; None for one of the same folder."""
    if "/" not in name:
        return None if name != "config-host.h" else "util"
    folder, stem = name.split("/", 1)
    stem = pathlib.PurePath(stem).stem
    if folder == "trace" or name == "qapi/error.h":
        return "util"
    if folder == "migration":
        return "migration-core" if stem in MIGRATION_CORE else "migration"
    if folder == "system":
        return "accel" if ACCEL.match(stem) else "system"
    return folder


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = pathlib.Path(sys.argv[1])
    include = re.compile(r'^#include "([^"]+)"', re.M)
    bad = []
    for folder in ("util", "trace", "qapi", "io", "chardev", "monitor",
                   "migration", "system", "hw", "proxy"):
        for path in sorted((root / folder).glob("*.c")):
            layer = layer_of_source(path)
            for name in include.findall(path.read_text(encoding="utf-8")):
                used = layer_of_header(name, layer)
                if used and used not in USES[layer]:
                    bad.append(f"{path.relative_to(root)}: {layer} includes "
                               f"\"{name}\" ({used})")
    for line in bad:
        print(line)
    print(f"{len(bad)} upward includes")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
