# libloyalty — GNU make, gcc or clang.
#
#   make            library (shared + static), the `loyalty` program, loyalty.pc
#   make deps       install build and test dependencies from Debian's packages
#   make test       the cmocka suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make install    PREFIX=/usr/local (DESTDIR honoured)
#   make clean

PREFIX      ?= /usr/local
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

CC          ?= cc
BUILD       ?= build
# The shared specification (policies, vectors) lives beside the checkout.
SPEC_DIR    ?= $(abspath ../shared/spec)

VERSION     := 1.0.0
SOMAJOR     := 1
SONAME      := libloyalty.so.$(SOMAJOR)
SHLIB       := libloyalty.so.$(VERSION)

PKG_CFLAGS  := $(shell pkg-config --cflags yaml-0.1 2>/dev/null)
PKG_LIBS    := $(shell pkg-config --libs yaml-0.1 2>/dev/null || echo -lyaml)

WARN        := -Wall -Wextra -Wshadow -Wconversion -Wsign-conversion -Wstrict-prototypes \
               -Wmissing-prototypes -Wno-missing-field-initializers -Wformat=2 -Wvla
OPT         ?= -O2 -g
CSTD        := -std=c11 -D_POSIX_C_SOURCE=200809L
CPPFLAGS    += -Iinclude -Ilib $(PKG_CFLAGS) -DXXH_INLINE_ALL
BASE_CFLAGS := $(CSTD) $(WARN) $(OPT) -fvisibility=hidden
CFLAGS      ?=

