/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/sync/test_s3_xml.c - the S3 answer parsers: the <Error>
 * envelope (as S3 and s3rver write it), CreateMultipartUpload and
 * CompleteMultipartUpload results, a 200 answer with an <Error> inside, and
 * documents that must be refused (DTDs, entities, wrong roots). */
#include "jgtest.h"
#include "sync/sync.h"

#define XMLDECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define NS " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

static void
test_error_envelope(void **state)
{
    static const struct {
        const char *doc;
        int rc;
        const char *code, *message, *request_id;
    } cases[] = {
        {XMLDECL "<Error><Code>NoSuchBucket</Code><Message>The specified "
                 "bucket does not exist</Message><BucketName>shop-audit"
                 "</BucketName><RequestId>4442587FB7D0A2F9</RequestId>"
                 "<HostId>eftixk72aD6Ap51T</HostId></Error>",
         0, "NoSuchBucket", "The specified bucket does not exist",
         "4442587FB7D0A2F9"},
        {"<Error>\n  <Code> SlowDown </Code>\n  <Message>Please reduce your "
         "request rate.</Message>\n</Error>",
         0, "SlowDown", "Please reduce your request rate.", ""},
        {"<Error><Code>AccessDenied</Code></Error>", 0, "AccessDenied", "",
         ""},
        /* control characters never reach a terminal */
        {"<Error><Code>Bad&#9;Code</Code><Message>a&#10;b</Message></Error>",
         0, "Bad?Code", "a?b", ""},
        {"<Error><Message>no code</Message></Error>", JG_ERR_INVALID, "", "",
         ""},
        {"<Error><Code></Code></Error>", JG_ERR_INVALID, "", "", ""},
        {"<Response><Errors><Error><Code>X</Code></Error></Errors></Response>",
         JG_ERR_INVALID, "", "", ""},
        {"<html>502 Bad Gateway</html>", JG_ERR_INVALID, "", "", ""},
        {"not xml at all", JG_ERR_INVALID, "", "", ""},
        {"", JG_ERR_INVALID, "", "", ""},
        {"<!DOCTYPE Error [<!ENTITY x \"boom\">]><Error><Code>&x;</Code>"
         "</Error>", JG_ERR_INVALID, "", "", ""},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct jg_sync_s3_error e;
        int rc = jg_sync_s3_parse_error(cases[i].doc, strlen(cases[i].doc),
                                        &e);

        if (rc != cases[i].rc)
            fail_msg("%s:%d: case %zu: rc %d, want %d", __FILE__, __LINE__, i,
                     rc, cases[i].rc);
        if (rc != 0)
            continue;
        if (strcmp(e.code, cases[i].code) != 0 ||
            strcmp(e.message, cases[i].message) != 0 ||
            strcmp(e.request_id, cases[i].request_id) != 0)
            fail_msg("%s:%d: case %zu: got [%s|%s|%s]", __FILE__, __LINE__, i,
                     e.code, e.message, e.request_id);
    }
}

