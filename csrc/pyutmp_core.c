/* The accounting core of pam_pyutmp: utmp through the C library's utmpx API,
 * wtmp and lastlog as whole records under bounded fcntl locks. */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64

#include "pyutmp_core.h"

#include <errno.h>
#include <fcntl.h>
#include <lastlog.h>
#include <paths.h>
#include <pthread.h>
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

/* utmpxname() and the setutxent() cursor are process-wide state; the host
 * program (login, sshd) may use them too, so hold them only inside one call. */
static pthread_mutex_t utmpx_api_lock = PTHREAD_MUTEX_INITIALIZER;

/* A host that forks while another of its threads holds the lock would give
 * the child a lock nobody there can release: fork() waits for it instead. */
static void utmpx_api_lock_take(void) { pthread_mutex_lock(&utmpx_api_lock); }
static void utmpx_api_lock_give(void) { pthread_mutex_unlock(&utmpx_api_lock); }

__attribute__((constructor)) static void utmpx_api_lock_across_fork(void)
{
    pthread_atfork(utmpx_api_lock_take, utmpx_api_lock_give, utmpx_api_lock_give);
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

/* The record's time in the C library's field, or EOVERFLOW: glibc keeps
 * 32-bit seconds even on 64-bit machines, and a wrapped time is a wrong one. */
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

int pyutmp_utmp_put(const char *path, const struct pyutmp_record *rec)
{
    struct utmpx u;
    int err = to_utmpx(rec, &u);

    if (err)
        return err;
    pthread_mutex_lock(&utmpx_api_lock);
    if (utmpxname(path) != 0) {
        err = errno ? errno : ENOMEM;
    } else {
        setutxent();
        errno = 0;
        /* pututxline() replaces the slot with the same ut_id, or appends. */
        if (pututxline(&u) == NULL)
            err = errno ? errno : EIO;
        endutxent();
    }
    /* Leave the host program's utmpx API pointing at the system file. */
    utmpxname(_PATH_UTMPX);
    pthread_mutex_unlock(&utmpx_api_lock);
    return err;
}

/* Takes an fcntl lock, retrying until timeout_ms have passed on the monotonic
 * clock: a stuck holder must not hang a login.  The pause doubles from 1 ms to
 * 32 ms, so a crowd of waiters does not starve the holder.  EAGAIN when the
 * time ran out. */
static int lock_region(int fd, short type, off_t start, off_t len, int timeout_ms)
{
    struct flock fl;
    struct timespec now, deadline;
    long pause_ns = 1000 * 1000;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = len;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000 * 1000;
    if (deadline.tv_nsec >= 1000 * 1000 * 1000) {
        deadline.tv_sec += 1;
        deadline.tv_nsec -= 1000 * 1000 * 1000;
    }
    for (;;) {
        struct timespec pause = {0, pause_ns};

        if (fcntl(fd, F_SETLK, &fl) == 0)
            return 0;
        if (errno != EACCES && errno != EAGAIN && errno != EINTR)
            return errno;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > deadline.tv_sec
            || (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec))
            return EAGAIN;
        nanosleep(&pause, NULL);
        if (pause_ns < 32 * 1000 * 1000)
            pause_ns *= 2;
    }
}

/* Opens a regular file for us and locks the region [start, start+len) (len 0:
 * to the end), then stats it under the lock.  O_NOFOLLOW: we run as root in
 * directories others may influence; O_NONBLOCK: a FIFO planted there must not
 * hang a login.  Returns the descriptor, or -errno. */
static int open_locked(const char *path, int flags, off_t start, off_t len, int timeout_ms,
                       struct stat *st)
{
    int fd, err;

    fd = open(path, flags | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK, 0644);
    if (fd < 0)
        return -errno;
    if (fstat(fd, st) != 0)
        err = errno;
    else if (!S_ISREG(st->st_mode))
        err = EINVAL;
    else if ((err = lock_region(fd, F_WRLCK, start, len, timeout_ms)) == 0 && fstat(fd, st) != 0)
        err = errno;
    if (err) {
        close(fd);
        return -err;
    }
    return fd;
}

static int write_all_or_errno(ssize_t written, size_t wanted)
{
    if (written < 0)
        return errno ? errno : EIO;
    if ((size_t)written != wanted)
        return ENOSPC; /* a short write to a regular file means a full disk */
    return 0;
}

int pyutmp_wtmp_append(const char *path, const struct pyutmp_record *rec,
                       int lock_timeout_ms)
{
    struct utmpx u;
    struct stat st;
    off_t end;
    int fd, err = to_utmpx(rec, &u);

    if (err)
        return err;
    /* Never created here: a missing wtmp means the administrator turned it off. */
    fd = open_locked(path, O_WRONLY | O_APPEND, 0, 0, lock_timeout_ms, &st);
    if (fd < 0)
        return -fd;
    /* A writer that crashed mid-record left a torn tail: cut it, as glibc does,
     * so our record starts on a record boundary. */
    end = st.st_size - st.st_size % (off_t)sizeof(u);
    if (end != st.st_size && ftruncate(fd, end) != 0) {
        err = errno;
        goto out;
    }
    err = write_all_or_errno(write(fd, &u, sizeof(u)), sizeof(u));
    if (err)
        (void)ftruncate(fd, end); /* never leave half a record behind */
out:
    close(fd); /* also drops the lock */
    return err;
}

static off_t lastlog_offset(uint32_t uid)
{
    /* 64-bit arithmetic: uid 4294967294 * 292 does not fit 32 bits. */
    return (off_t)uid * (off_t)sizeof(struct lastlog);
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
    if (n < 0) {
        err = errno;
        goto out;
    }
    if ((size_t)n == sizeof(ll) && ll.ll_time != 0) {
        *found = 1;
        out->time = ll.ll_time;
        memcpy(out->line, ll.ll_line, sizeof(out->line));
        memcpy(out->host, ll.ll_host, sizeof(out->host));
    }
out:
    close(fd);
    return err;
}

int pyutmp_lastlog_write(const char *path, uint32_t uid,
                         const struct pyutmp_lastlog *rec, int lock_timeout_ms)
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

    fd = open_locked(path, O_RDWR | O_CREAT, off, (off_t)sizeof(ll), lock_timeout_ms, &st);
    if (fd < 0)
        return -fd;
    had = pread(fd, &old, sizeof(old), off);
    err = write_all_or_errno(pwrite(fd, &ll, sizeof(ll), off), sizeof(ll));
    if (err) {
        /* Put back what was there, so a failed write never leaves a torn record. */
        if (st.st_size <= off)
            (void)ftruncate(fd, st.st_size);
        else if (had == (ssize_t)sizeof(old))
            (void)pwrite(fd, &old, sizeof(old), off);
    }
    close(fd);
    return err;
}
