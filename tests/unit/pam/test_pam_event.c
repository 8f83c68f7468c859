/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/pam/test_pam_event.c - pam_jumpgate.so's event-log append,
 * without libpam (the source is compiled in here): the event's members,
 * sealing with a readable key, unsealed without one, nothing without an
 * audit.dir, and a clear error when events/ cannot be written. */
#include <sys/stat.h>
#include <unistd.h>

#include "jgtest.h"

#include "audit/audit.h"
#include "pam/event.c"

#define NOW 1795780800000000LL /* 2026-11-27T12:00:00Z */

static char dir[64], audit_dir[96], key_path[96], day_path[160];

static int
setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/jg-pam-ev-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(audit_dir, sizeof(audit_dir), "%s/audit", dir);
    snprintf(key_path, sizeof(key_path), "%s/key.pem", dir);
    snprintf(day_path, sizeof(day_path), "%s/events/2026-11-27.jsonl",
             audit_dir);
    if (mkdir(audit_dir, 0750) != 0 || jg_audit_keygen(key_path, false) != 0)
        return -1;
    return 0;
}

static int
teardown(void **state)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const struct jg_pam_event allow_ev = {
    .type = "pam.account", .user = "alice", .from = "203.0.113.7",
    .service = "sshd", .target = "jump-host", .action = "shell",
    .result = "allow", .rule = "ops-jump", .reason = "rule allows"};

/* The lines of the day file, parsed. */
static size_t
read_events(json_t **ev, size_t max)
{
    char *data = NULL, *p, *nl;
    size_t len = 0, n = 0;

    assert_int_equal(jg_read_file(day_path, 1 << 20, &data, &len), 0);
    for (p = data; n < max && (nl = strchr(p, '\n')) != NULL; p = nl + 1)
        assert_non_null(ev[n++] = json_loadb(p, (size_t)(nl - p), 0, NULL));
    free(data);
    return n;
}

static void
test_sealed_event_members(void **state)
{
    struct jg_config cfg = {.audit_dir = audit_dir,
                            .audit_signing_key = key_path};
    struct jg_audit_key *pub = NULL;
    struct jg_audit_log_status st;
    struct jg_diags d = {0};
    char why[256];
    bool sealed = false;
    json_t *ev[4];
    size_t n, i;

    assert_int_equal(jg_pam_event_append(&cfg, &allow_ev, NOW, &sealed, why,
                                         sizeof(why)),
                     0);
    assert_true(sealed);
    assert_string_equal(why, "");
    n = read_events(ev, 4);
    assert_int_equal(n, 2);
    assert_string_equal(json_string_value(json_object_get(ev[0], "type")),
                        "pam.account");
    {
        static const char *const want[][2] = {
            {"user", "alice"}, {"from", "203.0.113.7"}, {"service", "sshd"},
            {"target", "jump-host"}, {"action", "shell"}, {"result", "allow"},
            {"rule", "ops-jump"}, {"reason", "rule allows"}};
        for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
            const char *v =
                json_string_value(json_object_get(ev[0], want[i][0]));
            if (v == NULL || strcmp(v, want[i][1]) != 0)
                fail_msg("%s: '%s', not '%s'", want[i][0], v ? v : "(null)",
                         want[i][1]);
        }
    }
    assert_string_equal(json_string_value(json_object_get(ev[1], "type")),
                        "seal");
    for (i = 0; i < n; i++)
        json_decref(ev[i]);
    assert_int_equal(jg_audit_key_load_public(key_path, &pub), 0);
    assert_int_equal(jg_audit_verify_log(audit_dir, pub, &st, &d), 0);
    assert_int_equal(st.unsealed, 0);
    jg_audit_key_free(pub);
    jg_diags_clear(&d);
}

