/* The accounting core of pam_pyutmp: utmp, wtmp and lastlog as whole records
 * of the C library's <utmpx.h> and <lastlog.h> layouts, written under the C
 * library's own fcntl lock protocol with a bounded wait. */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64

#include "pyutmp_core.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <lastlog.h>
#include <paths.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utmpx.h>

#ifndef _PATH_UTMPX
#define _PATH_UTMPX _PATH_UTMP
#endif
#ifndef _PATH_WTMPX
#define _PATH_WTMPX _PATH_WTMP
#endif

/* fcntl locks keep processes apart, not the threads of one: two threads of a
 * host would both hold "the" lock, and one's append could cut the other's
 * record as a torn tail.  This mutex keeps them apart, around every write to
 * utmp, wtmp and lastlog, from the fcntl lock to the close. */
static pthread_mutex_t writes_lock = PTHREAD_MUTEX_INITIALIZER;

/* A host that forks while another of its threads holds the mutex would give
 * the child a mutex nobody there can unlock: fork() waits for it instead. */
static void writes_lock_take(void) { pthread_mutex_lock(&writes_lock); }
static void writes_lock_give(void) { pthread_mutex_unlock(&writes_lock); }

__attribute__((constructor)) static void writes_lock_across_fork(void)
{
    pthread_atfork(writes_lock_take, writes_lock_give, writes_lock_give);
}

_Static_assert(sizeof(((struct lastlog *)0)->ll_line) == PYUTMP_LINE_SIZE,
               "lastlog line size differs from utmpx");
_Static_assert(sizeof(((struct lastlog *)0)->ll_host) == PYUTMP_HOST_SIZE,
               "lastlog host size differs from utmpx");
_Static_assert(sizeof(((struct utmpx *)0)->ut_addr_v6) == 16, "ut_addr_v6 is 16 bytes");

size_t pyutmp_utmpx_size(void) { return sizeof(struct utmpx); }
size_t pyutmp_lastlog_size(void) { return sizeof(struct lastlog); }
const char *pyutmp_default_utmp_path(void) { return _PATH_UTMPX; }
const char *pyutmp_default_wtmp_path(void) { return _PATH_WTMPX; }
const char *pyutmp_default_lastlog_path(void) { return _PATH_LASTLOG; }

/* The largest value of an integer FIELD: glibc keeps 32-bit seconds even on
 * 64-bit machines, signed up to 2.40 (the end is January 2038) and unsigned
 * from 2.41 on (February 2106). */
#define PYUTMP_FIELD_MAX(field)                                                \
    ((__typeof__(field))-1 < 0 ? (int64_t)((UINT64_C(1) << (8 * sizeof(field) - 1)) - 1) \
     : sizeof(field) >= 8      ? INT64_MAX                                     \
                               : (int64_t)((UINT64_C(1) << (8 * sizeof(field))) - 1))

int64_t pyutmp_utmp_time_max(void)
{
    struct utmpx u;

    return PYUTMP_FIELD_MAX(u.ut_tv.tv_sec);
}

int64_t pyutmp_lastlog_time_max(void)
{
    struct lastlog ll;

    return PYUTMP_FIELD_MAX(ll.ll_time);
}

/* The record's time in the C library's field, or EOVERFLOW: a wrapped time is
 * a wrong one. */
#define PYUTMP_STORE_TIME(field, value)                                        \
    do {                                                                       \
        (field) = (__typeof__(field))(value);                                  \
        if ((int64_t)(field) != (value))                                       \
            return EOVERFLOW;                                                  \
    } while (0)

static int to_utmpx(const struct pyutmp_record *rec, struct utmpx *u)
{
    memset(u, 0, sizeof(*u));
    u->ut_type = (short)rec->type;
    u->ut_pid = (pid_t)rec->pid;
    memcpy(u->ut_line, rec->line, sizeof(u->ut_line));
    memcpy(u->ut_id, rec->id, sizeof(u->ut_id));
    memcpy(u->ut_user, rec->user, sizeof(u->ut_user));
    memcpy(u->ut_host, rec->host, sizeof(u->ut_host));
    u->ut_session = rec->session;
    PYUTMP_STORE_TIME(u->ut_tv.tv_sec, rec->tv_sec);
    u->ut_tv.tv_usec = rec->tv_usec;
    memcpy(u->ut_addr_v6, rec->addr_v6, sizeof(u->ut_addr_v6));
    return 0;
}

