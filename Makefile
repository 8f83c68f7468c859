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
#   make install / uninstall   (PREFIX, DESTDIR, SYSCONFDIR, SYSTEMDUNITDIR)
#   make deb     the Debian package, into build/deb/
#   make clean

VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
BUILD     ?= build
CC        ?= cc
PYTHON    := /usr/bin/python3
FUZZ_SECONDS ?= 60

# libssh is Debian's source package of this version, fetched and built
# static by `make deps` (deps/libssh.sh), since Debian 12's libssh 0.10 has
# no post-quantum key exchange. To update it, change this one line.
LIBSSH_VERSION := 0.12.2-1
LIBSSH_DIR ?= $(CURDIR)/build/libssh-$(LIBSSH_VERSION)
LIBSSH_A  := $(LIBSSH_DIR)/lib/libssh.a

# The integration tests audit jumpgated with Debian 13's ssh-audit (one
# that knows the post-quantum key exchanges), unpacked under build/.
SSH_AUDIT_VERSION := 3.3.0-2
SSH_AUDIT := $(CURDIR)/build/ssh-audit-$(SSH_AUDIT_VERSION)
# The unit tests check SigV4 signing against AWS's test suite, which
# Debian 12's node-aws4 source package carries (deps/sigv4-suite.sh).
SIGV4_VERSION := 1.11.0-2
SIGV4_SUITE := $(CURDIR)/build/sigv4-suite

PKGS      := yaml-0.1 jansson glib-2.0 openssl libcurl libxml-2.0 libmicrohttpd libseccomp libzstd \
             libarchive
PKG_CFLAGS := -I$(LIBSSH_DIR)/include $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(LIBSSH_A) $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lz

WARN      := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
             -Wmissing-prototypes -Wno-unused-parameter
OPT       ?= -O2 -g
SAN       ?=
CFLAGS    := -std=c17 -D_GNU_SOURCE -DJG_VERSION='"$(VERSION)"' \
             -DJG_LIBSSH_DEBIAN='"$(LIBSSH_VERSION)"' $(OPT) \
             $(WARN) -fPIC -fvisibility=hidden -fstack-protector-strong \
             -D_FORTIFY_SOURCE=2 -I. $(PKG_CFLAGS) $(SAN) $(EXTRA_CFLAGS)
# --as-needed: a program loads only the shared libraries it calls (the
# gateway does not load libarchive, which only the CLI uses).
LDFLAGS   := $(SAN) -Wl,-z,relro,-z,now -Wl,--as-needed $(EXTRA_LDFLAGS)

# Libraries, in dependency order: a folder links only
# the folders to its left.
LIBDIRS   := $(foreach d,common policy audit sync console,$(if $(wildcard $(d)/*.c),$(d)))
lib_srcs   = $(sort $(wildcard $(1)/*.c))
lib_objs   = $(patsubst %.c,$(BUILD)/%.o,$(call lib_srcs,$(1)))
LIBS      := $(foreach d,$(LIBDIRS),$(BUILD)/lib$(d).a)
# Link order is the reverse: dependents first.
LINKLIBS  := $(foreach d,$(shell echo $(LIBDIRS) | tr ' ' '\n' | tac),$(BUILD)/lib$(d).a)

PROGS     := $(BUILD)/jumpgate

# Programs and their rules live beside their code.
-include gateway/gateway.mk pam/pam.mk console/console.mk

UNIT_SRCS := $(sort $(wildcard tests/unit/*/test_*.c))
UNIT_BINS := $(patsubst %.c,$(BUILD)/%,$(UNIT_SRCS))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))

.DEFAULT_GOAL := all

.PHONY: all deps test unit unit-asan integration fuzz fuzz-build fuzz-short \
        bench demo install uninstall deb clean check-banned check-rooms \
        gateway-asan
.DELETE_ON_ERROR:

all: $(LIBS) $(PROGS)

$(BUILD)/%.o: %.c | $(LIBSSH_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

define LIB_RULE
$(BUILD)/lib$(1).a: $(call lib_objs,$(1))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach d,$(LIBDIRS),$(eval $(call LIB_RULE,$(d))))

