/**
 * @file tests/unit/test_options.c
 * @short rv_options: every type, ranges, enums, unknown keys, defaults,
 *        override, clone/equal, and refused module tables.
 */
#include <stdlib.h>
#include <string.h>

#include <retrovue/error.h>

#include "core/options.h"
#include "tap.h"

static const char *const patterns[] = {"bars", "solid", "gradient", NULL};

static const rv_option table[] = {
    {.key = "enabled", .type = RV_OPT_BOOL, .help = "on or off", .default_int = 1},
    {.key = "port", .type = RV_OPT_INT, .help = "TCP port", .default_int = 9000, .min_int = 1,
     .max_int = 65535},
    {.key = "count", .type = RV_OPT_INT, .help = "unbounded", .default_int = -5},
    {.key = "gain", .type = RV_OPT_FLOAT, .help = "dB", .default_float = 0.0, .min_float = -60.0,
     .max_float = 20.0},
    {.key = "title", .type = RV_OPT_STRING, .help = "text", .default_string = "RetroVue"},
    {.key = "pattern", .type = RV_OPT_ENUM, .help = "what", .default_string = "bars",
     .choices = patterns},
    {.key = "file", .type = RV_OPT_PATH, .help = "a path", .default_string = NULL},
    {.key = NULL},
};

static raw_option raw_int(const char *key, int64_t v)
{
    return (raw_option){.key = (char *)key, .type = RAW_INT, .i = v};
}
static raw_option raw_float(const char *key, double v)
{
    return (raw_option){.key = (char *)key, .type = RAW_FLOAT, .f = v};
}
static raw_option raw_str(const char *key, const char *v)
{
    return (raw_option){.key = (char *)key, .type = RAW_STRING, .s = (char *)v};
}
static raw_option raw_bool(const char *key, int v)
{
    return (raw_option){.key = (char *)key, .type = RAW_BOOL, .i = v};
}

