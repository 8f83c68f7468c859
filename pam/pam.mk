# pam/pam.mk - builds pam_jumpgate.so, the PAM module that applies the
# jumpgate policy to the jump host's own services, and its test driver
# (included by the top-level Makefile).

PAM_SRCS := $(sort $(wildcard pam/*.c))
PAM_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(PAM_SRCS))
# pam links policy, audit and common (not sync): it appends its
# decisions to the audit event log, and that log is one hash chain that
# every writer must extend under the same exclusive flock, with the same
# seals: only audit/'s writer does that correctly. The module uses only
# that writer's allocation-safe, fd-safe path (audit/audit.h).
PAM_LIBS := $(BUILD)/libaudit.a $(BUILD)/libpolicy.a $(BUILD)/libcommon.a
PAM_SECURITY_DIR = /lib/$(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)/security

PROGS += $(BUILD)/pam_jumpgate.so $(BUILD)/pam_jgtest

# Only pam_sm_* leave the object (pam_jumpgate.map); -z defs refuses
# unresolved symbols; --as-needed keeps the libraries jumpgated needs
# (libssh, curl, libxml2, ...) out of every process that loads the module
# (it needs libyaml, glib, jansson and libcrypto).
$(BUILD)/pam_jumpgate.so: $(PAM_OBJS) $(PAM_LIBS) pam/pam_jumpgate.map
	$(CC) $(LDFLAGS) -shared -Wl,--version-script=pam/pam_jumpgate.map \
	    -Wl,-z,defs -Wl,--as-needed -o $@ $(PAM_OBJS) $(PAM_LIBS) \
	    $(PKG_LIBS) -lpam -lm

# A test program, never installed: pam_start/pam_acct_mgmt in N threads.
$(BUILD)/pam_jgtest: $(BUILD)/tests/pam/pam_jgtest.o
	$(CC) $(LDFLAGS) -o $@ $< -lpam -lpthread

.PHONY: install-pam uninstall-pam
install-pam: $(BUILD)/pam_jumpgate.so
	install -d $(DESTDIR)$(PAM_SECURITY_DIR) $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0644 $(BUILD)/pam_jumpgate.so $(DESTDIR)$(PAM_SECURITY_DIR)/
	install -m 0644 docs/pam_jumpgate.8 $(DESTDIR)$(PREFIX)/share/man/man8/

uninstall-pam:
	rm -f $(DESTDIR)$(PAM_SECURITY_DIR)/pam_jumpgate.so \
	    $(DESTDIR)$(PREFIX)/share/man/man8/pam_jumpgate.8
