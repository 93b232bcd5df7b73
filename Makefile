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

.PHONY: all lib cli test check-header deps install uninstall clean test-bin demo check examples

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
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libloyalty.a $(PKG_LIBS) $(LDFLAGS)

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
	$(CC) $(BASE_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS)

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

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/loyalty.h $(DESTDIR)$(LIBDIR)/$(SHLIB) \
	      $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libloyalty.so \
	      $(DESTDIR)$(LIBDIR)/libloyalty.a $(DESTDIR)$(PKGCONFIGDIR)/loyalty.pc \
	      $(DESTDIR)$(BINDIR)/loyalty

# ------------------------------------------------------------------- deps

deps:
	@sh scripts/install-deps.sh

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
