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

/* Sessions without a tty get ids "P000".."Pzzz": no tty name ends that way,
 * so they never take a slot of login, sshd or a terminal emulator. */
#define PYUTMP_NOTTY_ID_PREFIX 'P'
#define PYUTMP_NOTTY_SLOTS (36 * 36 * 36)

size_t pyutmp_utmpx_size(void);
size_t pyutmp_lastlog_size(void);
int64_t pyutmp_utmp_time_max(void);
int64_t pyutmp_lastlog_time_max(void);
const char *pyutmp_default_utmp_path(void);
const char *pyutmp_default_wtmp_path(void);
const char *pyutmp_default_lastlog_path(void);

/* Writes rec over the slot with its ut_id (pyutmp_slot_index()), else into a
 * new one, under the C library's write lock. */
int pyutmp_utmp_put(const char *path, const struct pyutmp_record *rec, int lock_timeout_ms);
/* Writes a new session's USER_PROCESS record: the slot pyutmp_slot_choose()
 * gives it, under the C library's write lock (rec gets the id and line of a tty-less
 * slot when it takes one).  EUSERS: every tty-less slot is in use.  In the same
 * step, every other stale slot (pyutmp_slot_stale()) is retired. */
int pyutmp_utmp_login(const char *path, struct pyutmp_record *rec, int has_tty,
                      const char *label, int lock_timeout_ms);
/* Writes logout over rec's slot if pyutmp_slot_holds() says it still holds
 * rec's session (*written 1), else nothing (*written 0); retires the stale
 * slots in the same step, as a login does. */
int pyutmp_utmp_logout(const char *path, const struct pyutmp_record *rec,
                       const struct pyutmp_record *logout, int lock_timeout_ms, int *written);

/* The slot rules (pyutmp_slots.c), over a snapshot of count slots. */

/* 1 for a tty-less USER_PROCESS slot whose process is gone: a session that
 * was killed or crashed and will never log out. */
int pyutmp_slot_stale(const struct pyutmp_record *slot);
/* The slot as a stale session's is retired in utmp: DEAD_PROCESS, without
 * user or host, as logout(3) leaves a slot, but with its time kept: when the
 * process ended is not known, so no time is made up. */
void pyutmp_slot_retired(const struct pyutmp_record *slot, struct pyutmp_record *out);
/* Gives rec the id and line of tty-less slot n: id "P" and three base-36
 * digits, line "<label>/<n>" with the label (clean UTF-8) cut to fit. */
void pyutmp_notty_slot(struct pyutmp_record *rec, const char *label, unsigned n);
/* Leaves rec on its tty's slot when has_tty and no live session of another
 * process holds that slot, else gives it the lowest free tty-less slot, one
 * whose session is gone counting as free (EUSERS when there is none). */
int pyutmp_slot_choose(const struct pyutmp_record *slots, size_t count,
                       struct pyutmp_record *rec, int has_tty, const char *label);
/* The slot pututxline() writes rec over, as glibc chooses it: the first
 * RUN_LVL, BOOT_TIME, NEW_TIME or OLD_TIME record of rec's type for those
 * types, else the first INIT, LOGIN, USER or DEAD process record with rec's
 * id.  count: none, rec goes into a new slot at the end. */
size_t pyutmp_slot_index(const struct pyutmp_record *slots, size_t count,
                         const struct pyutmp_record *rec);
/* 1 when the slot a put of rec's logout overwrites (pyutmp_slot_index() for
 * the files; for utmpd, whose put_matches_line, the first USER or DEAD record
 * with rec's id and line) still holds rec's session. */
int pyutmp_slot_holds(const struct pyutmp_record *slots, size_t count,
                      const struct pyutmp_record *rec, int put_matches_line);
int pyutmp_wtmp_append(const char *path, const struct pyutmp_record *rec,
                       int lock_timeout_ms);
/* Appends a failed login to btmp, which is made 0660 root:utmp when missing;
 * EPERM, nothing written, when others may read or write it. */
int pyutmp_btmp_append(const char *path, const struct pyutmp_record *rec,
                       int lock_timeout_ms);
int pyutmp_decode(const unsigned char *raw, size_t len, struct pyutmp_record *out);
int pyutmp_lastlog_read(const char *path, uint32_t uid, struct pyutmp_lastlog *out,
                        int *found);
int pyutmp_lastlog_write(const char *path, uint32_t uid,
                         const struct pyutmp_lastlog *rec, int lock_timeout_ms,
                         struct pyutmp_lastlog *previous, int *found);

#endif
