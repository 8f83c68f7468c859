/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/policy/test_auditors.c - the auditors section: which account
 * is which auditor, and whose sessions on which targets each one sees
 * (named users, groups, everyone; target names, globs, labels, members of
 * a discovering target; users and targets the policy no longer knows). */
#include "jgtest.h"

static const char text[] =
    "version: 1\n"
    "users:\n"
    "  alice: {keys: [\"" KEY_ED25519 "\"], groups: [ops], from: [10.0.0.0/8]}\n"
    "  bob: {keys: [\"" KEY_ED25519 "\"], groups: [dev], from: [10.0.0.0/8]}\n"
    "  dave: {keys: [\"" KEY_ED25519 "\"], from: [10.0.0.0/8]}\n"
    "targets:\n"
    "  web-1: {kind: ssh, address: \"10.0.0.1:22\", labels: {tier: ecs}}\n"
    "  web-2: {kind: ssh, address: \"10.0.0.2:22\", labels: {tier: ecs}}\n"
    "  monitor: {kind: ssh, address: \"10.0.0.3:22\"}\n"
    "  ecs-prod: {kind: ssh, discover: {ecs_cluster: prod}, labels: {tier: ecs}}\n"
    "auditors:\n"
    "  - name: ops-lead\n"
    "    accounts: [carol, erin]\n"
    "    sees: {groups: [ops], users: [dave], targets: [\"tier=ecs\"]}\n"
    "  - name: pci\n"
    "    accounts: [frank]\n"
    "    sees: {users: [\"*\"]}\n"
    "  - name: mon\n"
    "    accounts: [gina]\n"
    "    sees: {users: [bob], targets: [\"mon*\"]}\n";

static void
test_scopes(void **state)
{
    struct jg_diags d = {0};
    struct jg_policy *p = NULL;
    const struct jg_auditor *lead, *pci, *mon;

    (void)state;
    assert_int_equal(jg_policy_load_mem("a.yaml", text, sizeof(text) - 1, 0,
                                        &p, &d), 0);
    assert_int_equal(jg_policy_n_auditors(p), 3);
    lead = jg_policy_auditor(p, "erin");
    assert_non_null(lead);
    assert_string_equal(lead->name, "ops-lead");
    assert_ptr_equal(jg_policy_auditor(p, "carol"), lead);
    assert_null(jg_policy_auditor(p, "alice"));   /* a user, not an auditor */
    assert_null(jg_policy_auditor(p, NULL));
    pci = jg_policy_auditor(p, "frank");
    mon = jg_policy_auditor(p, "gina");

    /* ops-lead: group ops (alice) and dave, on tier=ecs only */
    assert_true(jg_policy_auditor_sees(p, lead, "alice", "web-1"));
    assert_true(jg_policy_auditor_sees(p, lead, "dave", "web-2"));
    assert_false(jg_policy_auditor_sees(p, lead, "bob", "web-1"));
    assert_false(jg_policy_auditor_sees(p, lead, "alice", "monitor"));
    /* a member counts as its discovering target, found or not */
    assert_true(jg_policy_auditor_sees(p, lead, "alice", "ecs-prod/i-0abc"));
    assert_false(jg_policy_auditor_sees(p, lead, "alice", "gone/i-0abc"));
    assert_false(jg_policy_auditor_sees(p, lead, "alice", "/i-0abc"));
    /* users and targets the policy no longer knows: not seen */
    assert_false(jg_policy_auditor_sees(p, lead, "zoe", "web-1"));
    assert_false(jg_policy_auditor_sees(p, lead, "alice", "old-host"));
    assert_false(jg_policy_auditor_sees(p, lead, NULL, "web-1"));
    assert_false(jg_policy_auditor_sees(p, lead, "alice", NULL));

    /* pci: everyone, everywhere, even what the policy forgot */
    assert_true(jg_policy_auditor_sees(p, pci, "zoe", "old-host"));
    assert_true(jg_policy_auditor_sees(p, pci, NULL, NULL));

    /* mon: bob on monitor */
    assert_true(jg_policy_auditor_sees(p, mon, "bob", "monitor"));
    assert_false(jg_policy_auditor_sees(p, mon, "bob", "web-1"));
    assert_false(jg_policy_auditor_sees(p, mon, "alice", "monitor"));
    assert_false(jg_policy_auditor_sees(p, NULL, "bob", "monitor"));
    jg_policy_free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scopes),
    };

    return cmocka_run_group_tests_name("policy/auditors", tests, NULL, NULL);
}