static void from_utmpx(const struct utmpx *u, struct pyutmp_record *rec)
{
    memset(rec, 0, sizeof(*rec));
    rec->type = u->ut_type;
    rec->pid = u->ut_pid;
    memcpy(rec->line, u->ut_line, sizeof(rec->line));
    memcpy(rec->id, u->ut_id, sizeof(rec->id));
    memcpy(rec->user, u->ut_user, sizeof(rec->user));
    memcpy(rec->host, u->ut_host, sizeof(rec->host));
    rec->session = (int32_t)u->ut_session;
    rec->tv_sec = u->ut_tv.tv_sec;
    rec->tv_usec = (int32_t)u->ut_tv.tv_usec;
    memcpy(rec->addr_v6, u->ut_addr_v6, sizeof(rec->addr_v6));
}

int pyutmp_decode(const unsigned char *raw, size_t len, struct pyutmp_record *out)
{
    struct utmpx u;

    if (len != sizeof(u))
        return EINVAL;
    memcpy(&u, raw, sizeof(u));
    from_utmpx(&u, out);
    return 0;
}

/* Retries of a lock until a deadline on the monotonic clock: a stuck holder
 * must not hang a login.  The pause doubles from 1 ms to 32 ms, with jitter,
 * so a crowd of waiters neither polls in step nor starves the holder. */
struct backoff {
    struct timespec deadline;
    long pause_ns;
};

#define NS_PER_SEC (1000L * 1000 * 1000)
#define NS_PER_MS (1000L * 1000)

static void backoff_start(struct backoff *b, int timeout_ms)
{
    clock_gettime(CLOCK_MONOTONIC, &b->deadline);
    b->deadline.tv_sec += timeout_ms / 1000;
    b->deadline.tv_nsec += (long)(timeout_ms % 1000) * NS_PER_MS;
    if (b->deadline.tv_nsec >= NS_PER_SEC) {
        b->deadline.tv_sec += 1;
        b->deadline.tv_nsec -= NS_PER_SEC;
    }
    b->pause_ns = NS_PER_MS;
}

/* Sleeps before the next try; EAGAIN once the deadline has passed. */
static int backoff_wait(struct backoff *b)
{
    struct timespec now, pause;

    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec > b->deadline.tv_sec
        || (now.tv_sec == b->deadline.tv_sec && now.tv_nsec >= b->deadline.tv_nsec))
        return EAGAIN;
    /* Between half and one and a half pauses; the clock's low digits are
     * random enough to keep waiters apart. */
    pause.tv_sec = 0;
    pause.tv_nsec = b->pause_ns / 2 + now.tv_nsec % b->pause_ns;
    nanosleep(&pause, NULL);
    if (b->pause_ns < 32 * NS_PER_MS)
        b->pause_ns *= 2;
    return 0;
}

/* Takes an fcntl lock on [start, start+len) (len 0: to the end) within
 * timeout_ms; EAGAIN when the time ran out. */
static int lock_region(int fd, short type, off_t start, off_t len, int timeout_ms)
{
    struct flock fl;
    struct backoff b;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = len;
    backoff_start(&b, timeout_ms);
    for (;;) {
        if (fcntl(fd, F_SETLK, &fl) == 0)
            return 0;
        if (errno != EACCES && errno != EAGAIN && errno != EINTR)
            return errno;
        if (backoff_wait(&b))
            return EAGAIN;
    }
}

/* Opens a regular file for us and locks the region [start, start+len) (len 0:
 * to the end), then stats it under the lock.  O_NONBLOCK: a FIFO planted there
 * must not hang a login.  wtmp and lastlog pass O_NOFOLLOW (we run as root in
 * directories others may influence); utmp follows a link, as glibc does.
 * Holds writes_lock until close_locked().  Returns the descriptor, or -errno. */
static int open_locked(const char *path, int flags, off_t start, off_t len, int timeout_ms,
                       struct stat *st)
{
    int fd, err;

