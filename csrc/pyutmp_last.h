/* The reader behind `pyutmp last` and `pyutmp lastb`: a wtmp or btmp file read
 * backwards in big chunks, paired and printed as util-linux last(1) 2.38 does
 * it (its process_wtmp_file and list), or written as JSON.
 *
 * A module of its own (pam_pyutmp._reader): PAM hosts load pam_pyutmp._core on
 * every login and never need this one.  Every function returns 0 or an errno
 * value.
 */
#ifndef PYUTMP_LAST_H
#define PYUTMP_LAST_H

#include <stddef.h>
#include <stdint.h>

/* --time-format: last(1)'s notime, short, full (-F) and iso. */
#define PYUTMP_TIME_NONE 0
#define PYUTMP_TIME_SHORT 1
#define PYUTMP_TIME_FULL 2
#define PYUTMP_TIME_ISO 3

/* What is written: last's lines, the "sessions" items of one JSON document
 * (each preceded by a comma but the first), or one JSON object a line. */
#define PYUTMP_OUT_TEXT 0
#define PYUTMP_OUT_JSON 1
#define PYUTMP_OUT_JSON_LINES 2

struct pyutmp_last_options {
    int lastb;       /* every record an attempt, as lastb lists btmp */
    int extended;    /* -x: shutdowns, run level and clock changes too */
    int showhost;    /* not -R */
    int altlist;     /* -a: the host in the last column */
    int usedns;      /* -d */
    int useip;       /* -i */
    int name_len;    /* 8, or with -w the field's size */
    int domain_len;  /* 16, or with -w the field's size */
    int time_fmt;    /* PYUTMP_TIME_* */
    int output;      /* PYUTMP_OUT_* */
    int64_t maxrecs; /* -n; 0: all */
    int64_t since;   /* -s, seconds; 0: none */
    int64_t until;   /* -t */
    int64_t present; /* -p */
    int64_t now;     /* the second of the listing: last's "currentdate" */
    int64_t boot_time; /* this system's boot, seconds: older sessions are gone */
    const char *const *show; /* USER|TTY arguments */
    size_t nshow;
    void (*progress)(void *ctx, int64_t done, int64_t total);
    void *progress_ctx;
};

/* The listing of the records of in_fd (a wtmp or btmp file) to out_fd;
 * *listed: how many lines or objects were written. */
int pyutmp_last_file(int in_fd, int out_fd, const struct pyutmp_last_options *opt,
                     int64_t *listed);
/* The same for records held in memory (len a multiple of the record size). */
int pyutmp_last_buffer(const unsigned char *data, size_t len, int out_fd,
                       const struct pyutmp_last_options *opt, int64_t *listed);

size_t pyutmp_last_record_size(void);
/* One utmpx record in the C library's layout, for pyutmp_last_buffer. */
void pyutmp_last_pack(unsigned char *out, int type, int32_t pid, const char *line,
                      const char *user, const char *host, int64_t tv_sec,
                      int32_t tv_usec, const unsigned char *addr_v6);

/* util-linux's parse_timestamp: *usec for text relative to the second now
 * ("2024-05-01 10:00", "yesterday", "-5days", "@1700000000", ...). */
int pyutmp_parse_timestamp(const char *text, int64_t now, int64_t *usec);

#endif
