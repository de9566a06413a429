/* The time arguments of last(1)'s -s, -t and -p, read as util-linux's
 * parse_timestamp reads them: with the C library's strptime and mktime, so a
 * local date means what it means to last on the same machine. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pyutmp_last.h"

#define USEC_PER_SEC 1000000LL
#define USEC_PER_MINUTE (60 * USEC_PER_SEC)
#define USEC_PER_HOUR (60 * USEC_PER_MINUTE)
#define USEC_PER_DAY (24 * USEC_PER_HOUR)
#define USEC_PER_WEEK (7 * USEC_PER_DAY)
#define USEC_PER_MONTH (2629800 * USEC_PER_SEC)
#define USEC_PER_YEAR (31557600 * USEC_PER_SEC)

/* Longest suffix first where one is the prefix of another ("months" before
 * "m"), as a prefix match picks the first that fits. */
static const struct {
    const char *suffix;
    long long usec;
} units[] = {
    {"seconds", USEC_PER_SEC}, {"second", USEC_PER_SEC}, {"sec", USEC_PER_SEC},
    {"s", USEC_PER_SEC}, {"minutes", USEC_PER_MINUTE}, {"minute", USEC_PER_MINUTE},
    {"min", USEC_PER_MINUTE}, {"months", USEC_PER_MONTH}, {"month", USEC_PER_MONTH},
    {"msec", 1000}, {"ms", 1000}, {"m", USEC_PER_MINUTE}, {"hours", USEC_PER_HOUR},
    {"hour", USEC_PER_HOUR}, {"hr", USEC_PER_HOUR}, {"h", USEC_PER_HOUR},
    {"days", USEC_PER_DAY}, {"day", USEC_PER_DAY}, {"d", USEC_PER_DAY},
    {"weeks", USEC_PER_WEEK}, {"week", USEC_PER_WEEK}, {"w", USEC_PER_WEEK},
    {"years", USEC_PER_YEAR}, {"year", USEC_PER_YEAR}, {"y", USEC_PER_YEAR},
    {"usec", 1}, {"us", 1}, {"", USEC_PER_SEC},
};

#define WHITESPACE " \t\n\r"

/* "5min", "1h 30min", "2.5days": a sum of numbers with units. */
static int parse_span(const char *text, long long *usec)
{
    const char *p = text;
    long long total = 0;
    int something = 0;

    for (;;) {
        long long whole, fraction = 0;
        unsigned digits = 0;
        char *end;
        size_t i;

        p += strspn(p, WHITESPACE);
        if (*p == 0)
            break;
        errno = 0;
        whole = strtoll(p, &end, 10);
        if (errno > 0)
            return errno;
        if (whole < 0)
            return ERANGE;
        if (*end == '.') {
            const char *start = end + 1;

            errno = 0;
            fraction = strtoll(start, &end, 10);
            if (errno > 0)
                return errno;
            if (fraction < 0)
                return ERANGE;
            if (end == start)
                return EINVAL;
            digits = (unsigned)(end - start);
        } else if (end == p) {
            return EINVAL;
        }
        end += strspn(end, WHITESPACE);
        for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            size_t n = strlen(units[i].suffix);

            if (strncmp(end, units[i].suffix, n) == 0) {
                long long part = fraction * units[i].usec;

                for (; digits > 0; digits--)
                    part /= 10;
                total += whole * units[i].usec + part;
                p = end + n;
                something = 1;
                break;
            }
        }
        if (i == sizeof(units) / sizeof(units[0]))
            return EINVAL;
    }
    if (!something)
        return EINVAL;
    *usec = total;
    return 0;
}

/* ".123456" or ",12" after a time: up to six digits of a second. */
static int parse_subseconds(const char *text, long long *usec)
{
    long long value = 0, factor = USEC_PER_SEC / 10;

    if (*text != '.' && *text != ',')
        return -1;
    while (*++text) {
        if (!isdigit((unsigned char)*text) || factor < 1)
            return -1;
        value += (*text - '0') * factor;
        factor /= 10;
    }
    *usec = value;
    return 0;
}

/* strptime with one format over the whole text; the clock's fields it does
 * not name keep what *tm had.  1: the text is that format. */
