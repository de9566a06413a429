/* last(1) and lastb(1) of util-linux 2.38 over a wtmp or btmp file, at C speed
 * and in constant memory.  See pyutmp_last.h.
 *
 * The pairing is last's process_wtmp_file: records are read newest first; a
 * login is ended by the nearest later record on its line (a logout, or the
 * next login there); one without is ended by the boot or shutdown after it,
 * or is still logged in, or gone.  last keeps the later records in a list and
 * walks it for every login; here a hash table keyed by the line holds the one
 * entry per line that last could ever match (its newest), and a generation
 * number empties it in one step at a boot or shutdown.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utmpx.h>
#include <wchar.h>
#include <wctype.h>

#include "pyutmp_last.h"
#include "pyutmp_output.h"

#ifndef SHUTDOWN_TIME
#define SHUTDOWN_TIME 254 /* last's own type, for "shutdown" records on line "~" */
#endif

#define LINE_SIZE sizeof(((struct utmpx *)0)->ut_line)
#define USER_SIZE sizeof(((struct utmpx *)0)->ut_user)
#define HOST_SIZE sizeof(((struct utmpx *)0)->ut_host)

#define CHUNK_RECORDS 8192          /* 3 MiB a read */
#define DNS_CACHE 64

/* last's kinds of listing. */
enum { R_CRASH = 1, R_DOWN, R_NORMAL, R_NOW, R_REBOOT, R_PHANTOM, R_TIMECHANGE };

/* What the JSON says of a listed line: the true state, not last's text. */
struct truth {
    const char *type;   /* "session", "boot", "shutdown", "runlevel", "time change" */
    const char *status; /* "closed", "crash", "down", "still logged in", ... */
    int has_end;
    int64_t end_usec;
};

struct later {
    char line[LINE_SIZE];
    time_t sec;
    int64_t usec;
    uint32_t generation;
    int used;
};

#define MINUTES 256 /* a login and its logout are apart: more than one minute in use */

struct minute {
    time_t start;
    struct tm tm;
    int valid;
};

struct dns_entry {
    int32_t addr[4];
    int used, rc;
    char name[256];
};

struct engine {
    const struct pyutmp_last_options *opt;
    /* Writes wait for the reader, as last's do: no lock is held while they wait. */
    struct out *out;
    int quit;
    int64_t listed;

    time_t lastboot, lastrch, lastdown;
    int64_t lastboot_usec, lastdown_usec, lastrch_usec;
    int down_seen, rch_seen; /* a shutdown, a run level change after this record */
    int whydown;

    struct later *table;
    size_t capacity, count;
    uint32_t generation;

    /* Broken-down local times of whole minutes: see local_time(). */
    struct minute *minutes;

    struct dns_entry *dns;
};

/* --- times ------------------------------------------------------------------- */

static int64_t usec_of(const struct utmpx *ut)
{
    return (int64_t)ut->ut_tv.tv_sec * 1000000 + ut->ut_tv.tv_usec;
}

/* localtime_r for every time is what last spends most of its time on.  One
 * minute's broken-down time serves every second of it: since 1970 every
 * tzdata transition falls on a whole minute and every offset is whole minutes,
 * so two times of the same local minute differ only in tm_sec.  The minute is
 * found from localtime's own answer (t - tm_sec), not from t % 60, and a time
 * is served from a minute only when it falls inside it. */
static void local_time(struct engine *e, time_t t, struct tm *tm)
{
    struct minute *m = &e->minutes[(uint64_t)(t / 60) % MINUTES];

    if (m->valid && t >= m->start && t - m->start < 60) {
        *tm = m->tm;
        tm->tm_sec = (int)(t - m->start);
        return;
    }
    localtime_r(&t, tm);
    m->tm = *tm;
    m->start = t - tm->tm_sec;
    /* A leap second (a right/ zone) makes a minute of 61: no cache for it. */
    m->valid = tm->tm_sec < 60;
}

static const char day_names[] = "SunMonTueWedThuFriSat";
static const char month_names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

static char *two_digits(char *p, int value)
{
    p[0] = (char)('0' + value / 10);
    p[1] = (char)('0' + value % 10);
    return p + 2;
}

