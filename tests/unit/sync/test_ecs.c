/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/sync/test_ecs.c - the ECS discovery pieces that need no
 * network: the ListContainerInstances and DescribeContainerInstances
 * parsers (shapes from the ECS API reference, and malformed answers), the
 * DescribeInstances fields discovery reads, the aliases members get, and
 * the discovered-members file as the policy loader reads it back. */
#include <sys/stat.h>
#include <unistd.h>

#include "jgtest.h"
#include "sync/sync.h"

static void
free_strv(char **v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void
test_list(void **state)
{
    static const char page1[] =
        "{\"containerInstanceArns\": ["
        "\"arn:aws:ecs:eu-west-1:123456789012:container-instance/shop/a1\","
        "\"arn:aws:ecs:eu-west-1:123456789012:container-instance/shop/b2\"],"
        "\"nextToken\": \"tok-1\"}";
    static const char page2[] =
        "{\"containerInstanceArns\": ["
        "\"arn:aws:ecs:eu-west-1:123456789012:container-instance/shop/c3\"]}";
    static const struct {
        const char *doc;
        const char *err;
    } bad[] = {
        {"", "not JSON"},
        {"[1]", "not a JSON object"},
        {"{}", "containerInstanceArns is missing"},
        {"{\"containerInstanceArns\": {}}", "is not an array"},
        {"{\"containerInstanceArns\": [1]}", "[0] is not an ARN"},
        {"{\"containerInstanceArns\": [\"\"]}", "[0] is not an ARN"},
        {"{\"containerInstanceArns\": [], \"nextToken\": 5}", "nextToken"},
        /* a NUL inside a string is refused by the JSON reader itself */
        {"{\"containerInstanceArns\": [\"a\\u0000b\"]}", "not JSON"},
    };
    char **arns = NULL, *tok = NULL, err[256];
    size_t n = 0, i;

    (void)state;
    assert_int_equal(jg_sync_ecs_parse_list(page1, strlen(page1), &arns, &n,
                                            &tok, err, sizeof(err)), 0);
    assert_int_equal(n, 2);
    assert_string_equal(tok, "tok-1");
    free(tok);
    assert_int_equal(jg_sync_ecs_parse_list(page2, strlen(page2), &arns, &n,
                                            &tok, err, sizeof(err)), 0);
    assert_int_equal(n, 3);
    assert_null(tok);
    assert_string_equal(arns[2], "arn:aws:ecs:eu-west-1:123456789012:"
                                 "container-instance/shop/c3");
    /* a null or empty nextToken ends the paging too */
    {
        static const char last[] =
            "{\"containerInstanceArns\": [], \"nextToken\": \"\"}";

        assert_int_equal(jg_sync_ecs_parse_list(last, strlen(last), &arns,
                                                &n, &tok, err, sizeof(err)),
                         0);
    }
    assert_null(tok);
    assert_int_equal(n, 3);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t before = n;

        err[0] = '\0';
        if (jg_sync_ecs_parse_list(bad[i].doc, strlen(bad[i].doc), &arns, &n,
                                   &tok, err, sizeof(err)) != JG_ERR_INVALID)
            fail_msg("bad[%zu] accepted", i);
        if (strstr(err, bad[i].err) == NULL)
            fail_msg("bad[%zu]: '%s' does not say '%s'", i, err, bad[i].err);
        assert_null(tok);
        assert_int_equal(n, before);
    }
    free_strv(arns, n);
}

