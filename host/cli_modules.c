/**
 * @file host/cli_modules.c
 * @short --list-modules: every loaded module with its kind, version,
 *        description, schemes and declared options, as aligned text.
 *
 * Owns nothing; writes to the stream it is given.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/** Widest column we pad to; longer cells push the rest of the line. */
#define CLI_COL_MAX 40

static const char *cli_type_name(rv_option_type type)
{
    switch (type) {
    case RV_OPT_BOOL: return "bool";
    case RV_OPT_INT: return "int";
    case RV_OPT_FLOAT: return "float";
    case RV_OPT_STRING: return "string";
    case RV_OPT_ENUM: return "enum";
    case RV_OPT_PATH: return "path";
    default: return "?";
    }
}

/** The default of @p o as text into @p buf. */
static const char *cli_default_text(const rv_option *o, char *buf, size_t len)
{
    switch (o->type) {
    case RV_OPT_BOOL: snprintf(buf, len, "%s", o->default_int ? "true" : "false"); break;
    case RV_OPT_INT: snprintf(buf, len, "%lld", (long long)o->default_int); break;
    case RV_OPT_FLOAT: snprintf(buf, len, "%g", o->default_float); break;
    default:
        snprintf(buf, len, "\"%s\"", o->default_string ? o->default_string : "");
        break;
    }
    return buf;
}

/** The range or choices of @p o as text into @p buf ("" when any value). */
static const char *cli_range_text(const rv_option *o, char *buf, size_t len)
{
    buf[0] = '\0';
    switch (o->type) {
    case RV_OPT_INT:
        if (o->min_int || o->max_int)
            snprintf(buf, len, "%lld..%lld", (long long)o->min_int, (long long)o->max_int);
        break;
    case RV_OPT_FLOAT:
        if (o->min_float != 0.0 || o->max_float != 0.0)
            snprintf(buf, len, "%g..%g", o->min_float, o->max_float);
        break;
    case RV_OPT_ENUM: {
        size_t pos = 0;
        for (size_t i = 0; o->choices && o->choices[i] && pos < len; i++) {
            int n = snprintf(buf + pos, len - pos, "%s%s", i ? "|" : "", o->choices[i]);
            if (n < 0)
                break;
            pos += (size_t)n;
        }
        break;
    }
    case RV_OPT_BOOL: snprintf(buf, len, "true|false"); break;
    case RV_OPT_PATH: snprintf(buf, len, "relative to the config"); break;
    default: break;
    }
    return buf;
}

static int cli_width(int current, const char *text)
{
    int n = (int)strlen(text);
    if (n > CLI_COL_MAX)
        n = CLI_COL_MAX;
    return n > current ? n : current;
}

static void cli_print_options(FILE *out, const rv_option *table)
{
    if (!table || !table[0].key) {
        fprintf(out, "  options: none\n");
        return;
    }
    char def[256];
    char range[512];
    int wkey = (int)strlen("OPTION");
    int wtype = (int)strlen("TYPE");
    int wdef = (int)strlen("DEFAULT");
    int wrange = (int)strlen("RANGE/CHOICES");
    for (size_t i = 0; table[i].key; i++) {
        wkey = cli_width(wkey, table[i].key);
        wtype = cli_width(wtype, cli_type_name(table[i].type));
        wdef = cli_width(wdef, cli_default_text(&table[i], def, sizeof(def)));
        wrange = cli_width(wrange, cli_range_text(&table[i], range, sizeof(range)));
    }
    fprintf(out, "  options:\n");
    fprintf(out, "    %-*s  %-*s  %-*s  %-*s  %s\n", wkey, "OPTION", wtype, "TYPE", wdef,
            "DEFAULT", wrange, "RANGE/CHOICES", "HELP");
    for (size_t i = 0; table[i].key; i++) {
        const rv_option *o = &table[i];
        cli_range_text(o, range, sizeof(range));
        fprintf(out, "    %-*s  %-*s  %-*s  %-*s  %s\n", wkey, o->key, wtype,
                cli_type_name(o->type), wdef, cli_default_text(o, def, sizeof(def)), wrange,
                range[0] ? range : "-", o->help ? o->help : "");
    }
}

void cli_list_modules(FILE *out, const module_registry *reg)
{
    size_t n = registry_count(reg);
    if (n == 0) {
        fprintf(out, "no modules loaded\n");
        return;
    }
    int wname = 0;
    for (size_t i = 0; i < n; i++)
        wname = cli_width(wname, registry_at(reg, i)->name);
    for (size_t i = 0; i < n; i++) {
        const loaded_module *m = registry_at(reg, i);
        if (i)
            fprintf(out, "\n");
        fprintf(out, "%-*s  %-8s  %s  %s\n", wname, m->name, rv_module_kind_name(m->kind),
                m->info->version, m->info->description);
        fprintf(out, "  file: %s\n", m->path);
        if (m->kind == RV_KIND_PRODUCER && m->producer.schemes) {
            fprintf(out, "  schemes:");
            for (size_t s = 0; m->producer.schemes[s]; s++)
                fprintf(out, "%s %s", s ? "," : "",
                        m->producer.schemes[s][0] ? m->producer.schemes[s] : "(bare path)");
            fprintf(out, "\n");
        }
        cli_print_options(out, m->info->options);
    }
}
