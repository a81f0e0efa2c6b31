# Thin wrapper around meson, in the spirit of QEMU's top-level Makefile.
#   make            configure and build (build/)
#   make check      install missing packages, build, run every test suite,
#                   then the same suites again under ASan+UBSan
#   make check-sanitizers   only the sanitizer run (build-san/)
#   make check-clang        the suites again, built by clang with its
#                   ASan+UBSan (build-clang/)
#   make check-fuzz the stream loader under libFuzzer for FUZZ_SECONDS
#                   (clang, build-clang/)
# make check runs check-build, check-sanitizers, check-clang, check-fuzz.
# Each build's tests end with scripts/test-summary.py's counts of test
# cases and what the skipped ones needed; the last line of make check,
# "check: N passed, N failed, N skipped", counts the cases of all three.
#   make bench      build, then run the benchmarks and print their figures
#   make demo       build, then COLO here: checkpoints, kill -9, failover

BUILD_DIR ?= build
SAN_DIR ?= build-san
CLANG_DIR ?= build-clang
FUZZ_SECONDS ?= 30
MESON ?= meson
NINJA ?= ninja
MESON_TEST_ARGS ?= --print-errorlogs

.PHONY: all deps build check check-build check-sanitizers check-clang \
	check-fuzz bench demo \
	clean distclean

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

$(CLANG_DIR)/build.ninja:
	CC=clang $(MESON) setup $(CLANG_DIR) -Dfuzzing=true \
	    -Db_sanitize=address,undefined -Db_lundef=false $(MESON_SETUP_ARGS)

check-clang: deps $(CLANG_DIR)/build.ninja
	$(NINJA) -C $(CLANG_DIR)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    $(MESON) test -C $(CLANG_DIR) $(MESON_TEST_ARGS)
	@python3 scripts/test-summary.py clang $(CLANG_DIR)

# Coverage-guided fuzzing of the stream loader, starting from the
# committed corpus plus a freshly written valid stream.  New inputs go to
# $(CLANG_DIR)/corpus, never into the source tree.
check-fuzz: deps $(CLANG_DIR)/build.ninja
	$(NINJA) -C $(CLANG_DIR) tests/fuzz/fuzz-loadvm \
	    tests/fuzz/fuzz-loadvm-libfuzzer
	rm -rf $(CLANG_DIR)/corpus && mkdir -p $(CLANG_DIR)/corpus
	cp tests/fuzz/corpus/loadvm/* $(CLANG_DIR)/corpus/
	$(CLANG_DIR)/tests/fuzz/fuzz-loadvm --write-seed \
	    $(CLANG_DIR)/corpus/seed --iterations 0
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    $(CLANG_DIR)/tests/fuzz/fuzz-loadvm-libfuzzer \
	    -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    $(CLANG_DIR)/corpus

check: check-build check-sanitizers check-clang check-fuzz
	@python3 scripts/test-summary.py --total check $(BUILD_DIR) $(SAN_DIR) \
	    $(CLANG_DIR)

bench: build
	$(MESON) test -C $(BUILD_DIR) --benchmark --verbose --num-processes 1

demo: build
	python3 scripts/colo-demo.py --build-dir $(BUILD_DIR)

clean:
	-$(NINJA) -C $(BUILD_DIR) clean
	-$(NINJA) -C $(SAN_DIR) clean
	-$(NINJA) -C $(CLANG_DIR) clean

distclean:
	rm -rf $(BUILD_DIR) $(SAN_DIR) $(CLANG_DIR)