$(BUILD)/jumpgate: $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard cli/*.c))) $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LINKLIBS) $(PKG_LIBS) -lpam -lpthread -lm

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(LINKLIBS) $(PKG_LIBS) -lpam -lpthread -lcmocka -lm $(LDFLAGS)

-include $(shell find $(BUILD) -path $(BUILD)/deb -prune -o -name '*.d' -type f -print 2>/dev/null)

deps:
	@tests/tools/deps.sh
	@deps/libssh.sh $(LIBSSH_VERSION) $(LIBSSH_DIR)
	@deps/ssh-audit.sh $(SSH_AUDIT_VERSION) $(SSH_AUDIT)
	@deps/sigv4-suite.sh $(SIGV4_VERSION) $(SIGV4_SUITE)

$(LIBSSH_A): deps/libssh.sh $(wildcard deps/libssh-patches/*.patch)
	@deps/libssh.sh $(LIBSSH_VERSION) $(LIBSSH_DIR)

# --- tests -----------------------------------------------------------------

test: deps
	$(MAKE) all
	$(MAKE) check-banned
	$(MAKE) check-rooms
	$(MAKE) unit
	$(MAKE) unit-asan
	$(MAKE) integration
	$(MAKE) fuzz-short
	@echo "make test: all suites passed"

unit: $(UNIT_BINS)
	@JG_SIGV4_DIR=$(SIGV4_SUITE) tests/tools/run-unit.sh $(UNIT_BINS)

# The same unit tests, built with clang under AddressSanitizer and UBSan.
unit-asan:
	$(MAKE) BUILD=build/asan CC=clang OPT="-O1 -g" SAN="$(ASAN_SAN)" unit

# The integration suite runs once, against a jumpgated built with clang
# under AddressSanitizer and UBSan (JG_JUMPGATED= picks another one); the
# fixtures fail a test whose gateway log holds a sanitizer report.
ASAN_SAN   := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
JG_JUMPGATED ?= $(abspath build/asan/jumpgated)

gateway-asan:
	$(MAKE) BUILD=build/asan CC=clang OPT="-O1 -g" SAN="$(ASAN_SAN)" build/asan/jumpgated

integration: all gateway-asan $(BUILD)/tests/tools/jg_mkcert \
    $(BUILD)/tests/tools/jg_rdstoken
	cd tests/integration && JG_BUILD=$(abspath $(BUILD)) JG_JUMPGATED=$(JG_JUMPGATED) \
	    JG_SSH_AUDIT=$(SSH_AUDIT)/ssh-audit \
	    $(PYTHON) -m pytest -q -p no:cacheprovider --durations=20 .

# Short libFuzzer runs of every target; part of make test.
fuzz-short:
	$(MAKE) fuzz-build
	@tests/tools/run-fuzz.sh build/fuzz 10

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
	$(CC) $(CFLAGS) -Wno-missing-prototypes -fsanitize=fuzzer -o $@ $< $(LINKLIBS) $(PKG_LIBS) -lpam -lpthread -lm $(LDFLAGS)

# Targets for the gateway's own parsers link its objects (not its main).
GW_FUZZ_OBJS = $(filter-out $(BUILD)/gateway/master/main.o,$(GW_OBJS))
$(BUILD)/tests/fuzz/fuzz_gw_%: tests/fuzz/fuzz_gw_%.c $(GW_FUZZ_OBJS) $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-missing-prototypes -fsanitize=fuzzer -o $@ $< $(GW_FUZZ_OBJS) $(LINKLIBS) $(PKG_LIBS) -lpam -lm $(LDFLAGS)

# Test tools that use the gateway's own code.
$(BUILD)/tests/tools/jg_mkcert: tests/tools/jg_mkcert.c $(GW_FUZZ_OBJS) $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(GW_FUZZ_OBJS) $(LINKLIBS) $(PKG_LIBS) -lpam -lm $(LDFLAGS)

$(BUILD)/tests/tools/jg_rdstoken: tests/tools/jg_rdstoken.c $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LINKLIBS) $(PKG_LIBS) -lm $(LDFLAGS)

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

# The gateway's rooms: header guards, includes, and calls between files
# pointing one way without circles (tests/tools/check-rooms.sh).
check-rooms: $(BUILD)/jumpgated
	@tests/tools/check-rooms.sh $(CC) $(BUILD) $(CFLAGS)

# --- install ---------------------------------------------------------------
# Everything install puts is listed once here, so uninstall removes exactly
# that. Example configurations go to the documentation, never to /etc; the
# units name the programs under PREFIX. With no DESTDIR, as root, install
# also adds the 'jumpgate' system user (uninstall leaves it, like the
# package does).

MAN_PAGES := docs/jumpgate.1 docs/jumpgate-audit.1 docs/jumpgate-policy.5 \
             docs/jumpgate.yaml.5 docs/jumpgate-recording.5 docs/jumpgated.8
UNITS     := jumpgated.service jumpgate-sync.service jumpgate-prune.service \
             jumpgate-prune.timer jumpgate-console.service
DOCDIR    := $(PREFIX)/share/doc/jumpgate
DATADIR   := $(PREFIX)/share/jumpgate
INSTALLED := $(PREFIX)/bin/jumpgate $(PREFIX)/sbin/jumpgated \
             $(foreach m,$(MAN_PAGES),$(PREFIX)/share/man/man$(subst .,,$(suffix $(m)))/$(notdir $(m))) \
             $(SYSCONFDIR)/pam.d/jumpgate \
             $(addprefix $(SYSTEMDUNITDIR)/,$(UNITS)) \
             $(DOCDIR)/examples/jumpgate.yaml $(DOCDIR)/examples/policy.yaml \
             $(DATADIR)/grafana/jumpgate.json \
             $(DATADIR)/prometheus/jumpgate.rules.yml \
             $(addprefix $(DATADIR)/console/,$(notdir $(CONSOLE_ASSETS)))
# Folders of our own, removed by uninstall when empty.
OWN_DIRS  := $(DOCDIR)/examples $(DOCDIR) $(DATADIR)/grafana \
             $(DATADIR)/prometheus $(DATADIR)/console $(DATADIR)

# Where `jumpgate audit serve` finds the console's web files by default.
$(BUILD)/cli/cmd_audit_serve.o: CFLAGS += -DJG_CONSOLE_ASSETS='"$(DATADIR)/console"'

install: all install-pam
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin \
	    $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
	    $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(SYSCONFDIR)/pam.d \
	    $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(DOCDIR)/examples \
	    $(DESTDIR)$(DATADIR)/grafana $(DESTDIR)$(DATADIR)/prometheus \
	    $(DESTDIR)$(DATADIR)/console
	install -m 0755 $(BUILD)/jumpgate $(DESTDIR)$(PREFIX)/bin/jumpgate
	install -m 0755 $(BUILD)/jumpgated $(DESTDIR)$(PREFIX)/sbin/jumpgated
	install -m 0644 $(filter %.1,$(MAN_PAGES)) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 $(filter %.5,$(MAN_PAGES)) $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 $(filter %.8,$(MAN_PAGES)) $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 pam/jumpgate $(DESTDIR)$(SYSCONFDIR)/pam.d/jumpgate
	for u in $(UNITS); do \
	    src=packaging/systemd/$$u; [ -f $$src ] || src=$$src.in; \
	    sed -e 's|@SBINDIR@|$(PREFIX)/sbin|g' -e 's|@BINDIR@|$(PREFIX)/bin|g' \
	        $$src > $(DESTDIR)$(SYSTEMDUNITDIR)/$$u && \
	    chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$u || exit 1; \
	done
	install -m 0644 packaging/examples/jumpgate.yaml \
	    packaging/examples/policy.yaml $(DESTDIR)$(DOCDIR)/examples/
	install -m 0644 packaging/grafana/jumpgate.json $(DESTDIR)$(DATADIR)/grafana/
	install -m 0644 $(CONSOLE_ASSETS) $(DESTDIR)$(DATADIR)/console/
	install -m 0644 packaging/prometheus/jumpgate.rules.yml \
	    $(DESTDIR)$(DATADIR)/prometheus/
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ] && \
	    ! getent passwd jumpgate >/dev/null; then \
	    echo "install: adding system user jumpgate"; \
	    useradd --system --home-dir /var/lib/jumpgate --no-create-home \
	        --shell /usr/sbin/nologin jumpgate; \
	fi
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ] && \
	    ! getent group jumpgate-audit >/dev/null; then \
	    echo "install: adding system group jumpgate-audit (auditors)"; \
	    groupadd --system jumpgate-audit; \
	fi

uninstall: uninstall-pam
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	for d in $(addprefix $(DESTDIR),$(OWN_DIRS)); do \
	    rmdir "$$d" 2>/dev/null || true; \
	done

# --- Debian package --------------------------------------------------------
# Built from a copy of the tree in build/deb/ (dpkg-buildpackage writes its
# results beside the source folder), so the tree itself stays clean; the
# .deb, .buildinfo and .changes land in build/deb/.
DEB_SRC := build/deb/jumpgate-$(VERSION)
# The package is built from a copy of the tree and links the libssh that
# `make deps` built here (LIBSSH_DIR); its changelog names that libssh.
deb: $(LIBSSH_A)
	@grep -qw -- "$(LIBSSH_VERSION)" packaging/debian/changelog || \
	    { echo "packaging/debian/changelog does not name libssh $(LIBSSH_VERSION)"; exit 1; }
	rm -rf build/deb && mkdir -p $(DEB_SRC)
	tar -c --exclude=./build --exclude=./.git --exclude=__pycache__ \
	    --exclude=./demo/run . | tar -x -C $(DEB_SRC)
	cp -R packaging/debian $(DEB_SRC)/debian
	cd $(DEB_SRC) && LIBSSH_DIR=$(LIBSSH_DIR) DEB_BUILD_OPTIONS="parallel=2 $(DEB_BUILD_OPTIONS)" \
	    dpkg-buildpackage -b -uc -us
	@ls build/deb/*.deb

clean:
	rm -rf build