/* ctime_r's text without its newline: "Tue Nov 14 22:13:20 2023".  Written by
 * hand for the years ctime writes in four digits: it runs for every line. */
static int format_ctime(const struct tm *tm, char *dst, size_t size)
{
    long year = 1900L + tm->tm_year;
    char *p = dst;

    if (size < 25 || year < 1000 || year > 9999 || tm->tm_mday < 1 || tm->tm_mday > 31 ||
        tm->tm_wday < 0 || tm->tm_mon < 0)
        return snprintf(dst, size, "%.3s %.3s%3d %.2d:%.2d:%.2d %ld",
                        &day_names[3 * (tm->tm_wday % 7)], &month_names[3 * (tm->tm_mon % 12)],
                        tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec, year);
    memcpy(p, &day_names[3 * (tm->tm_wday % 7)], 3);
    p[3] = ' ';
    memcpy(p + 4, &month_names[3 * (tm->tm_mon % 12)], 3);
    p[7] = ' ';
    p[8] = tm->tm_mday < 10 ? ' ' : (char)('0' + tm->tm_mday / 10);
    p[9] = (char)('0' + tm->tm_mday % 10);
    p[10] = ' ';
    p = two_digits(p + 11, tm->tm_hour);
    *p++ = ':';
    p = two_digits(p, tm->tm_min);
    *p++ = ':';
    p = two_digits(p, tm->tm_sec);
    *p++ = ' ';
    p = two_digits(p, (int)(year / 100));
    p = two_digits(p, (int)(year % 100));
    *p = 0;
    return 24;
}

/* util-linux's strtime_iso(ISO_TIMESTAMP_T): "2023-11-14T22:13:20+01:00". */
static void format_iso(const struct tm *tm, char *dst, size_t size)
{
    int tmin = (int)(tm->tm_isdst < 0 ? 0 : tm->tm_gmtoff / 60);

    snprintf(dst, size, "%4ld-%.2d-%.2dT%02d:%02d:%02d%+03d:%02d", tm->tm_year + 1900L,
             tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec, tmin / 60,
             abs(tmin % 60));
}

/* last's time_formatter for its formats (TIME_* and 4: "hh:mm"). */
#define FMT_HHMM 4
static void format_time(struct engine *e, int fmt, time_t when, char *dst, size_t size)
{
    struct tm tm;

    if (fmt == PYUTMP_TIME_NONE) {
        *dst = 0;
        return;
    }
    local_time(e, when, &tm);
    if (fmt == FMT_HHMM && size >= 6 && tm.tm_hour >= 0 && tm.tm_hour < 100) {
        two_digits(dst, tm.tm_hour);
        dst[2] = ':';
        two_digits(dst + 3, tm.tm_min);
        dst[5] = 0;
    } else if (fmt == FMT_HHMM)
        snprintf(dst, size, "%02d:%02d", tm.tm_hour, tm.tm_min);
    else if (fmt == PYUTMP_TIME_ISO)
        format_iso(&tm, dst, size);
    else
        format_ctime(&tm, dst, size);
}

/* Python's datetime.isoformat() of a local time to the second, which the JSON
 * has always carried; from the minutes already broken down. */
static void json_time(struct engine *e, int64_t usec)
{
    struct tm tm;

    local_time(e, (time_t)floor_div(usec, (int64_t)USEC_PER_SEC), &tm);
    out_iso_tm(e->out, &tm);
}

/* --- text lines ----------------------------------------------------------------- */

/* printf's "%-W.Ps" into line: at most P bytes of s (up to a NUL), padded to W. */
static size_t field(char *line, size_t at, const char *s, int width, int precision)
{
    size_t n = strnlen(s, (size_t)precision);

    memcpy(line + at, s, n);
    at += n;
    for (; (int)n < width; n++)
        line[at++] = ' ';
    return at;
}

/* last's fputs_careful(line, stdout, '*'): an ASCII control character as '*'
 * and the character 64 away ("^A" is "*A"); past ASCII, a printable character
 * of the locale as it is, any other byte in octal ("\\377"). */