    writes_lock_take();
    fd = open(path, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644);
    if (fd < 0) {
        err = errno;
        writes_lock_give();
        return -err;
    }
    /* One fstat, under the lock: the size is the one we write at, and a file
     * that is no regular file is refused before anything is written. */
    err = lock_region(fd, F_WRLCK, start, len, timeout_ms);
    if (!err && fstat(fd, st) != 0)
        err = errno;
    else if (!err && !S_ISREG(st->st_mode))
        err = EINVAL;
    if (err) {
        close(fd);
        writes_lock_give();
        return -err;
    }
    return fd;
}

/* Closes what open_locked() opened, which also lets go of the fcntl lock. */
static void close_locked(int fd)
{
    close(fd);
    writes_lock_give();
}

static int write_all_or_errno(ssize_t written, size_t wanted)
{
    if (written < 0)
        return errno ? errno : EIO;
    if ((size_t)written != wanted)
        return ENOSPC; /* a short write to a regular file means a full disk */
    return 0;
}

/* A utmp file open for one read-decide-write step, under the C library's
 * write lock, with its slots read. */
struct utmp_step {
    int fd;
    off_t size;                   /* the file's size under the lock */
    struct utmpx *raw;            /* the slots as read, malloc()ed */
    struct pyutmp_record *slots;  /* the same, decoded; malloc()ed */
    size_t count;
};

/* Every slot of the utmp file open at step->fd, whose size is step->size.
 * The caller holds the write lock, so no record another writer is halfway
 * through is read. */
static int read_slots(struct utmp_step *step)
{
    struct utmpx *raw;
    size_t n = (size_t)step->size / sizeof(*raw), got = 0;
    int err = 0;

    raw = step->raw = malloc(n * sizeof(*raw) + 1);
    step->slots = malloc(n * sizeof(*step->slots) + 1);
    if (!raw || !step->slots)
        return ENOMEM;
    while (got < n * sizeof(*raw)) {
        ssize_t part = pread(step->fd, (char *)raw + got, n * sizeof(*raw) - got, (off_t)got);

        if (part < 0 && errno == EINTR)
            continue;
        if (part < 0) {
            err = errno;
            break;
        }
        if (part == 0)
            break; /* a writer that ignores locks cut it: the whole records count */
        got += (size_t)part;
    }
    step->count = err ? 0 : got / sizeof(*raw);
    for (size_t i = 0; i < step->count; i++)
        from_utmpx(&raw[i], &step->slots[i]);
    return err;
}

/* Opens a utmp file under the C library's write lock (fcntl, the whole file,
 * as pututxline() takes it: login, sshd, utempter and our other processes wait
 * for us and we for them) and reads the slots, so the slot is read, chosen and
 * written in one step.  Symbolic links are followed, as glibc follows them.
 * Every call is followed by step_end(), whatever it returned. */
static int step_begin(const char *path, int timeout_ms, struct utmp_step *step)
{
    struct stat st;

    memset(step, 0, sizeof(*step));
    step->fd = open_locked(path, O_RDWR, 0, 0, timeout_ms, &st);
    if (step->fd < 0)
        return -step->fd;
    step->size = st.st_size;
    return read_slots(step);
}

static void step_end(struct utmp_step *step)
{
    if (step->fd >= 0)
        close_locked(step->fd);
    free(step->raw);
    free(step->slots);
}

/* Writes rec over the slot pututxline() would overwrite (the first with its
 * ut_id), else appends it after the last whole record, as pututxline() does.
 * A failed write puts back what was there: never a torn record. */
static int step_put(struct utmp_step *step, const struct pyutmp_record *rec)
{
    struct utmpx u;
    size_t index = pyutmp_slot_index(step->slots, step->count, rec);
    off_t at = (off_t)(index * sizeof(u));
    int err = to_utmpx(rec, &u);

    if (err)
        return err;
    if (index == step->count) {
        /* A writer that crashed mid-record left a torn tail: cut it, as glibc
         * does, so the new record starts on a record boundary. */
        at = step->size - step->size % (off_t)sizeof(u);
        if (at != step->size && ftruncate(step->fd, at) != 0)
            return errno;
        err = write_all_or_errno(pwrite(step->fd, &u, sizeof(u), at), sizeof(u));
        if (err)
            (void)ftruncate(step->fd, at);
        return err;
    }
    err = write_all_or_errno(pwrite(step->fd, &u, sizeof(u), at), sizeof(u));
    if (err)
        (void)pwrite(step->fd, &step->raw[index], sizeof(u), at);
    return err;
}