static void
test_unreadable_key_appends_unsealed(void **state)
{
    char missing[128];
    struct jg_config cfg = {.audit_dir = audit_dir,
                            .audit_signing_key = missing};
    struct jg_pam_event e = allow_ev;
    struct jg_audit_key *pub = NULL;
    struct jg_audit_log_status st;
    struct jg_diags d = {0};
    char why[256];
    bool sealed = true;
    json_t *ev[4];
    size_t n, i;

    snprintf(missing, sizeof(missing), "%s/nokey.pem", dir);
    e.from = NULL;
    e.service = "su\xff";
    assert_int_equal(jg_pam_event_append(&cfg, &e, NOW, &sealed, why,
                                         sizeof(why)),
                     0);
    assert_false(sealed);
    assert_non_null(strstr(why, "nokey.pem: No such file or directory"));
    n = read_events(ev, 4);
    assert_int_equal(n, 1);
    assert_true(json_is_null(json_object_get(ev[0], "from")));
    /* Bytes that are not UTF-8 are replaced, never dropped. */
    assert_string_equal(json_string_value(json_object_get(ev[0], "service")),
                        "su\xef\xbf\xbd");
    for (i = 0; i < n; i++)
        json_decref(ev[i]);
    /* Verify: the one event is the unsealed tail, nothing else. */
    assert_int_equal(jg_audit_key_load_public(key_path, &pub), 0);
    assert_int_equal(jg_audit_verify_log(audit_dir, pub, &st, &d),
                     JG_ERR_INVALID);
    assert_int_equal(st.unsealed, 1);
    assert_int_equal(d.n, 1);
    jg_diags_clear(&d);
    /* The next sealing writer covers it. */
    cfg.audit_signing_key = key_path;
    assert_int_equal(jg_pam_event_append(&cfg, &allow_ev, NOW + 1, &sealed,
                                         why, sizeof(why)),
                     0);
    assert_true(sealed);
    assert_int_equal(jg_audit_verify_log(audit_dir, pub, &st, &d), 0);
    jg_audit_key_free(pub);
    jg_diags_clear(&d);
}

static void
test_no_audit_dir_writes_nothing(void **state)
{
    char gone[128];
    struct jg_config cfg = {.audit_dir = gone, .audit_signing_key = key_path};
    char why[256];
    bool sealed = true;

    snprintf(gone, sizeof(gone), "%s/none", dir);
    assert_int_equal(jg_pam_event_append(&cfg, &allow_ev, NOW, &sealed, why,
                                         sizeof(why)),
                     JG_ERR_NOTFOUND);
    assert_false(sealed);
    assert_int_equal(access(gone, F_OK), -1);
    assert_int_equal(jg_pam_event_append(NULL, &allow_ev, NOW, &sealed, why,
                                         sizeof(why)),
                     JG_ERR_NOTFOUND);
}

static void
test_unwritable_events_is_an_error(void **state)
{
    struct jg_config cfg = {.audit_dir = audit_dir,
                            .audit_signing_key = key_path};
    char events[128], why[256];
    bool sealed = true;
    FILE *f;
    int r;

    /* events/ is a file: nothing can be appended below it. */
    snprintf(events, sizeof(events), "%s/events", audit_dir);
    assert_non_null(f = fopen(events, "w"));
    fclose(f);
    r = jg_pam_event_append(&cfg, &allow_ev, NOW, &sealed, why, sizeof(why));
    assert_true(r != 0 && r != JG_ERR_NOTFOUND);
    assert_false(sealed);
    assert_non_null(strstr(why, "/events: Not a directory"));
    unlink(events);
    /* The day file is a folder. */
    assert_int_equal(mkdir(events, 0750), 0);
    assert_int_equal(mkdir(day_path, 0750), 0);
    r = jg_pam_event_append(&cfg, &allow_ev, NOW, &sealed, why, sizeof(why));
    assert_true(r != 0 && r != JG_ERR_NOTFOUND);
    assert_non_null(strstr(why, "cannot append: Is a directory"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sealed_event_members, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_key_appends_unsealed,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_audit_dir_writes_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_events_is_an_error,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