static void
test_describe(void **state)
{
    static const char doc[] =
        "{\"containerInstances\": ["
        " {\"containerInstanceArn\": \"arn:aws:ecs:eu-west-1:1:"
        "container-instance/shop/a1\", \"ec2InstanceId\": "
        "\"i-0123456789abcdef0\", \"status\": \"ACTIVE\", "
        "\"agentConnected\": true, \"runningTasksCount\": 3,"
        " \"versionInfo\": {\"agentVersion\": \"1.82.0\"}},"
        " {\"containerInstanceArn\": \"arn:aws:ecs:eu-west-1:1:"
        "container-instance/shop/b2\", \"ec2InstanceId\": \"i-89abcdef\","
        " \"status\": \"DRAINING\"}],"
        " \"failures\": [{\"arn\": \"arn:x\", \"reason\": \"MISSING\"}]}";
    static const struct {
        const char *doc;
        const char *err;
    } bad[] = {
        {"{\"failures\": []}", "containerInstances is missing"},
        {"{\"containerInstances\": [], \"failures\": {}}",
         "failures is not an array"},
        {"{\"containerInstances\": [7]}", "[0] is not an object"},
        {"{\"containerInstances\": [{\"ec2InstanceId\": \"i-01234567\", "
         "\"status\": \"ACTIVE\"}]}", "containerInstanceArn missing"},
        {"{\"containerInstances\": [{\"containerInstanceArn\": \"a\", "
         "\"ec2InstanceId\": \"i-01234567\"}]}", "status missing"},
        {"{\"containerInstances\": [{\"containerInstanceArn\": \"a\", "
         "\"status\": \"ACTIVE\", \"ec2InstanceId\": \"i-0123/../x\"}]}",
         "not an instance id"},
        {"{\"containerInstances\": [{\"containerInstanceArn\": \"a\", "
         "\"status\": \"ACTIVE\"}]}", "ec2InstanceId missing"},
        {"{\"containerInstances\": [], \"failures\": [{\"reason\": 3}]}",
         "failures[0]"},
    };
    struct jg_sync_container_instance *v = NULL;
    size_t n = 0, nf = 9, i;
    char err[256];

    (void)state;
    assert_int_equal(jg_sync_ecs_parse_describe(doc, strlen(doc), &v, &n, &nf,
                                                err, sizeof(err)), 0);
    assert_int_equal(n, 2);
    assert_int_equal(nf, 1);
    assert_string_equal(v[0].instance_id, "i-0123456789abcdef0");
    assert_string_equal(v[0].status, "ACTIVE");
    assert_string_equal(v[1].instance_id, "i-89abcdef");
    assert_string_equal(v[1].status, "DRAINING");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (jg_sync_ecs_parse_describe(bad[i].doc, strlen(bad[i].doc), &v, &n,
                                       NULL, err, sizeof(err)) !=
            JG_ERR_INVALID)
            fail_msg("bad[%zu] accepted", i);
        if (strstr(err, bad[i].err) == NULL)
            fail_msg("bad[%zu]: '%s' does not say '%s'", i, err, bad[i].err);
        assert_int_equal(n, 2);
    }
    jg_sync_container_instances_free(v, n);

    assert_true(jg_sync_instance_id_ok("i-01234567"));
    assert_true(jg_sync_instance_id_ok("i-0123456789abcdef0"));
    assert_false(jg_sync_instance_id_ok("i-0123456789ABCDEF0"));
    assert_false(jg_sync_instance_id_ok("i-0123456"));
    assert_false(jg_sync_instance_id_ok("x-01234567"));
    assert_false(jg_sync_instance_id_ok(NULL));
}

static void
test_instances(void **state)
{
    static const char doc[] =
        "<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/"
        "2016-11-15/\"><requestId>r</requestId><reservationSet>"
        "<item><reservationId>r-1</reservationId><instancesSet>"
        "<item><instanceId>i-0123456789abcdef0</instanceId>"
        "<instanceState><code>16</code><name>running</name></instanceState>"
        "<privateIpAddress>10.0.1.11</privateIpAddress>"
        "<tagSet><item><key>env</key><value>prod</value></item>"
        "<item><key>Name</key><value>web-a</value></item></tagSet></item>"
        "<item><instanceId>i-89abcdef</instanceId>"
        "<instanceState><code>80</code><name>stopped</name></instanceState>"
        "</item></instancesSet></item></reservationSet>"
        "<nextToken>n2</nextToken></DescribeInstancesResponse>";
    struct jg_sync_instance *v = NULL;
    char *tok = NULL, err[256];
    size_t n = 0;

    (void)state;
    assert_int_equal(jg_sync_ec2_parse_instances(doc, strlen(doc), &v, &n,
                                                 &tok, err, sizeof(err)), 0);
    assert_int_equal(n, 2);
    assert_string_equal(tok, "n2");
    assert_string_equal(v[0].private_ip, "10.0.1.11");
    assert_string_equal(v[0].state, "running");
    assert_string_equal(v[0].name_tag, "web-a");
    assert_null(v[1].private_ip);
    assert_null(v[1].name_tag);
    assert_string_equal(v[1].state, "stopped");
    jg_sync_instances_free(v, n);
    free(tok);
}

