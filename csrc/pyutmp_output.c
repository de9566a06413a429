/* The output of the listings of both compiled readers: a buffer that a reader
 * who stops reading does not stall where the caller asks for it (the rest goes
 * to a temporary file), the upstream readers' time stamps, and JSON as
 * Python's json module writes it. */
#define _GNU_SOURCE
#include "pyutmp_output.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A pipe that polls writable takes this much without blocking (one page). */
#define POLL_CHUNK 4096

/* --- output ------------------------------------------------------------------ */

static int write_all(int fd, const char *data, size_t size)
{
    while (size > 0) {
        ssize_t done = write(fd, data, size);
        if (done < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        data += done;
        size -= (size_t)done;
    }
    return 0;
}

static int open_spool(void)
{
    const char *dir = getenv("TMPDIR");
    int fd = open(dir && *dir ? dir : "/tmp", O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && (!dir || strcmp(dir, "/tmp") != 0))
        fd = open("/tmp", O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
    return fd;
}

/* A regular file or /dev/null never makes a write wait for a reader: no spool
 * is needed for it. */
void out_init(struct out *out, int fd, enum out_pace pace)
{
    struct stat st;
    out->fd = fd;
    out->spool = -1;
    out->error = 0;
    out->len = 0;
    out->direct = pace == OUT_WAIT
                  || (fstat(fd, &st) == 0
                      && (S_ISREG(st.st_mode) || (S_ISCHR(st.st_mode) && !isatty(fd))));
}

/* Hands the buffer to the output as far as it takes it at once; the rest, and
 * all that follows, to the spool. */
void out_flush(struct out *out)
{
    const char *data = out->buf;
    size_t size = out->len;

    out->len = 0;
    if (out->error || size == 0)
        return;
    if (out->direct && out->spool < 0) {
        out->error = write_all(out->fd, data, size);
        return;
    }
    while (size > 0 && out->spool < 0) {
        struct pollfd ready = {.fd = out->fd, .events = POLLOUT};
        int polled = poll(&ready, 1, 0);
        if (polled < 0 && errno == EINTR)
            continue;
        if (polled == 0) {
            /* Without a temporary file, the write below waits for the reader, as
             * upstream's does. */
            out->spool = open_spool();
            break;
        }
        size_t chunk = size < POLL_CHUNK ? size : POLL_CHUNK;
        ssize_t done = write(out->fd, data, chunk);
        if (done < 0) {
            if (errno == EINTR)
                continue;
            out->error = errno;
            return;
        }
        data += done;
        size -= (size_t)done;
    }
    if (size > 0)
        out->error = write_all(out->spool >= 0 ? out->spool : out->fd, data, size);
}

/* The end of the listing, after the database is closed: the spooled rest. */
int out_finish(struct out *out)
{
    out_flush(out);
    if (out->spool >= 0) {
        if (!out->error && lseek(out->spool, 0, SEEK_SET) < 0)
            out->error = errno;
        while (!out->error) {
            ssize_t got = read(out->spool, out->buf, OUT_SIZE);
            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0)
                out->error = errno;
            if (got <= 0)
                break;
            out->error = write_all(out->fd, out->buf, (size_t)got);
        }
        close(out->spool);
        out->spool = -1;
    }
    return out->error;
}

void out_put(struct out *out, const char *data, size_t size)
{
    while (size > 0) {
        if (out->len == OUT_SIZE)
            out_flush(out);
        size_t room = OUT_SIZE - out->len;
        size_t part = size < room ? size : room;
        memcpy(out->buf + out->len, data, part);
        out->len += part;
        data += part;
        size -= part;
    }
}

void out_str(struct out *out, const char *text)
{
    out_put(out, text, strlen(text));
}

void out_char(struct out *out, char c)
{
    if (out->len == OUT_SIZE)
        out_flush(out);
    out->buf[out->len++] = c;
}

void out_spaces(struct out *out, size_t count)
{
    while (count-- > 0)
        out_char(out, ' ');
}

/* printf's "%-WIDTH.PRECISIONs": at most `precision` bytes, padded to `width`. */
void out_field(struct out *out, const char *text, size_t precision, size_t width)
{
    size_t size = strnlen(text, precision);
    out_put(out, text, size);
    if (size < width)
        out_spaces(out, width - size);
}

void out_printf(struct out *out, const char *format, ...)
{
    char small[512];
    va_list args;
    va_start(args, format);
    int size = vsnprintf(small, sizeof small, format, args);
    va_end(args);
    if (size < 0)
        return;
    if ((size_t)size < sizeof small) {
        out_put(out, small, (size_t)size);
        return;
    }
    char *large = malloc((size_t)size + 1);
    if (large == NULL) {
        out->error = ENOMEM;
        return;
    }
    va_start(args, format);
    vsnprintf(large, (size_t)size + 1, format, args);
    va_end(args);
    out_put(out, large, (size_t)size);
    free(large);
}

/* --- times --------------------------------------------------------------------- */

static const char WEEKDAYS[] = "SunMonTueWedThuFriSat";
static const char MONTHS[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

/* The C locale's names, which upstream prints: it never calls setlocale(). */
void format_stamp(enum stamp kind, char *dst, size_t size, time_t when)
{
    struct tm tm;

    if (kind == STAMP_NONE) {
        *dst = '\0';
        return;
    }
    if (localtime_r(&when, &tm) == NULL) {
        /* Unreachable for what 64 unsigned bits of microseconds hold; ctime()
         * would give NULL, which upstream prints as "(null" (the last byte cut). */
        snprintf(dst, size, "%s", kind == STAMP_CTIME ? "(null" : "");
        return;
    }
    switch (kind) {
    case STAMP_CTIME: /* asctime(3) */
        snprintf(dst, size, "%.3s %.3s%3d %.2d:%.2d:%.2d %d", WEEKDAYS + 3 * tm.tm_wday,
                 MONTHS + 3 * tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 tm.tm_year + 1900);
        break;
    case STAMP_SHORT: /* "%a %b %e %H:%M" */
        snprintf(dst, size, "%.3s %.3s %2d %.2d:%.2d", WEEKDAYS + 3 * tm.tm_wday,
                 MONTHS + 3 * tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min);
        break;
    case STAMP_HHMM:
        snprintf(dst, size, "%.2d:%.2d", tm.tm_hour, tm.tm_min);
        break;
    default: /* ISO, the way upstream writes it */
        strftime(dst, size, "%FT%T%z", &tm);
        break;
    }
}

/* `wtmpdb last`'s duration: unsigned arithmetic, as upstream's (a logout
 * before its login wraps around to a very long session, as there). */
void format_length(char *dst, size_t size, uint64_t start, uint64_t stop)
{
    uint64_t secs = (stop - start) / USEC_PER_SEC;
    int mins = (int)((secs / 60) % 60);
    int hours = (int)((secs / 3600) % 24);
    uint64_t days = secs / 86400;

    if (days)
        snprintf(dst, size, "(%" PRId64 "+%02d:%02d)", (int64_t)days, hours, mins);
    else if (hours)
        snprintf(dst, size, " (%02d:%02d)", hours, mins);
    else
        snprintf(dst, size, " (00:%02d)", mins);
}

int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Python's datetime.isoformat() of the local time: "2026-12-07T16:20:31+01:00". */
void out_iso(struct out *out, int64_t usec)
{
    time_t when = (time_t)floor_div(usec, (int64_t)USEC_PER_SEC);
    struct tm tm;

    if (localtime_r(&when, &tm) == NULL) {
        out_str(out, "null");
        return;
    }
    out_iso_tm(out, &tm);
}

static char *two_digits(char *p, int value)
{
    p[0] = (char)('0' + value / 10);
    p[1] = (char)('0' + value % 10);
    return p + 2;
}

/* The same of a broken-down local time: the offset has seconds only when it
 * has them, as isoformat() writes it.  Written by hand for the years of four
 * digits: a JSON listing writes two a line, and printf was most of its time. */
void out_iso_tm(struct out *out, const struct tm *tm)
{
    long offset = tm->tm_gmtoff;
    char sign = offset < 0 ? '-' : '+';
    int year = tm->tm_year + 1900;
    char text[40], *p = text;

    if (offset < 0)
        offset = -offset;
    if (year < 0 || year > 9999 || offset >= 100 * 3600) {
        out_printf(out, "\"%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld", year, tm->tm_mon + 1,
                   tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec, sign, offset / 3600,
                   offset / 60 % 60);
        if (offset % 60)
            out_printf(out, ":%02ld", offset % 60);
        out_char(out, '"');
        return;
    }
    *p++ = '"';
    p = two_digits(p, year / 100);
    p = two_digits(p, year % 100);
    *p++ = '-';
    p = two_digits(p, tm->tm_mon + 1);
    *p++ = '-';
    p = two_digits(p, tm->tm_mday);
    *p++ = 'T';
    p = two_digits(p, tm->tm_hour);
    *p++ = ':';
    p = two_digits(p, tm->tm_min);
    *p++ = ':';
    p = two_digits(p, tm->tm_sec);
    *p++ = sign;
    p = two_digits(p, (int)(offset / 3600));
    *p++ = ':';
    p = two_digits(p, (int)(offset / 60 % 60));
    if (offset % 60) {
        *p++ = ':';
        p = two_digits(p, (int)(offset % 60));
    }
    *p++ = '"';
    out_put(out, text, (size_t)(p - text));
}

/* An integer in decimal, as printf's "%" PRId64 writes it. */
void out_int(struct out *out, int64_t value)
{
    char text[24], *p = text + sizeof text;
    /* The magnitude in unsigned arithmetic: INT64_MIN has no positive twin. */
    uint64_t left = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;

    do {
        *--p = (char)('0' + left % 10);
        left /= 10;
    } while (left > 0);
    if (value < 0)
        *--p = '-';
    out_put(out, p, (size_t)(text + sizeof text - p));
}

/* --- JSON ---------------------------------------------------------------------- */

/* The length of the UTF-8 sequence at `s` (at most `left` bytes), or 0 when
 * it is not valid UTF-8 as Python decodes it: no overlong form, no surrogate,
 * nothing past U+10FFFF. */
static size_t utf8_length(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    size_t need;
    unsigned char low = 0x80, high = 0xBF;

    if (c >= 0xC2 && c <= 0xDF)
        need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0)
            low = 0xA0;
        if (c == 0xED)
            high = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0)
            low = 0x90;
        if (c == 0xF4)
            high = 0x8F;
    } else
        return 0;
    if (left < need + 1 || s[1] < low || s[1] > high)
        return 0;
    for (size_t i = 2; i <= need; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return need + 1;
}

