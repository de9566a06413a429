/* The listings of the SQLite accounting databases, formatted in C: `wtmpdb last`
 * (wtmpdb 0.73) and `lastlog2` (util-linux 2.41), byte for byte, and JSON.
 *
 * A private module apart from the core: only `pyutmp last --source wtmpdb` and
 * `pyutmp lastlog --source lastlog2` load it (and libsqlite3 with it); PAM hosts
 * never do. */
#ifndef PYUTMP_DBREAD_H
#define PYUTMP_DBREAD_H

#include <stdint.h>

/* How a listing is written. */
#define PYUTMP_OUT_TEXT 0
#define PYUTMP_OUT_JSON 1       /* the objects of the "sessions" array of a document */
#define PYUTMP_OUT_JSON_LINES 2 /* one object per line */

/* `wtmpdb last --time-format`: of the login and logout columns, and of the
 * "begins" line. */
#define PYUTMP_TIME_NOTIME 0
#define PYUTMP_TIME_SHORT 1 /* "Mon Dec  7 16:20" - "16:25" */
#define PYUTMP_TIME_FULL 2  /* ctime(3) */
#define PYUTMP_TIME_ISO 3   /* "2026-12-07T16:20:31+0000" */

/* What a call ended with, beside PYUTMP_DB_OK. */
#define PYUTMP_DB_OK 0
#define PYUTMP_DB_ERROR 1 /* SQLite's: the text is in `error` */
#define PYUTMP_DB_WRITE 2 /* writing the output: errno in `error_errno` */
#define PYUTMP_DB_BUSY 3  /* the database stayed locked */

#define PYUTMP_ERROR_SIZE 512

struct pyutmp_wtmpdb_listing {
    const char *path;
    const char *shown_path; /* named by the "begins" line: the -f argument, or "wtmpdb" */
    int output;             /* PYUTMP_OUT_* */
    const char *header;     /* PYUTMP_OUT_JSON: the document up to the array's "[" */
    int fd;                 /* where the listing goes */
    unsigned long limit;    /* -n: list this many rows at most; 0: all */
    int fullnames;          /* -w */
    int time_format;        /* PYUTMP_TIME_*: -F, --time-format */
    int begins_format;      /* PYUTMP_TIME_*: --time-format only (full by default) */
    int nohostname;         /* -R */
    int hostlast;           /* -a */
    int service;            /* -S */
    int dns;                /* -d: IP addresses become names */
    int ip;                 /* -i: names become IP addresses */
    int system;             /* -x: shutdown lines */
    int64_t since, until, present; /* -s, -t, -p in seconds; 0: not given */
    const char *const *match;      /* user or tty arguments */
    int nmatch;
    double busy_timeout;           /* seconds to wait for a writer's lock */
    /* results */
    unsigned long listed;          /* rows listed (shutdown lines of -x not counted) */
    int error_errno;
    char error[PYUTMP_ERROR_SIZE];
};

struct pyutmp_lastlog2_listing {
    const char *path;
    const char *user;   /* -u: only this user; NULL: every row */
    int fd;
    int active;         /* -a: no "**Never logged in**" lines */
    int service;        /* -s */
    int before;         /* -b: only logins at least before_sec ago */
    int64_t before_sec;
    int recent;         /* -t: only logins at most recent_sec ago */
    int64_t recent_sec;
    double busy_timeout;
    /* results */
    unsigned long listed;
    int error_errno;
    char error[PYUTMP_ERROR_SIZE];
};

int pyutmp_wtmpdb_last(struct pyutmp_wtmpdb_listing *listing);
int pyutmp_lastlog2_list(struct pyutmp_lastlog2_listing *listing);
/* `wtmpdb last`'s TIME arguments: "YYYY-MM-DD HH:MM:SS", "YYYY-MM-DD", "today" or
 * "yesterday", in local time; 0 when parsed, -1 when not. */
int pyutmp_wtmpdb_parse_time(const char *text, int64_t *when);

#endif
