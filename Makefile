# Makefile - builds, tests, benchmarks, fuzzes and installs jumpgate.
#
#   make deps    install every build and test dependency (Debian 12, as root)
#   make         build the libraries and programs into build/
#   make test    deps, build, unit tests (plain and ASan+UBSan), integration
#                tests, and a short fuzz run
#   make demo    deps, build, start a demo gateway on 127.0.0.1:2222
#   make bench   benchmarks: the policy engine, then (as root) jumpgated against
#                OpenSSH on loopback; results in tests/bench/RESULTS.md
#                (sizes: BENCH_SCALE, see tests/bench/run.sh)
#   make fuzz    long fuzz runs (FUZZ_SECONDS per target, default 60)
#   make install / uninstall   (PREFIX, DESTDIR)
#   make clean

VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
BUILD     ?= build
CC        ?= cc
PYTHON    := /usr/bin/python3
FUZZ_SECONDS ?= 60

PKGS      := libssh yaml-0.1 jansson glib-2.0 openssl libcurl libxml-2.0
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN      := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
             -Wmissing-prototypes -Wno-unused-parameter
OPT       ?= -O2 -g
SAN       ?=
CFLAGS    := -std=c17 -D_GNU_SOURCE -DJG_VERSION='"$(VERSION)"' $(OPT) \
             $(WARN) -fPIC -fvisibility=hidden -fstack-protector-strong \
             -D_FORTIFY_SOURCE=2 -I. $(PKG_CFLAGS) $(SAN) $(EXTRA_CFLAGS)
LDFLAGS   := $(SAN) -Wl,-z,relro,-z,now $(EXTRA_LDFLAGS)

# Libraries, in dependency order (DESIGN.md section 3): a folder links only
# the folders to its left.
LIBDIRS   := $(foreach d,common policy audit sync,$(if $(wildcard $(d)/*.c),$(d)))
lib_srcs   = $(sort $(wildcard $(1)/*.c))
lib_objs   = $(patsubst %.c,$(BUILD)/%.o,$(call lib_srcs,$(1)))
LIBS      := $(foreach d,$(LIBDIRS),$(BUILD)/lib$(d).a)
# Link order is the reverse: dependents first.
LINKLIBS  := $(foreach d,$(shell echo $(LIBDIRS) | tr ' ' '\n' | tac),$(BUILD)/lib$(d).a)

PROGS     := $(BUILD)/jumpgate

# Programs and their rules live beside their code.
-include gateway/gateway.mk pam/pam.mk

UNIT_SRCS := $(sort $(wildcard tests/unit/*/test_*.c))
UNIT_BINS := $(patsubst %.c,$(BUILD)/%,$(UNIT_SRCS))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))

.DEFAULT_GOAL := all

.PHONY: all deps test unit unit-asan integration fuzz fuzz-build fuzz-short \
        bench demo install uninstall clean check-banned
.DELETE_ON_ERROR:

all: $(LIBS) $(PROGS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

define LIB_RULE
$(BUILD)/lib$(1).a: $(call lib_objs,$(1))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach d,$(LIBDIRS),$(eval $(call LIB_RULE,$(d))))

$(BUILD)/jumpgate: $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard cli/*.c))) $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LINKLIBS) $(PKG_LIBS) -lm

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(LINKLIBS) $(PKG_LIBS) -lcmocka -lm $(LDFLAGS)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

deps:
	@tests/tools/deps.sh

# --- tests -----------------------------------------------------------------

test: deps
	$(MAKE) all
	$(MAKE) check-banned
	$(MAKE) unit
	$(MAKE) unit-asan
	$(MAKE) integration
	$(MAKE) fuzz-short
	@echo "make test: all suites passed"

unit: $(UNIT_BINS)
	@tests/tools/run-unit.sh $(UNIT_BINS)

# The same unit tests, built with clang under AddressSanitizer and UBSan.
unit-asan:
	$(MAKE) BUILD=build/asan CC=clang OPT="-O1 -g" \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" unit

integration: all
	cd tests/integration && JG_BUILD=$(abspath $(BUILD)) $(PYTHON) -m pytest -q -p no:cacheprovider .

# Short libFuzzer runs of every target; part of make test.
fuzz-short:
	$(MAKE) fuzz-build
	@tests/tools/run-fuzz.sh build/fuzz 20

fuzz:
	$(MAKE) fuzz-build
	@tests/tools/run-fuzz.sh build/fuzz $(FUZZ_SECONDS)

FUZZ_BINS := $(patsubst %.c,$(BUILD)/%,$(FUZZ_SRCS))
fuzz-build:
	$(MAKE) BUILD=build/fuzz CC=clang OPT="-O1 -g" \
	    SAN="-fsanitize=address,undefined,fuzzer-no-link -fno-omit-frame-pointer" fuzzers

fuzzers: $(FUZZ_BINS)

$(BUILD)/tests/fuzz/%: tests/fuzz/%.c $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-missing-prototypes -fsanitize=fuzzer -o $@ $< $(LINKLIBS) $(PKG_LIBS) -lm $(LDFLAGS)

bench: all
	$(MAKE) -C . $(BUILD)/tests/bench/bench_policy
	@tests/bench/run.sh $(BUILD)

$(BUILD)/tests/bench/%: tests/bench/%.c $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LINKLIBS) $(PKG_LIBS) -lm $(LDFLAGS)

demo: deps
	$(MAKE) all
	@demo/run.sh $(abspath $(BUILD))

# Curl's list of banned functions: none of them in our sources.
check-banned:
	@! grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|strtok|strncpy|strncat) *\(' \
	    --include='*.c' --include='*.h' -r $(wildcard common policy audit sync gateway pam cli tests/unit tests/fuzz) \
	    || { echo "banned function used (see above)"; exit 1; }

# --- install ---------------------------------------------------------------

install: all install-pam
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin \
	    $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
	    $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(BUILD)/jumpgate $(DESTDIR)$(PREFIX)/bin/jumpgate
	install -m 0755 $(BUILD)/jumpgated $(DESTDIR)$(PREFIX)/sbin/jumpgated
	install -m 0644 docs/jumpgate.1 docs/jumpgate-audit.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 docs/jumpgate-policy.5 docs/jumpgate.yaml.5 \
	    $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 docs/jumpgated.8 $(DESTDIR)$(PREFIX)/share/man/man8/

uninstall: uninstall-pam
	rm -f $(DESTDIR)$(PREFIX)/bin/jumpgate $(DESTDIR)$(PREFIX)/sbin/jumpgated \
	    $(DESTDIR)$(PREFIX)/share/man/man1/jumpgate.1 \
	    $(DESTDIR)$(PREFIX)/share/man/man1/jumpgate-audit.1 \
	    $(DESTDIR)$(PREFIX)/share/man/man5/jumpgate-policy.5 \
	    $(DESTDIR)$(PREFIX)/share/man/man5/jumpgate.yaml.5 \
	    $(DESTDIR)$(PREFIX)/share/man/man8/jumpgated.8

clean:
	rm -rf build