/* What JSON writes as it is: ASCII but controls, the quote and the backslash. */
static int json_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* The character at `s` that is not plain, escaped as json.dumps escapes it;
 * returns the bytes it took.  A byte that is not UTF-8 becomes "\udcXX", the
 * code point Python's surrogateescape gives it, so that json.loads and
 * .encode("utf-8", "surrogateescape") give the bytes back. */
static size_t json_escape(struct out *out, const unsigned char *s, size_t left)
{
    size_t size;

    switch (*s) {
    case '"': out_str(out, "\\\""); return 1;
    case '\\': out_str(out, "\\\\"); return 1;
    case '\n': out_str(out, "\\n"); return 1;
    case '\r': out_str(out, "\\r"); return 1;
    case '\t': out_str(out, "\\t"); return 1;
    case '\b': out_str(out, "\\b"); return 1;
    case '\f': out_str(out, "\\f"); return 1;
    default: break;
    }
    if (*s < 0x20) {
        out_printf(out, "\\u%04x", *s);
        return 1;
    }
    size = utf8_length(s, left);
    if (size == 0) {
        out_printf(out, "\\udc%02x", *s);
        return 1;
    }
    out_put(out, (const char *)s, size);
    return size;
}

/* A JSON string of `size` bytes as Python's json.dumps(ensure_ascii=False)
 * writes it: valid UTF-8 as it is.  Plain runs are copied at once: a listing
 * writes several strings a line. */