static void put_careful(struct out *out, const char *line, size_t n)
{
    char escaped[5];
    size_t i = 0, start = 0;

    while (i < n) {
        int c = line[i]; /* a plain char, as last passes it: signed on this ABI */

        if ((c >= 0x20 && c < 0x7f) || c == '\n' || isprint(c) || c == '\a' || c == '\t' ||
            c == '\r') {
            i++;
            continue;
        }
        out_put(out, line + start, i - start);
        if (c & ~0x7f) {
            mbstate_t state;
            wchar_t w;
            size_t len;

            memset(&state, 0, sizeof(state));
            len = mbrtowc(&w, line + i, n - i, &state);
            if (len == (size_t)-1 || len == (size_t)-2 || len == 0 || !iswprint((wint_t)w)) {
                snprintf(escaped, sizeof(escaped), "\\%3o", (unsigned char)c);
                out_put(out, escaped, 4);
                len = 1;
            } else {
                out_put(out, line + i, len);
            }
            i += len;
        } else {
            escaped[0] = '*';
            escaped[1] = (char)(c ^ 0x40);
            out_put(out, escaped, 2);
            i++;
        }
        start = i;
    }
    out_put(out, line + start, n - start);
}

/* --- JSON ---------------------------------------------------------------------- */

/* json_time() for out_json_session(): the engine's cache of broken-down minutes. */
static void json_time_of(void *engine, int64_t usec)
{
    json_time(engine, usec);
}

/* One session as the JSON document's item (indent=1 under "sessions") or as a
 * line of its own, with the keys the command always gave. */
static void json_session(struct engine *e, const struct utmpx *ut, const char *line,
                         const char *host, const struct truth *truth)
{
    char user[USER_SIZE + 1]; /* a record's field need not end in a NUL */
    size_t n = strnlen(ut->ut_user, USER_SIZE);
    struct json_session s = {
        .type = truth->type, .user = user, .line = line, .host = host, .service = "",
        .login = usec_of(ut), .login_sec = (int64_t)ut->ut_tv.tv_sec,
        .has_end = truth->has_end, .end = truth->end_usec, .status = truth->status,
        .iso = json_time_of, .context = e};

    memcpy(user, ut->ut_user, n);
    user[n] = '\0';
    out_json_session(e->out, e->opt->output == PYUTMP_OUT_JSON, e->listed == 0, &s);
}

/* --- one listed line: last's list() ------------------------------------------------ */

static int dns_lookup(char *result, size_t size, int useip, const int32_t *a)
{
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    struct sockaddr *sa;
    socklen_t salen;
    int mapped = a[0] == 0 && a[1] == 0 && a[2] == (int32_t)htonl(0xffff);

    if (mapped || (a[1] == 0 && a[2] == 0 && a[3] == 0)) {
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = (uint32_t)(mapped ? a[3] : a[0]);
        sa = (struct sockaddr *)&sin;
        salen = sizeof(sin);
    } else {
        memset(&sin6, 0, sizeof(sin6));
        sin6.sin6_family = AF_INET6;
        memcpy(sin6.sin6_addr.s6_addr, a, 16);
        sa = (struct sockaddr *)&sin6;
        salen = sizeof(sin6);
    }
    return getnameinfo(sa, salen, result, (socklen_t)size, NULL, 0, useip ? NI_NUMERICHOST : 0);
}

/* -d asks the resolver for each line's address; a name is asked once. */
static int cached_lookup(struct engine *e, char *result, size_t size, const int32_t *a)
{
    uint32_t h = 2166136261u;
    struct dns_entry *slot;
    const unsigned char *b = (const unsigned char *)a;
    int i;

    if (e->dns == NULL) {
        e->dns = calloc(DNS_CACHE, sizeof(*e->dns));
        if (e->dns == NULL)
            return dns_lookup(result, size, e->opt->useip, a);
    }
    for (i = 0; i < 16; i++)
        h = (h ^ b[i]) * 16777619u;
    slot = &e->dns[h % DNS_CACHE];
    if (!slot->used || memcmp(slot->addr, a, 16) != 0) {
        memcpy(slot->addr, a, 16);
        slot->rc = dns_lookup(slot->name, sizeof(slot->name), e->opt->useip, a);
        slot->used = 1;
    }
    snprintf(result, size, "%s", slot->name);
    return slot->rc;
}

