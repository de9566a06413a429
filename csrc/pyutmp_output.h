/* The output of the listings (pyutmp_output.c), shared by the wtmp reader
 * (_reader) and the database reader (_dbread): buffered, spooled when the
 * reader stops reading (where the caller asks for it), with the upstream
 * readers' time stamps and JSON. */
#ifndef PYUTMP_OUTPUT_H
#define PYUTMP_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Shared inside the extension only. */
#pragma GCC visibility push(hidden)

#define OUT_SIZE (64 * 1024)
#define USEC_PER_SEC 1000000ULL

struct out {
    int fd;
    int direct; /* never spooled: writes go to fd as they come */
    int spool;  /* -1 until the output first stops taking data */
    int error;  /* errno of the first failed write */
    size_t len;
    char buf[OUT_SIZE];
};

/* The time stamps of `wtmpdb last`: none, ctime(3), "%a %b %e %H:%M", "%H:%M", ISO. */
enum stamp { STAMP_NONE, STAMP_CTIME, STAMP_SHORT, STAMP_HHMM, STAMP_ISO };

struct json_object {
    struct out *out;
    int pretty; /* as an element of the "sessions" array of json.dumps(indent=1) */
    int keys;
};

/* What a write does when the reader is not reading. */
enum out_pace {
    OUT_WAIT, /* it waits, as the upstream readers' do */
    OUT_SPOOL /* the rest goes to a temporary file, so that a lock can be let go */
};

/* The buffer; out_finish() copies out what was spooled, after the database is closed. */
void out_init(struct out *out, int fd, enum out_pace pace);
void out_flush(struct out *out);
int out_finish(struct out *out);
void out_put(struct out *out, const char *data, size_t size);
void out_str(struct out *out, const char *text);
void out_char(struct out *out, char c);
void out_spaces(struct out *out, size_t count);
void out_field(struct out *out, const char *text, size_t precision, size_t width);
void out_printf(struct out *out, const char *format, ...) __attribute__((format(printf, 2, 3)));
void out_int(struct out *out, int64_t value);
/* Times. */
void format_stamp(enum stamp kind, char *dst, size_t size, time_t when);
void format_length(char *dst, size_t size, uint64_t start, uint64_t stop);
int64_t floor_div(int64_t a, int64_t b);
void out_iso(struct out *out, int64_t usec);
void out_iso_tm(struct out *out, const struct tm *tm);
/* JSON as json.dumps(ensure_ascii=False) writes it. */
void out_json_bytes(struct out *out, const char *data, size_t size);
void out_json_string(struct out *out, const char *text);
void json_begin(struct json_object *object, struct out *out, int pretty, int first);
void json_key(struct json_object *object, const char *key);
void json_end(struct json_object *object);

/* One session of `pyutmp last --json`, whichever reader lists it: the keys of
 * the document, in its order, written by out_json_session(). */
struct json_session {
    const char *type;
    const char *user;
    const char *line;
    const char *host;
    const char *service;
    int64_t login;     /* microseconds */
    int64_t login_sec; /* the whole seconds duration_sec counts from */
    int has_end;
    int64_t end;
    const char *status;
    /* Writes a time as ISO 8601 (NULL: out_iso); the wtmp reader passes its
     * cache of broken-down minutes. */
    void (*iso)(void *context, int64_t usec);
    void *context;
};

void out_json_session(struct out *out, int pretty, int first, const struct json_session *s);

#pragma GCC visibility pop

#endif