static struct jg_sync_member *
members(const char *const *ids, const char *const *tags, size_t n)
{
    struct jg_sync_member *v = calloc(n, sizeof(*v));
    size_t i;

    for (i = 0; i < n; i++) {
        v[i].instance_id = strdup(ids[i]);
        v[i].address = strdup("10.0.0.1:22");
        v[i].name_tag = tags[i] != NULL ? strdup(tags[i]) : NULL;
    }
    return v;
}

static void
test_aliases(void **state)
{
    /* unique valid tag -> the tag; shared tag, bad tag, "i-" tag, no tag
     * -> the last 8 characters of the id, longer where another id ends
     * the same way or a tag took them */
    static const char *const ids[] = {
        "i-0aaaaaaaaaaaaaaaa", "i-0bbbbbbbb11112222", "i-0cccccccc11112222",
        "i-0dddddddddddddddd", "i-0eeeeeeeeeeeeeeee", "i-0ffffffffffffffff",
        "i-12345678"};
    static const char *const tags[] = {
        "web-a", "ECS Instance", "ECS Instance", "i-fake", NULL, "dddddddd",
        "web-b"};
    static const char *const want[] = {
        "web-a", "b11112222", "c11112222", "ddddddddd", "eeeeeeee",
        "dddddddd", "web-b"};
    struct jg_sync_member *v = members(ids, tags, 7);
    size_t i, k;

    (void)state;
    jg_sync_members_alias(v, 7);
    for (i = 0; i < 7; i++) {
        if (strcmp(v[i].alias, want[i]) != 0)
            fail_msg("member %zu: alias %s, expected %s", i, v[i].alias,
                     want[i]);
        for (k = 0; k < i; k++)
            assert_string_not_equal(v[i].alias, v[k].alias);
    }
    /* stable: the same input gives the same aliases */
    jg_sync_members_alias(v, 7);
    for (i = 0; i < 7; i++)
        assert_string_equal(v[i].alias, want[i]);
    jg_sync_members_free(v, 7);
}

/* What jg_sync_discovered_write writes, the policy loader reads back. */
static void
test_written_file_loads(void **state)
{
    static const char *const ids[] = {"i-0123456789abcdef0", "i-89abcdef"};
    static const char *const tags[] = {"web-a", NULL};
    char dir[64] = "/tmp/jg-ecs-XXXXXX", path[128], err[256], cmd[128];
    struct jg_sync_member *v = members(ids, tags, 2);
    struct jg_policy *p = NULL;
    struct jg_diags d = {0};
    const struct jg_target *t;
    struct stat st;
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/policy.yaml", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("version: 1\ntargets:\n  ecs-prod: {kind: ssh, discover: "
          "{ecs_cluster: shop}, labels: {tier: ecs}}\n", f);
    fclose(f);
    assert_int_equal(jg_policy_load(path, &p, &d), 0);
    jg_sync_members_alias(v, 2);
    assert_int_equal(jg_sync_discovered_write(path,
                                              jg_policy_target(p, "ecs-prod"),
                                              v, 2, T("2026-11-27T10:00:00Z"),
                                              err, sizeof(err)), 0);
    jg_policy_free(p);
    p = NULL;
    snprintf(cmd, sizeof(cmd), "%s/policy.d/ecs-prod.discovered.json", dir);
    assert_int_equal(stat(cmd, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    if (jg_policy_load(path, &p, &d) != 0)
        jg_diags_print(&d, stderr);
    assert_non_null(p);
    assert_int_equal(jg_policy_n_members(p), 2);
    t = jg_policy_target(p, "ecs-prod/web-a");
    assert_non_null(t);
    assert_string_equal(t->name, "ecs-prod/i-0123456789abcdef0");
    assert_string_equal(t->host, "10.0.0.1");
    assert_int_equal(t->n_labels, 2);
    assert_string_equal(t->labels[1].value, "i-0123456789abcdef0");
    assert_non_null(jg_policy_target(p, "ecs-prod/89abcdef"));
    jg_policy_free(p);
    jg_sync_members_free(v, 2);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_instances),
        cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_written_file_loads),
    };

    jg_log_init("test", false, JG_LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