static int is_shown(const struct pyutmp_last_options *opt, const struct utmpx *ut,
                    const char *utline)
{
    size_t i;

    for (i = 0; i < opt->nshow; i++) {
        const char *name = opt->show[i];

        if (strncmp(ut->ut_user, name, USER_SIZE) == 0 || strcmp(utline, name) == 0 ||
            (strncmp(utline, "tty", 3) == 0 && strcmp(utline + 3, name) == 0))
            return 1;
    }
    return opt->nshow == 0;
}

static const struct { int in_len, in_fmt, out_len, out_fmt; } timefmts[] = {
    [PYUTMP_TIME_NONE] = {0, PYUTMP_TIME_NONE, 0, PYUTMP_TIME_NONE},
    [PYUTMP_TIME_SHORT] = {16, PYUTMP_TIME_FULL, 7, FMT_HHMM},
    [PYUTMP_TIME_FULL] = {24, PYUTMP_TIME_FULL, 26, PYUTMP_TIME_FULL},
    [PYUTMP_TIME_ISO] = {25, PYUTMP_TIME_ISO, 27, PYUTMP_TIME_ISO},
};

static void list(struct engine *e, const struct utmpx *ut, time_t logout_time, int what,
                 const struct truth *truth)
{
    const struct pyutmp_last_options *opt = e->opt;
    char utline[LINE_SIZE + 1], domain[256];
    char logintime[64], logouttime[64], length[64], final[1024];
    time_t secs, utmp_time = ut->ut_tv.tv_sec;
    int mins, hours, days, fmt_index = opt->time_fmt, r;
    size_t at;

    memcpy(utline, ut->ut_line, LINE_SIZE);
    utline[LINE_SIZE] = 0;
    if (strncmp(utline, "ftp", 3) == 0 && isdigit((unsigned char)utline[3]))
        utline[3] = 0;
    if (strncmp(utline, "uucp", 4) == 0 && isdigit((unsigned char)utline[4]))
        utline[4] = 0;
    if (!is_shown(opt, ut, utline))
        return;
    if (opt->present) {
        if (opt->present < utmp_time)
            return;
        if (0 < logout_time && logout_time < opt->present)
            return;
    }

    r = -1;
    if (opt->usedns || opt->useip)
        r = cached_lookup(e, domain, sizeof(domain), (const int32_t *)ut->ut_addr_v6);
    if (r < 0) {
        size_t n = strnlen(ut->ut_host, sizeof(domain) - 1);

        memcpy(domain, ut->ut_host, n);
        domain[n] = 0;
    }

    if (opt->output != PYUTMP_OUT_TEXT) {
        json_session(e, ut, utline, domain, truth);
        goto listed;
    }

    format_time(e, timefmts[fmt_index].in_fmt, utmp_time, logintime, sizeof(logintime));
    secs = logout_time - utmp_time; /* below 0 when the clock went back */
    mins = (int)((secs / 60) % 60);
    hours = (int)((secs / 3600) % 24);
    days = (int)(secs / 86400);
    strcpy(logouttime, "- ");
    format_time(e, timefmts[fmt_index].out_fmt, logout_time, logouttime + 2,
                sizeof(logouttime) - 2);

    if (logout_time == (time_t)opt->now) {
        if (fmt_index > PYUTMP_TIME_SHORT) {
            strcpy(logouttime, "  still running");
            length[0] = 0;
        } else {
            strcpy(logouttime, "  still");
            strcpy(length, "running");
        }
    } else if (days) {
        snprintf(length, sizeof(length), "(%d+%02d:%02d)", days, abs(hours), abs(mins));
    } else if (hours) {
        snprintf(length, sizeof(length), " (%02d:%02d)", hours, abs(mins));
    } else if (secs >= 0) {
        snprintf(length, sizeof(length), " (%02d:%02d)", hours, mins);
    } else {
        snprintf(length, sizeof(length), " (-00:%02d)", abs(mins));
    }

    switch (what) {
    case R_CRASH:
        strcpy(logouttime, "- crash");
        break;
    case R_DOWN:
        strcpy(logouttime, "- down ");
        break;
    case R_NOW:
        if (fmt_index > PYUTMP_TIME_SHORT) {
            strcpy(logouttime, "  still logged in");
            length[0] = 0;
        } else {
            strcpy(logouttime, "  still");
            strcpy(length, "logged in");
        }
        break;
    case R_PHANTOM:
        if (fmt_index > PYUTMP_TIME_SHORT) {
            strcpy(logouttime, "  gone - no logout");
            length[0] = 0;
        } else if (fmt_index == PYUTMP_TIME_SHORT) {
            strcpy(logouttime, "   gone");
            strcpy(length, "- no logout");
        } else {
            logouttime[0] = 0;
            strcpy(length, "no logout");
        }
        break;
    case R_TIMECHANGE:
        logouttime[0] = 0;
        length[0] = 0;
        break;
    default:
        break;
    }

    {
        int in_len = timefmts[fmt_index].in_len, out_len = timefmts[fmt_index].out_len;

        at = field(final, 0, ut->ut_user, 8, opt->name_len);
        final[at++] = ' ';
        at = field(final, at, utline, 12, 12);
        final[at++] = ' ';
        if (opt->showhost && !opt->altlist) {
            at = field(final, at, domain, 16, opt->domain_len);
            final[at++] = ' ';
        }
        at = field(final, at, logintime, in_len, in_len);
        final[at++] = ' ';
        at = field(final, at, logouttime, out_len, out_len);
        final[at++] = ' ';
        if (opt->showhost && opt->altlist) {
            at = field(final, at, length, 12, 12);
            final[at++] = ' ';
            at = field(final, at, domain, 0, (int)sizeof(domain));
        } else {
            at = field(final, at, length, 0, (int)sizeof(length));
        }
    }
    /* last's trim_trailing_spaces, then its newline. */
    while (at > 0 && strchr(" \t\n\v\f\r", final[at - 1]) != NULL && final[at - 1] != 0)
        at--;
    final[at++] = '\n';
    put_careful(e->out, final, at);

listed:
    e->listed++;
    if (opt->maxrecs && opt->maxrecs <= e->listed)
        e->quit = 1;
}