/** Build from one raw value; return the rc and keep the message in @p err. */
static int build_one(raw_option r, char *err, size_t len)
{
    rv_options *o = NULL;
    int rc = options_build(table, &r, 1, &o, err, len);
    options_free(o);
    return rc;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void test_defaults(void)
{
    char err[256] = "";
    rv_options *o = NULL;
    tap_ok(options_defaults(table, &o, err, sizeof(err)) == RV_OK && o != NULL, "defaults build");
    tap_ok(options_get_bool(o, "enabled") == 1 && options_get_int(o, "port") == 9000 &&
               options_get_int(o, "count") == -5 && options_get_float(o, "gain") == 0.0,
           "numeric defaults");
    tap_ok(strcmp(options_get_string(o, "title"), "RetroVue") == 0 &&
               strcmp(options_get_string(o, "pattern"), "bars") == 0 &&
               strcmp(options_get_string(o, "file"), "") == 0,
           "string defaults (a NULL default reads as \"\")");
    tap_ok(!options_is_set(o, "port") && !options_is_set(o, "title"), "defaults are not 'set'");
    tap_ok(options_get_int(o, "nosuch") == 0 && options_get_string(o, "nosuch") == NULL,
           "an undeclared key reads 0 / NULL");
    options_free(o);
}

static void test_every_type(void)
{
    char err[256] = "";
    raw_option raw[] = {raw_bool("enabled", 0),       raw_int("port", 1234),
                        raw_int("count", -9000000000), raw_float("gain", -1.5),
                        raw_str("title", "Hello"),     raw_str("pattern", "solid"),
                        raw_str("file", "/media/x.mp4")};
    rv_options *o = NULL;
    int rc = options_build(table, raw, 7, &o, err, sizeof(err));
    tap_ok(rc == RV_OK, "every type builds (%s)", err);
    if (rc != RV_OK)
        return;
    tap_ok(options_get_bool(o, "enabled") == 0 && options_get_int(o, "port") == 1234 &&
               options_get_int(o, "count") == -9000000000LL && options_get_float(o, "gain") == -1.5,
           "typed values read back");
    tap_ok(strcmp(options_get_string(o, "title"), "Hello") == 0 &&
               strcmp(options_get_string(o, "pattern"), "solid") == 0 &&
               strcmp(options_get_string(o, "file"), "/media/x.mp4") == 0,
           "string, enum and path values read back (path kept as given)");
    tap_ok(options_is_set(o, "port") && options_is_set(o, "file"), "configured keys are 'set'");

    rv_options *c = options_clone(o);
    tap_ok(c != NULL && options_equal(o, c), "clone is equal");
    raw_option change = raw_int("port", 4321);
    tap_ok(options_override(c, &change, err, sizeof(err)) == RV_OK &&
               options_get_int(c, "port") == 4321 && options_get_int(o, "port") == 1234,
           "override changes the clone only");
    tap_ok(!options_equal(o, c), "no longer equal after override");
    raw_option bad = raw_int("port", 0);
    tap_ok(options_override(c, &bad, err, sizeof(err)) == RV_EINVAL &&
               options_get_int(c, "port") == 4321 && starts_with(err, "port:"),
           "a refused override changes nothing (%s)", err);
    raw_option title = raw_str("title", "Other");
    tap_ok(options_override(c, &title, err, sizeof(err)) == RV_OK &&
               strcmp(options_get_string(c, "title"), "Other") == 0 &&
               strcmp(options_get_string(o, "title"), "Hello") == 0,
           "string override is a deep copy");
    options_free(c);
    options_free(o);
}

static void test_refusals(void)
{
    char err[256] = "";
    tap_ok(build_one(raw_int("port", 0), err, sizeof(err)) == RV_EINVAL &&
               starts_with(err, "port:") && strstr(err, "[1, 65535]") != NULL,
           "INT below range refused: %s", err);
    tap_ok(build_one(raw_int("port", 65536), err, sizeof(err)) == RV_EINVAL,
           "INT above range refused");
    tap_ok(build_one(raw_int("port", 65535), err, sizeof(err)) == RV_OK &&
               build_one(raw_int("port", 1), err, sizeof(err)) == RV_OK,
           "INT range is inclusive");
    tap_ok(build_one(raw_float("gain", 20.5), err, sizeof(err)) == RV_EINVAL &&
               starts_with(err, "gain:"),
           "FLOAT out of range refused: %s", err);
    tap_ok(build_one(raw_int("gain", -60), err, sizeof(err)) == RV_OK,
           "an INT is accepted where FLOAT is declared");
    tap_ok(build_one(raw_float("port", 80.0), err, sizeof(err)) == RV_EINVAL &&
               starts_with(err, "port:"),
           "a FLOAT is not accepted as INT: %s", err);
    tap_ok(build_one(raw_str("enabled", "yes"), err, sizeof(err)) == RV_EINVAL &&
               build_one(raw_int("enabled", 1), err, sizeof(err)) == RV_EINVAL,
           "BOOL accepts only booleans: %s", err);
    tap_ok(build_one(raw_int("title", 3), err, sizeof(err)) == RV_EINVAL &&
               starts_with(err, "title:"),
           "STRING refuses a number: %s", err);
    tap_ok(build_one(raw_str("pattern", "stripes"), err, sizeof(err)) == RV_EINVAL &&
               starts_with(err, "pattern:") && strstr(err, "bars, solid, gradient") != NULL,
           "ENUM outside its choices refused, choices listed: %s", err);
    tap_ok(build_one(raw_str("colour", "red"), err, sizeof(err)) == RV_EINVAL &&
               starts_with(err, "colour:") &&
               strstr(err, "unknown option 'colour' (known: enabled, port, count, gain, title, "
                           "pattern, file)") != NULL,
           "unknown key refused, known keys listed: %s", err);
    raw_option twice[] = {raw_int("port", 1), raw_int("port", 2)};
    rv_options *o = NULL;
    tap_ok(options_build(table, twice, 2, &o, err, sizeof(err)) == RV_EINVAL && o == NULL &&
               starts_with(err, "port:"),
           "a key given twice is refused: %s", err);
}

static void test_bad_tables(void)
{
    char err[256] = "";
    tap_ok(options_table_check(table, err, sizeof(err)) == RV_OK, "the good table checks");
    const rv_option dup[] = {{.key = "a", .type = RV_OPT_INT}, {.key = "a", .type = RV_OPT_BOOL},
                             {.key = NULL}};
    tap_ok(options_table_check(dup, err, sizeof(err)) == RV_EINVAL && starts_with(err, "a:"),
           "duplicate key refused: %s", err);
    const rv_option empty[] = {{.key = "", .type = RV_OPT_INT}, {.key = NULL}};
    tap_ok(options_table_check(empty, err, sizeof(err)) == RV_EINVAL, "empty key refused: %s", err);
    const rv_option badtype[] = {{.key = "t", .type = (rv_option_type)0}, {.key = NULL}};
    tap_ok(options_table_check(badtype, err, sizeof(err)) == RV_EINVAL, "type 0 refused: %s", err);
    const rv_option range[] = {
        {.key = "r", .type = RV_OPT_INT, .default_int = 100, .min_int = 1, .max_int = 10},
        {.key = NULL}};
    tap_ok(options_table_check(range, err, sizeof(err)) == RV_EINVAL && starts_with(err, "r:"),
           "default outside range refused: %s", err);
    const rv_option fr[] = {
        {.key = "f", .type = RV_OPT_FLOAT, .default_float = -1, .min_float = 0, .max_float = 1},
        {.key = NULL}};
    tap_ok(options_table_check(fr, err, sizeof(err)) == RV_EINVAL, "float default out of range: %s",
           err);
    const rv_option en[] = {
        {.key = "e", .type = RV_OPT_ENUM, .default_string = "x", .choices = patterns},
        {.key = NULL}};
    tap_ok(options_table_check(en, err, sizeof(err)) == RV_EINVAL && starts_with(err, "e:"),
           "ENUM default not among choices refused: %s", err);
    const rv_option nochoice[] = {{.key = "e", .type = RV_OPT_ENUM, .default_string = "x"},
                                  {.key = NULL}};
    tap_ok(options_table_check(nochoice, err, sizeof(err)) == RV_EINVAL,
           "ENUM without choices refused: %s", err);
    rv_options *o = NULL;
    tap_ok(options_defaults(range, &o, err, sizeof(err)) == RV_EINVAL && o == NULL,
           "options_defaults validates the defaults");
    const rv_option none[] = {{.key = NULL}};
    tap_ok(options_defaults(none, &o, err, sizeof(err)) == RV_OK && o != NULL,
           "an empty table is fine");
    options_free(o);
}

static void test_raw_free(void)
{
    raw_option r = {.key = strdup("k"), .type = RAW_STRING, .s = strdup("v")};
    raw_option_free(&r);
    tap_ok(r.key == NULL && r.s == NULL, "raw_option_free frees and clears its strings");
}

int main(void)
{
    tap_plan(5 + 9 + 11 + 10 + 1);
    test_defaults();
    test_every_type();
    test_refusals();
    test_bad_tables();
    test_raw_free();
    return tap_done();
}