/* Retires the stale tty-less slots (pyutmp_slot_stale()) but the one at skip,
 * so `who` with a file lists no session whose process is gone.  Best effort: a
 * slot that cannot be rewritten stays as it was, and the login goes on. */
static void step_retire_stale(struct utmp_step *step, size_t skip)
{
    for (size_t i = 0; i < step->count; i++) {
        struct pyutmp_record dead;
        struct utmpx u;
        off_t at = (off_t)(i * sizeof(u));

        if (i == skip || !pyutmp_slot_stale(&step->slots[i]))
            continue;
        pyutmp_slot_retired(&step->slots[i], &dead);
        if (to_utmpx(&dead, &u) == 0
            && write_all_or_errno(pwrite(step->fd, &u, sizeof(u), at), sizeof(u)) != 0)
            (void)pwrite(step->fd, &step->raw[i], sizeof(u), at);
    }
}

int pyutmp_utmp_put(const char *path, const struct pyutmp_record *rec, int lock_timeout_ms)
{
    struct utmp_step step;
    int err = step_begin(path, lock_timeout_ms, &step);

    if (!err)
        err = step_put(&step, rec);
    step_end(&step);
    return err;
}

int pyutmp_utmp_login(const char *path, struct pyutmp_record *rec, int has_tty,
                      const char *label, int lock_timeout_ms)
{
    struct utmp_step step;
    int err = step_begin(path, lock_timeout_ms, &step);

    if (!err)
        err = pyutmp_slot_choose(step.slots, step.count, rec, has_tty, label);
    if (!err)
        err = step_put(&step, rec);
    if (!err)
        step_retire_stale(&step, pyutmp_slot_index(step.slots, step.count, rec));
    step_end(&step);
    return err;
}

int pyutmp_utmp_logout(const char *path, const struct pyutmp_record *rec,
                       const struct pyutmp_record *logout, int lock_timeout_ms, int *written)
{
    struct utmp_step step;
    int err = step_begin(path, lock_timeout_ms, &step);

    *written = 0;
    if (!err && pyutmp_slot_holds(step.slots, step.count, rec, 0)) {
        err = step_put(&step, logout);
        *written = !err;
    }
    if (!err)
        step_retire_stale(&step, pyutmp_slot_index(step.slots, step.count, rec));
    step_end(&step);
    return err;
}

/* Appends u to the file open_locked() gave (fd, st), one whole record or
 * nothing: a torn tail left by a writer that crashed mid-record is cut first, as
 * glibc does, so the record starts on a record boundary. */
static int append_locked(int fd, const struct stat *st, const struct utmpx *u)
{
    off_t end = st->st_size - st->st_size % (off_t)sizeof(*u);
    int err;

    if (end != st->st_size && ftruncate(fd, end) != 0)
        return errno;
    err = write_all_or_errno(write(fd, u, sizeof(*u)), sizeof(*u));
    if (err)
        (void)ftruncate(fd, end); /* never leave half a record behind */
    return err;
}

/* Makes a missing file as Debian's base-files makes lastlog and btmp: owner root,
 * group utmp, mode with_group; where there is no utmp group, group root and mode
 * alone (the group's bits of with_group cleared).  Whatever the caller's groups
 * and umask (su runs as the user's group).  O_EXCL: an existing file is never
 * touched; O_NOFOLLOW: nor one through a link. */
static int create_missing(const char *path, mode_t with_group, mode_t alone)
{
    struct group group, *utmp = NULL;
    char buffer[4096];
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
    int err = 0;

    if (fd < 0)
        return errno == EEXIST ? 0 : errno;
    if (getgrnam_r("utmp", &group, buffer, sizeof(buffer), &utmp) != 0)
        utmp = NULL;
    if (fchown(fd, 0, utmp ? utmp->gr_gid : 0) != 0 || fchmod(fd, utmp ? with_group : alone) != 0)
        err = errno;
    close(fd);
    if (err)
        (void)unlink(path); /* never leave a file with other owners or modes */
    return err;
}

