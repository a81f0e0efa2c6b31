# Thin wrapper around meson, in the spirit of QEMU's top-level Makefile.
#   make            configure and build (build/)
#   make check      install missing packages, build, run every test suite,
#                   then the same suites again under ASan+UBSan
#   make check-sanitizers   only the sanitizer run (build-san/)
#   make bench      build, then run the benchmarks and print their figures

BUILD_DIR ?= build
SAN_DIR ?= build-san
MESON ?= meson
NINJA ?= ninja
MESON_TEST_ARGS ?= --print-errorlogs

.PHONY: all deps build check check-build check-sanitizers bench clean distclean

all: build

deps:
	@sh scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	$(MESON) setup $(BUILD_DIR) $(MESON_SETUP_ARGS)

build: deps $(BUILD_DIR)/build.ninja
	$(NINJA) -C $(BUILD_DIR)

check-build: build
	$(MESON) test -C $(BUILD_DIR) $(MESON_TEST_ARGS)
	@python3 scripts/test-summary.py plain $(BUILD_DIR)

$(SAN_DIR)/build.ninja:
	$(MESON) setup $(SAN_DIR) -Db_sanitize=address,undefined \
	    -Db_lundef=false -Dbuildtype=debug $(MESON_SETUP_ARGS)

check-sanitizers: deps $(SAN_DIR)/build.ninja
	$(NINJA) -C $(SAN_DIR)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    $(MESON) test -C $(SAN_DIR) $(MESON_TEST_ARGS)
	@python3 scripts/test-summary.py sanitizers $(SAN_DIR)

check: check-build check-sanitizers

bench: build
	$(MESON) test -C $(BUILD_DIR) --benchmark --verbose --num-processes 1

clean:
	-$(NINJA) -C $(BUILD_DIR) clean
	-$(NINJA) -C $(SAN_DIR) clean

distclean:
	rm -rf $(BUILD_DIR) $(SAN_DIR)