/* --- still there? -------------------------------------------------------------- */

/* last's is_phantom: a login without logout is gone when it is older than this
 * boot, its user is unknown, or its process (else its terminal) belongs to
 * another login uid. */
static int is_phantom(const struct engine *e, struct utmpx *ut)
{
    struct passwd *pw;
    char path[LINE_SIZE + 16];
    unsigned int loginuid;

    if (ut->ut_tv.tv_sec < e->opt->boot_time)
        return 1;
    ut->ut_user[USER_SIZE - 1] = 0; /* as last does: the name it prints loses a byte */
    pw = getpwnam(ut->ut_user);
    if (pw == NULL)
        return 1;
    snprintf(path, sizeof(path), "/proc/%u/loginuid", (unsigned)ut->ut_pid);
    if (access(path, R_OK) == 0) {
        FILE *f = fopen(path, "r");
        int ok;

        if (f == NULL)
            return 1;
        ok = fscanf(f, "%u", &loginuid) == 1;
        fclose(f);
        return !ok || pw->pw_uid != loginuid;
    } else {
        struct stat st;
        char line[LINE_SIZE + 1];

        memcpy(line, ut->ut_line, LINE_SIZE);
        line[LINE_SIZE] = 0;
        snprintf(path, sizeof(path), "/dev/%s", line);
        return stat(path, &st) != 0 || pw->pw_uid != st.st_uid;
    }
}

/* --- the later records, by line ------------------------------------------------ */

static uint32_t line_hash(const char *line)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < LINE_SIZE && line[i]; i++)
        h = (h ^ (unsigned char)line[i]) * 16777619u;
    return h;
}

/* The slot of line (a NUL-padded key), or the empty one where it would go. */
static struct later *later_slot(struct engine *e, const char *key)
{
    size_t i = line_hash(key) & (e->capacity - 1);

    while (e->table[i].used && memcmp(e->table[i].line, key, LINE_SIZE) != 0)
        i = (i + 1) & (e->capacity - 1);
    return &e->table[i];
}