/* Appends rec to a file of utmp records under the C library's write lock.  wtmp
 * is never created here (a missing wtmp means the administrator turned it off);
 * btmp ("private") is made when missing, and refused (EPERM) when others may read
 * or write it: it holds whatever was typed as a user name, passwords too. */
static int append_record(const char *path, const struct pyutmp_record *rec,
                         int lock_timeout_ms, int private)
{
    struct utmpx u;
    struct stat st;
    int fd, err = to_utmpx(rec, &u);

    if (!err && private)
        err = create_missing(path, 0660, 0600);
    if (err)
        return err;
    fd = open_locked(path, O_WRONLY | O_APPEND | O_NOFOLLOW, 0, 0, lock_timeout_ms, &st);
    if (fd < 0)
        return -fd;
    err = private && (st.st_mode & (S_IROTH | S_IWOTH)) ? EPERM : append_locked(fd, &st, &u);
    close_locked(fd);
    return err;
}

int pyutmp_wtmp_append(const char *path, const struct pyutmp_record *rec,
                       int lock_timeout_ms)
{
    return append_record(path, rec, lock_timeout_ms, 0);
}

int pyutmp_btmp_append(const char *path, const struct pyutmp_record *rec,
                       int lock_timeout_ms)
{
    return append_record(path, rec, lock_timeout_ms, 1);
}

static off_t lastlog_offset(uint32_t uid)
{
    /* 64-bit arithmetic: uid 4294967294 * 292 does not fit 32 bits. */
    return (off_t)uid * (off_t)sizeof(struct lastlog);
}

/* The login in the n bytes pread() got into ll, if they record one. */
static void lastlog_entry(const struct lastlog *ll, ssize_t n, struct pyutmp_lastlog *out,
                          int *found)
{
    *found = 0;
    memset(out, 0, sizeof(*out));
    if (n == (ssize_t)sizeof(*ll) && ll->ll_time != 0) {
        *found = 1;
        out->time = ll->ll_time;
        memcpy(out->line, ll->ll_line, sizeof(out->line));
        memcpy(out->host, ll->ll_host, sizeof(out->host));
    }
}

int pyutmp_lastlog_read(const char *path, uint32_t uid, struct pyutmp_lastlog *out,
                        int *found)
{
    struct lastlog ll;
    struct stat st;
    ssize_t n;
    int fd, err = 0;

    *found = 0;
    memset(out, 0, sizeof(*out));
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT ? 0 : errno;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        err = errno ? errno : EINVAL;
        goto out;
    }
    n = pread(fd, &ll, sizeof(ll), lastlog_offset(uid));
    if (n < 0)
        err = errno;
    else
        lastlog_entry(&ll, n, out, found);
out:
    close(fd);
    return err;
}

int pyutmp_lastlog_write(const char *path, uint32_t uid,
                         const struct pyutmp_lastlog *rec, int lock_timeout_ms,
                         struct pyutmp_lastlog *previous, int *found)
{
    struct lastlog ll, old;
    struct stat st;
    const off_t off = lastlog_offset(uid);
    ssize_t had;
    int fd, err;

    memset(&ll, 0, sizeof(ll));
    PYUTMP_STORE_TIME(ll.ll_time, rec->time);
    memcpy(ll.ll_line, rec->line, sizeof(ll.ll_line));
    memcpy(ll.ll_host, rec->host, sizeof(ll.ll_host));

    err = create_missing(path, 0664, 0644);
    if (err)
        return err;
    fd = open_locked(path, O_RDWR | O_NOFOLLOW, off, (off_t)sizeof(ll), lock_timeout_ms, &st);
    if (fd < 0)
        return -fd;
    had = pread(fd, &old, sizeof(old), off);
    lastlog_entry(&old, had, previous, found);
    err = write_all_or_errno(pwrite(fd, &ll, sizeof(ll), off), sizeof(ll));
    if (err) {
        /* Put back what was there, so a failed write never leaves a torn record. */
        if (st.st_size <= off)
            (void)ftruncate(fd, st.st_size);
        else if (had == (ssize_t)sizeof(old))
            (void)pwrite(fd, &old, sizeof(old), off);
    }
    close_locked(fd);
    return err;
}