void out_json_bytes(struct out *out, const char *data, size_t size)
{
    const unsigned char *s = (const unsigned char *)data, *end = s + size;

    out_char(out, '"');
    while (s < end) {
        const unsigned char *run = s;
        while (s < end && json_plain(*s))
            s++;
        out_put(out, (const char *)run, (size_t)(s - run));
        if (s < end)
            s += json_escape(out, s, (size_t)(end - s));
    }
    out_char(out, '"');
}

void out_json_string(struct out *out, const char *text)
{
    out_json_bytes(out, text, strlen(text));
}

void json_begin(struct json_object *object, struct out *out, int pretty, int first)
{
    object->out = out;
    object->pretty = pretty;
    object->keys = 0;
    if (pretty)
        out_str(out, first ? "\n  {" : ",\n  {");
    else
        out_char(out, '{');
}

void json_key(struct json_object *object, const char *key)
{
    if (object->pretty)
        out_str(object->out, object->keys ? ",\n   \"" : "\n   \"");
    else
        out_str(object->out, object->keys ? ", \"" : "\"");
    object->keys++;
    out_str(object->out, key);
    out_str(object->out, "\": ");
}

void json_end(struct json_object *object)
{
    out_str(object->out, object->pretty ? "\n  }" : "}\n");
}


static void json_time(struct out *out, const struct json_session *s, int64_t usec)
{
    if (s->iso != NULL)
        s->iso(s->context, usec);
    else
        out_iso(out, usec);
}

/* One element of "sessions", with cli's keys in their order (indent=1 under
 * "sessions" when pretty), or a line of --json-lines. */
void out_json_session(struct out *out, int pretty, int first, const struct json_session *s)
{
    struct json_object object;

    json_begin(&object, out, pretty, first);
    json_key(&object, "type");
    out_json_string(out, s->type);
    json_key(&object, "user");
    out_json_string(out, s->user);
    json_key(&object, "line");
    out_json_string(out, s->line);
    json_key(&object, "host");
    out_json_string(out, s->host);
    json_key(&object, "service");
    out_json_string(out, s->service);
    json_key(&object, "login");
    json_time(out, s, s->login);
    json_key(&object, "login_usec");
    out_int(out, s->login);
    json_key(&object, "end");
    if (s->has_end)
        json_time(out, s, s->end);
    else
        out_str(out, "null");
    json_key(&object, "end_usec");
    if (s->has_end)
        out_int(out, s->end);
    else
        out_str(out, "null");
    json_key(&object, "status");
    out_json_string(out, s->status);
    json_key(&object, "duration_sec");
    if (s->has_end) /* whole seconds, as Python's floor division gives them */
        out_int(out, floor_div(s->end, (int64_t)USEC_PER_SEC) - s->login_sec);
    else
        out_str(out, "null");
    json_end(&object);
}