static void line_key(char *key, const char *line)
{
    size_t n = strnlen(line, LINE_SIZE);

    memcpy(key, line, n);
    memset(key + n, 0, LINE_SIZE - n);
}

static int later_grow(struct engine *e)
{
    struct later *old = e->table;
    size_t old_capacity = e->capacity, i;

    e->capacity = old_capacity ? 2 * old_capacity : 256;
    e->table = calloc(e->capacity, sizeof(*e->table));
    if (e->table == NULL)
        return ENOMEM;
    for (i = 0; i < old_capacity; i++)
        if (old[i].used)
            *later_slot(e, old[i].line) = old[i];
    free(old);
    return 0;
}

/* The nearest later record on the line, if one since the last boot or shutdown. */
static const struct later *later_find(struct engine *e, const char *line)
{
    char key[LINE_SIZE];
    const struct later *slot;

    line_key(key, line);
    slot = later_slot(e, key);
    return slot->used && slot->generation == e->generation ? slot : NULL;
}

static int later_store(struct engine *e, const struct utmpx *ut)
{
    char key[LINE_SIZE];
    struct later *slot;

    if (2 * (e->count + 1) > e->capacity) {
        int rc = later_grow(e);

        if (rc)
            return rc;
    }
    line_key(key, ut->ut_line);
    slot = later_slot(e, key);
    if (!slot->used) {
        memcpy(slot->line, key, LINE_SIZE);
        slot->used = 1;
        e->count++;
    }
    slot->sec = ut->ut_tv.tv_sec;
    slot->usec = usec_of(ut);
    slot->generation = e->generation;
    return 0;
}

/* --- one record: last's process_wtmp_file loop body --------------------------------- */