static int parse_as(const char *text, const char *format, struct tm *tm, const struct tm *start,
                    long long *sub, int with_subseconds)
{
    const char *rest;

    *tm = *start;
    rest = strptime(text, format, tm);
    if (rest == NULL)
        return 0;
    if (*rest == 0)
        return 1;
    return with_subseconds && parse_subseconds(rest, sub) == 0;
}

static const struct {
    const char *name;
    int day;
} weekdays[] = {
    {"Sunday", 0}, {"Sun", 0}, {"Monday", 1}, {"Mon", 1}, {"Tuesday", 2}, {"Tue", 2},
    {"Wednesday", 3}, {"Wed", 3}, {"Thursday", 4}, {"Thu", 4}, {"Friday", 5}, {"Fri", 5},
    {"Saturday", 6}, {"Sat", 6},
};

/* The date forms in the order util-linux tries them; those that name no
 * seconds set them to 0, those without a time of day set it to midnight. */
static const struct {
    const char *format;
    int subseconds; /* may end in ".123456" */
    int clear;      /* 1: seconds to 0; 2: the whole time of day to 0 */
} forms[] = {
    {"%y-%m-%d %H:%M:%S", 1, 0}, {"%Y-%m-%d %H:%M:%S", 1, 0}, {"%Y-%m-%dT%H:%M:%S", 1, 0},
    {"%y-%m-%d %H:%M", 0, 1},    {"%Y-%m-%d %H:%M", 0, 1},    {"%y-%m-%d", 0, 2},
    {"%Y-%m-%d", 0, 2},          {"%H:%M:%S", 1, 0},          {"%H:%M", 0, 1},
    {"%Y%m%d%H%M%S", 1, 0},
};

int pyutmp_parse_timestamp(const char *text, int64_t now, int64_t *usec)
{
    time_t reference = (time_t)now, when;
    struct tm tm, start;
    long long plus = 0, minus = 0, sub = 0, total;
    int weekday = -1, rc;
    size_t length = strlen(text), i;

    localtime_r(&reference, &tm);
    tm.tm_isdst = -1;

    if (strcmp(text, "now") == 0)
        goto finish;
    if (strcmp(text, "today") == 0 || strcmp(text, "yesterday") == 0 ||
        strcmp(text, "tomorrow") == 0) {
        tm.tm_mday += text[0] == 'y' ? -1 : text[1] == 'o' && text[2] == 'm' ? 1 : 0;
        tm.tm_sec = tm.tm_min = tm.tm_hour = 0;
        goto finish;
    }
    if (text[0] == '+' || text[0] == '-') {
        rc = parse_span(text + 1, text[0] == '+' ? &plus : &minus);
        if (rc)
            return rc;
        goto finish;
    }
    if (text[0] == '@') {
        const char *rest = strptime(text + 1, "%s", &tm);

        if (rest && (*rest == 0 || parse_subseconds(rest, &sub) == 0))
            goto finish;
        return EINVAL;
    }
    if (length >= 4 && strcmp(text + length - 4, " ago") == 0) {
        char *span = strndup(text, length - 4);

        if (span == NULL)
            return ENOMEM;
        rc = parse_span(span, &minus);
        free(span);
        if (rc)
            return rc;
        goto finish;
    }
    for (i = 0; i < sizeof(weekdays) / sizeof(weekdays[0]); i++) {
        size_t n = strlen(weekdays[i].name);

        if (strncasecmp(text, weekdays[i].name, n) == 0 && text[n] == ' ') {
            weekday = weekdays[i].day;
            text += n + 1;
            break;
        }
    }
    start = tm;
    for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        if (parse_as(text, forms[i].format, &tm, &start, &sub, forms[i].subseconds)) {
            if (forms[i].clear >= 1)
                tm.tm_sec = 0;
            if (forms[i].clear == 2)
                tm.tm_min = tm.tm_hour = 0;
            goto finish;
        }
    }
    return EINVAL;

finish:
    when = mktime(&tm);
    if (when == (time_t)-1)
        return EINVAL;
    if (weekday >= 0 && tm.tm_wday != weekday)
        return EINVAL;
    total = sub + (long long)when * USEC_PER_SEC + plus;
    /* util-linux's value is unsigned: a span back past the epoch is 0. */
    total = total > minus ? total - minus : 0;
    *usec = total;
    return 0;
}