LIB_SRC     := $(sort $(wildcard lib/*.c lib/*/*.c))
CLI_SRC     := $(sort $(wildcard cli/*.c))
TEST_SRC    := $(sort $(wildcard tests/test_*.c))
TEST_SUPPORT := $(sort $(wildcard tests/support/*.c))

LIB_OBJ     := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
PIC_OBJ     := $(LIB_SRC:%.c=$(BUILD)/pic/%.o)
CLI_OBJ     := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)

SAN_FLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_OBJ     := $(LIB_SRC:%.c=$(BUILD)/san/%.o)
SAN_SUPPORT := $(TEST_SUPPORT:%.c=$(BUILD)/san/%.o)
TEST_BIN    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: all lib cli test check-header deps install uninstall clean test-bin demo check examples bindings-test model-test spark-test

# The README's two commands.
#   make demo   set up, build, and replay a bundled member's year under a bundled policy
#   make check  set up, build, and run every test
demo: deps all
	@echo "== loyalty check examples/data/apparel.yaml"
	@$(BUILD)/loyalty check examples/data/apparel.yaml
	@echo "== loyalty replay examples/data/apparel.yaml examples/data/apparel-year.jsonl"
	@$(BUILD)/loyalty replay examples/data/apparel.yaml examples/data/apparel-year.jsonl

check: deps
	$(MAKE) all
	$(MAKE) test
	$(MAKE) examples
	$(MAKE) bindings-test
	$(MAKE) model-test
	$(MAKE) test-install
	$(MAKE) schema-test
	$(MAKE) pos-test
	$(MAKE) docs
	$(MAKE) tsan
	$(MAKE) abi-check
	$(MAKE) fuzz-smoke
	$(MAKE) bench-smoke
	$(MAKE) spark-test

# PySpark local[2]: the population job equals `loyalty simulate` and `loyalty replay`.
spark-test: all
	BUILD=$(BUILD) bash scripts/spark-test.sh

# The independent Python models of POLICY.md (tests/model/) against `loyalty replay`.
model-test: all
	BUILD=$(BUILD) SPEC_DIR=$(SPEC_DIR) bash scripts/model-test.sh

# Python (pytest) and Go (go test -race) bindings, each replaying the shared vectors and tests/spec/.
bindings-test: lib
	BUILD=$(BUILD) bash bindings/run-tests.sh

# The examples build against the library like any caller would.
examples: lib
	@mkdir -p $(BUILD)/examples
	$(CC) -std=c99 -Wall -Wextra -Werror -Iinclude examples/checkout.c -o $(BUILD)/examples/checkout \
	    $(BUILD)/libloyalty.a $(PKG_LIBS)
	$(BUILD)/examples/checkout examples/data/apparel.yaml > $(BUILD)/examples/checkout.out
	@grep -q '"type": *"points"' $(BUILD)/examples/checkout.out || { cat $(BUILD)/examples/checkout.out; echo "examples: checkout printed no points effect"; exit 1; }
	@echo "examples: checkout ok"

all: lib cli $(BUILD)/loyalty.pc

lib: $(BUILD)/$(SHLIB) $(BUILD)/libloyalty.a

cli: $(BUILD)/loyalty

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(BASE_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(BASE_CFLAGS) $(CFLAGS) -fPIC -MMD -MP -c $< -o $@

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(BASE_CFLAGS) $(SAN_FLAGS) $(CFLAGS) -DLOY_SPEC_DIR='"$(SPEC_DIR)"' -MMD -MP -c $< -o $@

$(BUILD)/$(SHLIB): $(PIC_OBJ) lib/libloyalty.vers
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=lib/libloyalty.vers \
	    -Wl,--no-undefined -o $@ $(PIC_OBJ) $(PKG_LIBS) $(LDFLAGS)
	ln -sf $(SHLIB) $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $(BUILD)/libloyalty.so

$(BUILD)/libloyalty.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/loyalty: $(CLI_OBJ) $(BUILD)/libloyalty.a
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libloyalty.a $(PKG_LIBS) -pthread $(LDFLAGS)

$(BUILD)/loyalty.pc: loyalty.pc.in Makefile
	@mkdir -p $(BUILD)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' $< > $@

# ------------------------------------------------------------------ tests
# Every tests/test_*.c is one cmocka program, linked with the library built
# under ASan+UBSan (and the CLI objects when it needs them: tests run the
# `loyalty` program as a process through LOY_CLI).

$(BUILD)/san/libloyalty.a: $(SAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/san/loyalty: $(CLI_SRC:%.c=$(BUILD)/san/%.o) $(BUILD)/san/libloyalty.a
	$(CC) $(BASE_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS) -pthread

$(BUILD)/tests/%: tests/%.c $(BUILD)/san/libloyalty.a $(SAN_SUPPORT) $(BUILD)/san/loyalty
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(BASE_CFLAGS) -Wno-missing-prototypes $(SAN_FLAGS) $(CFLAGS) \
	    -DLOY_SPEC_DIR='"$(SPEC_DIR)"' -DLOY_TEST_DIR='"$(abspath tests)"' \
	    -DLOY_CLI='"$(abspath $(BUILD)/san/loyalty)"' \
	    -MMD -MP -o $@ $< $(SAN_SUPPORT) $(BUILD)/san/libloyalty.a $(PKG_LIBS) -lcmocka

test-bin: $(TEST_BIN) check-header

test: test-bin
	@fail=0; for t in $(TEST_BIN); do \
	    echo "== $$t"; \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	        $$t || fail=1; \
	done; \
	if [ $$fail -ne 0 ]; then echo "make test: FAILED"; exit 1; fi; echo "make test: all suites passed"

# The public header compiles alone, pedantic C99 and C++.
check-header:
	@mkdir -p $(BUILD)
	printf '#include "loyalty.h"\nint main(void){return loy_version_number()>0?0:1;}\n' > $(BUILD)/header_check.c
	$(CC) -std=c99 -pedantic -Wall -Wextra -Werror -Iinclude -fsyntax-only $(BUILD)/header_check.c
	@if command -v c++ >/dev/null; then \
	    c++ -x c++ -std=c++11 -pedantic -Wall -Wextra -Werror -Iinclude -fsyntax-only $(BUILD)/header_check.c; fi

# ---------------------------------------------------------------- install

install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 include/loyalty.h $(DESTDIR)$(INCLUDEDIR)/loyalty.h
	install -m 755 $(BUILD)/$(SHLIB) $(DESTDIR)$(LIBDIR)/$(SHLIB)
	ln -sf $(SHLIB) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libloyalty.so
	install -m 644 $(BUILD)/libloyalty.a $(DESTDIR)$(LIBDIR)/libloyalty.a
	install -m 644 $(BUILD)/loyalty.pc $(DESTDIR)$(PKGCONFIGDIR)/loyalty.pc
	install -m 755 $(BUILD)/loyalty $(DESTDIR)$(BINDIR)/loyalty
	install -d $(DESTDIR)$(MANDIR)/man1
	install -m 644 man/loyalty.1 $(DESTDIR)$(MANDIR)/man1/loyalty.1

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/loyalty.h $(DESTDIR)$(LIBDIR)/$(SHLIB) \
	      $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libloyalty.so \
	      $(DESTDIR)$(LIBDIR)/libloyalty.a $(DESTDIR)$(PKGCONFIGDIR)/loyalty.pc \
	      $(DESTDIR)$(BINDIR)/loyalty
	rm -f $(DESTDIR)$(MANDIR)/man1/loyalty.1

# ------------------------------------------------------------------- deps

deps:
	@sh scripts/install-deps.sh

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ============================================================== ecosystem
# Install check, API reference, policy schema and the POS example. Every
# target here works from a clean clone with ../shared beside it.
#
#   make docs          the API reference from include/loyalty.h (Doxygen) in
#                      $(BUILD)/docs/api, failing on any undocumented public
#                      name; then checks the man page and that every yaml
#                      snippet of docs/guide.md loads
#   make test-install  install into a temporary PREFIX (and a DESTDIR), then
#                      build and run the examples through pkg-config only
#   make schema-test   schema/loyalty-policy.schema.json against the policies
#                      and the invalid-policy corpus (tests/schema/)
#   make pos-test      the SQLite checkout (examples/pos-checkout/): a crash
#                      before COMMIT and retried requests pay exactly once

.PHONY: docs test-install schema-test pos-test pos-example FORCE
FORCE:

# loyalty.pc has the install paths written in: remake it when they change
# (make install PREFIX=... after a plain make).
$(BUILD)/loyalty.pc: $(BUILD)/install-paths
$(BUILD)/install-paths: FORCE
	@mkdir -p $(BUILD)
	@echo '$(PREFIX) $(LIBDIR) $(INCLUDEDIR) $(VERSION)' > $@.new
	@if cmp -s $@.new $@; then rm -f $@.new; else mv $@.new $@; fi

docs: $(BUILD)/loyalty
	@command -v doxygen >/dev/null 2>&1 || { echo "docs: doxygen is not installed (make deps)"; exit 1; }
	@mkdir -p $(BUILD)/docs
	( cat Doxyfile; echo 'OUTPUT_DIRECTORY = $(BUILD)/docs'; echo 'PROJECT_NUMBER = $(VERSION)'; \
	  echo 'WARN_LOGFILE = $(BUILD)/docs/doxygen-warnings.txt' ) | doxygen -
	@if [ -s $(BUILD)/docs/doxygen-warnings.txt ]; then cat $(BUILD)/docs/doxygen-warnings.txt; \
	    echo "docs: Doxygen warnings (every public name needs a doc comment)"; exit 1; fi
	@echo "docs: API reference in $(BUILD)/docs/api/index.html"
	sh tests/docs/run.sh $(BUILD)/loyalty

test-install: all
	sh scripts/test-install.sh $(BUILD)

schema-test: $(BUILD)/loyalty
	sh tests/schema/run.sh $(BUILD)/loyalty

POS_PROGRAM := $(BUILD)/examples/pos-checkout
SQLITE_CFLAGS := $(shell pkg-config --cflags sqlite3 2>/dev/null)
SQLITE_LIBS := $(shell pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3)

pos-example: $(POS_PROGRAM)

$(POS_PROGRAM): examples/pos-checkout/pos.c include/loyalty.h $(BUILD)/libloyalty.a
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -Wall -Wextra -Werror -Iinclude $(SQLITE_CFLAGS) $< -o $@ \
	    $(BUILD)/libloyalty.a $(PKG_LIBS) $(SQLITE_LIBS)

pos-test: $(POS_PROGRAM)
	sh examples/pos-checkout/test.sh $(POS_PROGRAM) examples/pos-checkout/policy.yaml

# ============================================================== reliability
# Fuzzing, ThreadSanitizer and the ABI gate (docs/fuzzing.md, docs/abi.md).
#
#   make fuzz         every fuzz target for FUZZ_SECONDS (default 60) each
#   make fuzz-smoke   every fuzz target for FUZZ_SMOKE_SECONDS (default 12) each: CI
#   make tsan         tests/test_threads.c built with -fsanitize=thread, run
#   make abi-check    build the shared library, compare it with abi/
#
# The fuzz targets are fuzz/fuzz_*.c, built with clang's libFuzzer and
# ASan+UBSan against a copy of the library instrumented for coverage
# ($(BUILD)/fuzz/). Each run starts from the committed seeds
# (fuzz/corpus/TARGET), the seeds fuzz/gen_seeds.c writes from the tests
# and vectors, and what earlier runs kept ($(BUILD)/fuzz/corpus/TARGET);
# crashes land in $(BUILD)/fuzz/crashes/ and fail the run. fuzz/TARGET.dict
# and fuzz/TARGET.flags (extra libFuzzer flags), when present, are passed.

FUZZ_CC            ?= clang
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 12
FUZZ_FLAGS         ?=
FUZZ_DIR           := $(BUILD)/fuzz
FUZZ_TARGETS       := $(patsubst fuzz/%.c,%,$(sort $(wildcard fuzz/fuzz_*.c)))
FUZZ_BIN           := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)
FUZZ_SAN           := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_OBJ           := $(LIB_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_DEFS          := -DLOY_SPEC_DIR='"$(SPEC_DIR)"'

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-seeds tsan abi-check

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(BASE_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) -MMD -MP -c $< -o $@

$(FUZZ_DIR)/libloyalty.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_common.h $(FUZZ_DIR)/libloyalty.a
	$(FUZZ_CC) $(CPPFLAGS) $(BASE_CFLAGS) -fsanitize=fuzzer $(FUZZ_SAN) $(FUZZ_DEFS) -MMD -MP \
	    -o $@ $< $(FUZZ_DIR)/libloyalty.a $(PKG_LIBS)

$(FUZZ_DIR)/gen_seeds: fuzz/gen_seeds.c fuzz/fuzz_common.h $(FUZZ_DIR)/libloyalty.a
	$(FUZZ_CC) $(CPPFLAGS) $(BASE_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) $(FUZZ_DEFS) -MMD -MP \
	    -o $@ $< $(FUZZ_DIR)/libloyalty.a $(PKG_LIBS)

fuzz-build: $(FUZZ_BIN) $(FUZZ_DIR)/gen_seeds

fuzz-seeds: fuzz-build
	@rm -rf $(FUZZ_DIR)/seeds
	$(FUZZ_DIR)/gen_seeds $(FUZZ_DIR)/seeds $(SPEC_DIR) $(abspath tests)

# One libFuzzer run per target; every target runs even when one fails.
# $(1): seconds per target.
define FUZZ_RUN
	@mkdir -p $(FUZZ_DIR)/crashes
	@fail=""; for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_DIR)/corpus/$$t; \
	    dict=""; [ -f fuzz/$$t.dict ] && dict="-dict=fuzz/$$t.dict"; \
	    flags=""; [ -f fuzz/$$t.flags ] && flags=$$(cat fuzz/$$t.flags); \
	    seeds=""; for s in fuzz/corpus/$$t fuzz/regressions/$$t $(FUZZ_DIR)/seeds/$$t; do \
	        [ -d $$s ] && seeds="$$seeds $$s"; done; \
	    echo "== $$t: $(1) s"; \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    $(FUZZ_DIR)/$$t -max_total_time=$(1) -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
	        -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/crashes/$$t- $$dict $$flags $(FUZZ_FLAGS) \
	        $(FUZZ_DIR)/corpus/$$t $$seeds > $(FUZZ_DIR)/$$t.log 2>&1; \
	    rc=$$?; \
	    grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+.*DONE' $(FUZZ_DIR)/$$t.log | tr '\n' ' '; echo; \
	    if [ $$rc -ne 0 ]; then fail="$$fail $$t"; tail -60 $(FUZZ_DIR)/$$t.log; fi; \
	done; \
	if [ -n "$$fail" ]; then echo "fuzz: FAILED:$$fail (inputs in $(FUZZ_DIR)/crashes/)"; exit 1; fi; \
	echo "fuzz: $(words $(FUZZ_TARGETS)) targets, no crash"
endef

fuzz: fuzz-seeds
	$(call FUZZ_RUN,$(FUZZ_SECONDS))

fuzz-smoke: fuzz-seeds
	$(call FUZZ_RUN,$(FUZZ_SMOKE_SECONDS))

# ThreadSanitizer: the library and the thread test in their own folder.
TSAN_DIR   := $(BUILD)/tsan
TSAN_FLAGS := -fsanitize=thread -fno-omit-frame-pointer
TSAN_OBJ   := $(LIB_SRC:%.c=$(TSAN_DIR)/obj/%.o)

$(TSAN_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(BASE_CFLAGS) $(TSAN_FLAGS) -MMD -MP -c $< -o $@

$(TSAN_DIR)/libloyalty.a: $(TSAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(TSAN_DIR)/test_threads: tests/test_threads.c $(TSAN_DIR)/libloyalty.a
	$(CC) $(CPPFLAGS) -Itests $(BASE_CFLAGS) -Wno-missing-prototypes $(TSAN_FLAGS) \
	    -DLOY_SPEC_DIR='"$(SPEC_DIR)"' -DLOY_TEST_DIR='"$(abspath tests)"' -MMD -MP \
	    -o $@ $< $(TSAN_DIR)/libloyalty.a $(PKG_LIBS) -lcmocka -pthread

# TSan's shadow memory sits at fixed addresses; kernels with high mmap
# randomisation can put a mapping there ("unexpected memory mapping"), so
# the test runs without address randomisation where setarch allows it.
# `loyalty simulate --jobs` under TSan too: a generated history, the report
# of four workers the same bytes as one thread's.
$(TSAN_DIR)/loyalty: $(CLI_SRC:%.c=$(TSAN_DIR)/obj/%.o) $(TSAN_DIR)/libloyalty.a
	$(CC) $(BASE_CFLAGS) $(TSAN_FLAGS) -o $@ $^ $(PKG_LIBS) -pthread

TSAN_SIM := $(TSAN_DIR)/loyalty simulate $(SPEC_DIR)/policies/apparel.yaml $(TSAN_DIR)/history.jsonl \
            --compare $(SPEC_DIR)/policies/grocery.yaml

tsan: $(TSAN_DIR)/test_threads $(TSAN_DIR)/loyalty
	@run=""; if command -v setarch >/dev/null 2>&1 && setarch "$$(uname -m)" -R true 2>/dev/null; then \
	    run="setarch $$(uname -m) -R"; fi; \
	echo "== $(TSAN_DIR)/test_threads (ThreadSanitizer)"; \
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 $$run $(TSAN_DIR)/test_threads && \
	echo "== $(TSAN_DIR)/loyalty simulate --jobs 4 (ThreadSanitizer)" && \
	python3 scripts/gen-history.py --members 1500 --events 24 --seed 3 > $(TSAN_DIR)/history.jsonl && \
	TSAN_OPTIONS=halt_on_error=1 $$run $(TSAN_SIM) > $(TSAN_DIR)/simulate.1 && \
	TSAN_OPTIONS=halt_on_error=1 $$run $(TSAN_SIM) --jobs 4 > $(TSAN_DIR)/simulate.4 && \
	cmp $(TSAN_DIR)/simulate.1 $(TSAN_DIR)/simulate.4 && echo "simulate --jobs 4: same report, no race"

abi-check: $(BUILD)/$(SHLIB)
	sh scripts/abi-check.sh $(BUILD)

# ================================================================== bench
# `make bench`: the benchmark suite of bench/ (see bench/RESULTS.md). The
# library, the `loyalty` program and the bench are built apart from
# everything above, in $(BUILD)/bench/, with -O2 -DNDEBUG and no
# sanitizers. BENCH_ARGS passes options: BENCH_ARGS="--json",
# BENCH_ARGS="--cases 10000 --runs 11", BENCH_ARGS="--no-callgrind".

BENCH_OUT     := $(BUILD)/bench
BENCH_CFLAGS  := $(CSTD) $(WARN) -O2 -DNDEBUG -g -fvisibility=hidden
BENCH_LIB_OBJ := $(LIB_SRC:%.c=$(BENCH_OUT)/obj/%.o)
BENCH_CLI_OBJ := $(CLI_SRC:%.c=$(BENCH_OUT)/obj/%.o)
BENCH_OBJ     := $(sort $(wildcard bench/*.c))
BENCH_OBJ     := $(BENCH_OBJ:%.c=$(BENCH_OUT)/obj/%.o)
BENCH_ARGS    ?=

.PHONY: bench bench-bin

bench: bench-bin
	$(BENCH_OUT)/loyalty-bench --spec $(SPEC_DIR) --loyalty $(BENCH_OUT)/loyalty $(BENCH_ARGS)

bench-bin: $(BENCH_OUT)/loyalty-bench $(BENCH_OUT)/loyalty

# `make check` runs the bench once, small and untimed in effect, so that it
# keeps building from a clean tree and every case still equals the floor
# (the bench exits 1 on a difference or a failed call).
.PHONY: bench-smoke
bench-smoke: bench-bin
	$(BENCH_OUT)/loyalty-bench --spec $(SPEC_DIR) --loyalty $(BENCH_OUT)/loyalty \
	    --cases 1024 --runs 1 --sim-members 500 --no-callgrind > $(BENCH_OUT)/smoke.txt \
	    || { cat $(BENCH_OUT)/smoke.txt; echo "bench-smoke: failed"; exit 1; }
	@grep -q '^check: 1024 of 1024 cases equal' $(BENCH_OUT)/smoke.txt \
	    || { cat $(BENCH_OUT)/smoke.txt; echo "bench-smoke: the library and the floor differ"; exit 1; }
	@echo "bench-smoke: 1024 of 1024 cases equal to the floor"

$(BENCH_OUT)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Ibench $(BENCH_CFLAGS) -MMD -MP -c $< -o $@

$(BENCH_OUT)/libloyalty.a: $(BENCH_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BENCH_OUT)/loyalty: $(BENCH_CLI_OBJ) $(BENCH_OUT)/libloyalty.a
	$(CC) $(BENCH_CFLAGS) -o $@ $(BENCH_CLI_OBJ) $(BENCH_OUT)/libloyalty.a $(PKG_LIBS) -pthread

$(BENCH_OUT)/loyalty-bench: $(BENCH_OBJ) $(BENCH_OUT)/libloyalty.a
	$(CC) $(BENCH_CFLAGS) -o $@ $(BENCH_OBJ) $(BENCH_OUT)/libloyalty.a $(PKG_LIBS)