static int process(struct engine *e, const struct utmpx *record)
{
    const struct pyutmp_last_options *opt = e->opt;
    struct utmpx ut = *record;
    struct truth truth = {"session", "closed", 0, 0};
    int down = 0, x;

    if (opt->lastb) {
        truth.has_end = 1;
        truth.end_usec = usec_of(&ut);
        list(e, &ut, ut.ut_tv.tv_sec, R_NORMAL, &truth);
        return 0;
    }

    /* The type old writers meant. */
    if (ut.ut_line[0] == '~') {
        if (strncmp(ut.ut_user, "shutdown", 8) == 0)
            ut.ut_type = SHUTDOWN_TIME;
        else if (strncmp(ut.ut_user, "reboot", 6) == 0)
            ut.ut_type = BOOT_TIME;
        else if (strncmp(ut.ut_user, "runlevel", 8) == 0)
            ut.ut_type = RUN_LVL;
    } else {
        if (ut.ut_type != DEAD_PROCESS && ut.ut_user[0] && ut.ut_line[0] &&
            strncmp(ut.ut_user, "LOGIN", 5) != 0)
            ut.ut_type = USER_PROCESS;
        if (ut.ut_user[0] == 0)
            ut.ut_type = DEAD_PROCESS; /* a ghost: USER_PROCESS without a user */
        if (strncmp(ut.ut_user, "date", 4) == 0) {
            if (ut.ut_line[0] == '|')
                ut.ut_type = OLD_TIME;
            if (ut.ut_line[0] == '{')
                ut.ut_type = NEW_TIME;
        }
    }

    switch (ut.ut_type) {
    case SHUTDOWN_TIME:
        if (opt->extended) {
            strcpy(ut.ut_line, "system down");
            truth.type = "shutdown";
            truth.has_end = e->lastboot != 0;
            truth.end_usec = e->lastboot_usec;
            truth.status = truth.has_end ? "closed" : "down";
            list(e, &ut, e->lastboot, R_NORMAL, &truth);
        }
        e->lastdown = e->lastrch = ut.ut_tv.tv_sec;
        e->lastdown_usec = e->lastrch_usec = usec_of(&ut);
        e->down_seen = e->rch_seen = 1;
        down = 1;
        break;
    case OLD_TIME:
    case NEW_TIME:
        if (opt->extended) {
            strcpy(ut.ut_line, ut.ut_type == NEW_TIME ? "new time" : "old time");
            truth.type = "time change";
            list(e, &ut, e->lastdown, R_TIMECHANGE, &truth);
        }
        break;
    case BOOT_TIME:
        strcpy(ut.ut_line, "system boot");
        truth.type = "boot";
        truth.has_end = e->down_seen;
        truth.end_usec = e->lastdown_usec;
        truth.status = e->down_seen ? "closed" : "still running";
        list(e, &ut, e->lastdown, R_REBOOT, &truth);
        e->lastboot = ut.ut_tv.tv_sec;
        down = 1;
        break;
    case RUN_LVL:
        x = ut.ut_pid & 255;
        if (opt->extended) {
            snprintf(ut.ut_line, sizeof(ut.ut_line), "(to lvl %c)", x);
            truth.type = "runlevel";
            truth.has_end = e->rch_seen;
            truth.end_usec = e->lastrch_usec;
            truth.status = e->rch_seen ? "closed" : "still running";
            list(e, &ut, e->lastrch, R_NORMAL, &truth);
        }
        if (x == '0' || x == '6') {
            e->lastdown = ut.ut_tv.tv_sec;
            e->lastdown_usec = usec_of(&ut);
            e->down_seen = 1;
            down = 1;
            ut.ut_type = SHUTDOWN_TIME;
        }
        e->lastrch = ut.ut_tv.tv_sec;
        e->lastrch_usec = usec_of(&ut);
        e->rch_seen = 1;
        break;
    case USER_PROCESS: {
        const struct later *end = later_find(e, ut.ut_line);

        if (end != NULL) {
            truth.has_end = 1;
            truth.end_usec = end->usec;
            list(e, &ut, end->sec, R_NORMAL, &truth);
        } else if (!e->lastboot) {
            int what = is_phantom(e, &ut) ? R_PHANTOM : R_NOW;

            truth.status = what == R_PHANTOM ? "gone - no logout" : "still logged in";
            list(e, &ut, e->lastboot, what, &truth);
        } else {
            truth.status = e->whydown == R_DOWN ? "down" : "crash";
            truth.has_end = 1;
            truth.end_usec = e->lastboot_usec;
            list(e, &ut, e->lastboot, e->whydown, &truth);
        }
    }
        /* fall through - the login is the later record of its line now */
    case DEAD_PROCESS:
        if (ut.ut_line[0] != 0) {
            int rc = later_store(e, &ut);

            if (rc)
                return rc;
        }
        break;
    case EMPTY:
    case INIT_PROCESS:
    case LOGIN_PROCESS:
    case ACCOUNTING:
        break;
    default: {
        char text[64];
        int n = snprintf(text, sizeof(text), "pyutmp: unrecognized ut_type: %d\n", ut.ut_type);

        if (write(2, text, (size_t)n) < 0) { /* a warning: nothing to do if it fails */
        }
    }
    }

    if (down) {
        e->lastboot = ut.ut_tv.tv_sec;
        e->lastboot_usec = usec_of(&ut);
        e->whydown = ut.ut_type == SHUTDOWN_TIME ? R_DOWN : R_CRASH;
        e->generation++; /* every later record is forgotten */
    }
    return 0;
}

/* --- the scan -------------------------------------------------------------------- */

static int engine_start(struct engine *e, int out_fd, const struct pyutmp_last_options *opt)
{
    memset(e, 0, sizeof(*e));
    e->opt = opt;
    e->lastdown = e->lastrch = (time_t)opt->now;
    e->out = malloc(sizeof(*e->out));
    e->minutes = calloc(MINUTES, sizeof(*e->minutes));
    if (e->out == NULL || e->minutes == NULL)
        return ENOMEM;
    out_init(e->out, out_fd, OUT_WAIT);
    return later_grow(e);
}

static int engine_end(struct engine *e, int rc, int64_t *listed)
{
    if (!rc)
        rc = out_finish(e->out);
    free(e->out);
    free(e->minutes);
    free(e->table);
    free(e->dns);
    *listed = e->listed;
    return rc;
}

/* -n was met, or the output failed: the rest is not read. */
static int stopped(const struct engine *e)
{
    return e->quit || e->out->error;
}

/* Records in [since, until] are all last looks at: it skips the others before
 * anything else, so that they pair with nothing.  The skip is a look at the
 * time alone.  The scan cannot stop at the first record before --since: a
 * record further back with a later time (a clock set back) is still listed
 * by last. */