static void
test_error_truncates_long_fields(void **state)
{
    char doc[4096], big[1500];
    struct jg_sync_s3_error e;

    (void)state;
    memset(big, 'm', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    snprintf(doc, sizeof(doc), "<Error><Code>InternalError</Code><Message>"
             "%s</Message><RequestId>%s</RequestId></Error>", big, big);
    assert_int_equal(jg_sync_s3_parse_error(doc, strlen(doc), &e), 0);
    assert_string_equal(e.code, "InternalError");
    assert_int_equal(strlen(e.message), sizeof(e.message) - 1);
    assert_int_equal(strlen(e.request_id), sizeof(e.request_id) - 1);
}

static void
test_initiate(void **state)
{
    static const struct {
        const char *doc;
        int rc;
        const char *id;
    } cases[] = {
        {XMLDECL "<InitiateMultipartUploadResult" NS "><Bucket>shop-audit"
                 "</Bucket><Key>jump-1/x.cast</Key><UploadId>VXBsb2FkIElEIGZv"
                 "ciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>"
                 "</InitiateMultipartUploadResult>",
         0, "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA"},
        {"<InitiateMultipartUploadResult><UploadId>a/b+c=</UploadId>"
         "</InitiateMultipartUploadResult>", 0, "a/b+c="},
        {"<InitiateMultipartUploadResult><UploadId></UploadId>"
         "</InitiateMultipartUploadResult>", JG_ERR_INVALID, NULL},
        {"<InitiateMultipartUploadResult><Key>k</Key>"
         "</InitiateMultipartUploadResult>", JG_ERR_INVALID, NULL},
        {"<Error><Code>AccessDenied</Code></Error>", JG_ERR_INVALID, NULL},
        {"<InitiateMultipartUploadResult>", JG_ERR_INVALID, NULL},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *id = (char *)"unset", err[256] = "";
        int rc = jg_sync_s3_parse_initiate(cases[i].doc, strlen(cases[i].doc),
                                           &id, err, sizeof(err));

        if (rc != cases[i].rc)
            fail_msg("%s:%d: case %zu: rc %d, want %d (%s)", __FILE__,
                     __LINE__, i, rc, cases[i].rc, err);
        if (rc == 0) {
            assert_string_equal(id, cases[i].id);
            free(id);
        } else {
            assert_null(id);
            assert_true(err[0] != '\0');
        }
    }
}

static void
test_complete(void **state)
{
    static const struct {
        const char *doc;
        int rc;
        const char *etag, *code;
    } cases[] = {
        {XMLDECL "<CompleteMultipartUploadResult" NS "><Location>http://x/"
                 "</Location><Bucket>b</Bucket><Key>k</Key><ETag>&quot;"
                 "3858f62230ac3c915f300c664312c11f-9&quot;</ETag>"
                 "</CompleteMultipartUploadResult>",
         0, "3858f62230ac3c915f300c664312c11f-9", NULL},
        /* s3rver's: the MD5 of the whole object */
        {"<CompleteMultipartUploadResult><ETag>\"d41d8cd98f00b204e9800998ecf"
         "8427e\"</ETag></CompleteMultipartUploadResult>",
         0, "d41d8cd98f00b204e9800998ecf8427e", NULL},
        /* 200 OK with an error inside (documented by S3) */
        {XMLDECL "\n\n<Error><Code>InternalError</Code><Message>We "
                 "encountered an internal error. Please try again.</Message>"
                 "<RequestId>656c76696e6727732072657175657374</RequestId>"
                 "</Error>",
         JG_ERR_DENIED, NULL, "InternalError"},
        {"<CompleteMultipartUploadResult><ETag>\"\"</ETag>"
         "</CompleteMultipartUploadResult>", JG_ERR_INVALID, NULL, NULL},
        {"<CompleteMultipartUploadResult></CompleteMultipartUploadResult>",
         JG_ERR_INVALID, NULL, NULL},
        {"<Error><Message>m</Message></Error>", JG_ERR_INVALID, NULL, NULL},
        {"<ListBucketResult/>", JG_ERR_INVALID, NULL, NULL},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct jg_sync_s3_error e;
        char etag[80], err[256] = "";
        int rc = jg_sync_s3_parse_complete(cases[i].doc, strlen(cases[i].doc),
                                           etag, sizeof(etag), &e, err,
                                           sizeof(err));

        if (rc != cases[i].rc)
            fail_msg("%s:%d: case %zu: rc %d, want %d (%s)", __FILE__,
                     __LINE__, i, rc, cases[i].rc, err);
        if (cases[i].etag != NULL)
            assert_string_equal(etag, cases[i].etag);
        if (cases[i].code != NULL) {
            assert_string_equal(e.code, cases[i].code);
            assert_string_equal(e.request_id,
                                "656c76696e6727732072657175657374");
        }
        if (rc != 0)
            assert_true(err[0] != '\0');
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_envelope),
        cmocka_unit_test(test_error_truncates_long_fields),
        cmocka_unit_test(test_initiate),
        cmocka_unit_test(test_complete),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
