/* The accounting core: what only C can do for pam_pyutmp.
 *
 * The C library's own headers decide every record size and default path, so
 * the Python side never hard-codes a layout.  Every function returns 0 or an
 * errno value and never touches errno-based global state the caller must read.
 */
#ifndef PYUTMP_CORE_H
#define PYUTMP_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <utmpx.h>

#define PYUTMP_FIELD_SIZE(field) sizeof(((struct utmpx *)0)->field)
#define PYUTMP_LINE_SIZE PYUTMP_FIELD_SIZE(ut_line)
#define PYUTMP_ID_SIZE PYUTMP_FIELD_SIZE(ut_id)
#define PYUTMP_USER_SIZE PYUTMP_FIELD_SIZE(ut_user)
#define PYUTMP_HOST_SIZE PYUTMP_FIELD_SIZE(ut_host)

/* One utmpx record in a fixed, Python-friendly shape.  Strings are the raw
 * field bytes: NUL-padded, and not NUL-terminated when they fill the field. */
struct pyutmp_record {
    int type;
    int32_t pid;
    int32_t session;
    int64_t tv_sec;
    int32_t tv_usec;
    unsigned char addr_v6[16];
    char line[PYUTMP_LINE_SIZE];
    char id[PYUTMP_ID_SIZE];
    char user[PYUTMP_USER_SIZE];
    char host[PYUTMP_HOST_SIZE];
};

/* One lastlog record; sizes follow <lastlog.h>. */
struct pyutmp_lastlog {
    int64_t time;
    char line[PYUTMP_LINE_SIZE];
    char host[PYUTMP_HOST_SIZE];
};

size_t pyutmp_utmpx_size(void);
size_t pyutmp_lastlog_size(void);
const char *pyutmp_default_utmp_path(void);
const char *pyutmp_default_wtmp_path(void);
const char *pyutmp_default_lastlog_path(void);

int pyutmp_utmp_put(const char *path, const struct pyutmp_record *rec);
int pyutmp_wtmp_append(const char *path, const struct pyutmp_record *rec,
                       int lock_timeout_ms);
int pyutmp_decode(const unsigned char *raw, size_t len, struct pyutmp_record *out);
int pyutmp_lastlog_read(const char *path, uint32_t uid, struct pyutmp_lastlog *out,
                        int *found);
int pyutmp_lastlog_write(const char *path, uint32_t uid,
                         const struct pyutmp_lastlog *rec, int lock_timeout_ms);

#endif