static int in_window(const struct pyutmp_last_options *opt, const struct utmpx *ut)
{
    int64_t t = ut->ut_tv.tv_sec;

    return !(opt->since && t < opt->since) && !(opt->until && opt->until < t);
}

static int scan(struct engine *e, const unsigned char *data, size_t count)
{
    size_t i = count;

    while (i > 0 && !stopped(e)) {
        const struct utmpx *ut = (const struct utmpx *)(data + --i * sizeof(struct utmpx));
        int rc;

        if (!in_window(e->opt, ut))
            continue;
        rc = process(e, ut);
        if (rc)
            return rc;
    }
    return 0;
}

int pyutmp_last_file(int in_fd, int out_fd, const struct pyutmp_last_options *opt,
                     int64_t *listed)
{
    struct engine e;
    struct stat st;
    unsigned char *chunk = NULL;
    off_t position, size;
    const size_t chunk_size = CHUNK_RECORDS * sizeof(struct utmpx);
    int rc;

    *listed = 0;
    if (fstat(in_fd, &st) != 0)
        return errno;
    size = st.st_size;
    /* A torn last record (a writer interrupted) is left out. */
    position = size - size % (off_t)sizeof(struct utmpx);
    rc = engine_start(&e, out_fd, opt);
    if (!rc && (opt->since && opt->until && opt->until < opt->since))
        position = 0; /* no time is in the window: nothing can be listed */
    if (!rc && (chunk = malloc(chunk_size)) == NULL)
        rc = ENOMEM;
    while (!rc && position > 0 && !stopped(&e)) {
        off_t start = position > (off_t)chunk_size ? position - (off_t)chunk_size : 0;
        size_t want = (size_t)(position - start), got = 0;

        while (got < want) {
            ssize_t n = pread(in_fd, chunk + got, want - got, start + (off_t)got);

            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                rc = n < 0 ? errno : EIO; /* the file shrank under us */
                break;
            }
            got += (size_t)n;
        }
        if (rc)
            break;
        rc = scan(&e, chunk, want / sizeof(struct utmpx));
        position = start;
        if (opt->progress != NULL)
            opt->progress(opt->progress_ctx, (int64_t)(size - position), (int64_t)size);
    }
    free(chunk);
    return engine_end(&e, rc, listed);
}

int pyutmp_last_buffer(const unsigned char *data, size_t len, int out_fd,
                       const struct pyutmp_last_options *opt, int64_t *listed)
{
    struct engine e;
    size_t count = len / sizeof(struct utmpx);
    unsigned char *copy;
    int rc;

    *listed = 0;
    rc = engine_start(&e, out_fd, opt);
    if (rc)
        return engine_end(&e, rc, listed);
    /* An aligned copy: the records are read as struct utmpx. */
    copy = malloc(count ? count * sizeof(struct utmpx) : 1);
    if (copy == NULL)
        return engine_end(&e, ENOMEM, listed);
    memcpy(copy, data, count * sizeof(struct utmpx));
    rc = scan(&e, copy, count);
    free(copy);
    return engine_end(&e, rc, listed);
}

size_t pyutmp_last_record_size(void)
{
    return sizeof(struct utmpx);
}

void pyutmp_last_pack(unsigned char *out, int type, int32_t pid, const char *line,
                      const char *user, const char *host, int64_t tv_sec, int32_t tv_usec,
                      const unsigned char *addr_v6)
{
    struct utmpx ut;

    memset(&ut, 0, sizeof(ut));
    ut.ut_type = (short)type;
    ut.ut_pid = pid;
    strncpy(ut.ut_line, line, sizeof(ut.ut_line));
    strncpy(ut.ut_user, user, sizeof(ut.ut_user));
    strncpy(ut.ut_host, host, sizeof(ut.ut_host));
    ut.ut_tv.tv_sec = tv_sec;
    ut.ut_tv.tv_usec = tv_usec;
    memcpy(ut.ut_addr_v6, addr_v6, sizeof(ut.ut_addr_v6));
    memcpy(out, &ut, sizeof(ut));
}
