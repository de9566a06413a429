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
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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
 * program (login, sshd) may use them too, so hold them only inside one call.
 * The lock also covers every descriptor that holds our writers' lock on a
 * utmp file, so no fork copies one (flock belongs to the open file: a child's
 * copy would keep the file locked after we let go). */
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

/* pututxline() of rec into the utmp file at path; utmpx_api_lock is held. */
static int put_locked(const char *path, const struct pyutmp_record *rec)
{
    struct utmpx u;
    int err = to_utmpx(rec, &u);

    if (err)
        return err;
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
    return err;
}

int pyutmp_utmp_put(const char *path, const struct pyutmp_record *rec)
{
    int err;

    pthread_mutex_lock(&utmpx_api_lock);
    err = put_locked(path, rec);
    pthread_mutex_unlock(&utmpx_api_lock);
    return err;
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

static void unlock_region(int fd)
{
    struct flock fl;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_UNLCK;
    fl.l_whence = SEEK_SET;
    (void)fcntl(fd, F_SETLK, &fl);
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
    /* One fstat, under the lock: the size is the one we write at, and a file
     * that is no regular file is refused before anything is written. */
    err = lock_region(fd, F_WRLCK, start, len, timeout_ms);
    if (!err && fstat(fd, st) != 0)
        err = errno;
    else if (!err && !S_ISREG(st->st_mode))
        err = EINVAL;
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

/* Opens a utmp file and takes our writers' lock on it: flock(2), which is
 * independent of the fcntl lock glibc takes inside pututxline() (that would
 * release a lock of ours of its kind, as would its closing the file).  It
 * serialises our read-decide-write steps, so two of our logins never pick the
 * same free slot.  Returns the descriptor, or -errno. */
static int open_for_writers(const char *path, int timeout_ms)
{
    struct backoff b;
    int fd, err = 0;

    /* O_NONBLOCK: a FIFO planted there must not hang a login (read_slots()
     * refuses anything but a regular file). */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    backoff_start(&b, timeout_ms);
    while (!err && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR)
            err = errno;
        else
            err = backoff_wait(&b);
    }
    if (err) {
        close(fd);
        return -err;
    }
    return fd;
}

/* Every slot of the utmp file open at fd, read under a shared fcntl lock so
 * that no record a glibc writer is halfway through is read.  *slots is
 * malloc()ed; the caller frees it. */
static int read_slots(int fd, int timeout_ms, struct pyutmp_record **slots, size_t *count)
{
    struct utmpx *raw = NULL;
    struct stat st;
    size_t n, got = 0;
    int err;

    *slots = NULL;
    *count = 0;
    err = lock_region(fd, F_RDLCK, 0, 0, timeout_ms);
    if (err)
        return err;
    if (fstat(fd, &st) != 0) {
        err = errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        err = EINVAL;
        goto out;
    }
    n = (size_t)st.st_size / sizeof(*raw);
    raw = malloc(n * sizeof(*raw) + 1);
    *slots = malloc(n * sizeof(**slots) + 1);
    if (!raw || !*slots) {
        err = ENOMEM;
        goto out;
    }
    while (got < n * sizeof(*raw)) {
        ssize_t part = pread(fd, (char *)raw + got, n * sizeof(*raw) - got, (off_t)got);

        if (part < 0 && errno == EINTR)
            continue;
        if (part < 0) {
            err = errno;
            goto out;
        }
        if (part == 0)
            break; /* it shrank meanwhile: the whole records read count */
        got += (size_t)part;
    }
    *count = got / sizeof(*raw);
    for (size_t i = 0; i < *count; i++)
        from_utmpx(&raw[i], &(*slots)[i]);
out:
    unlock_region(fd);
    free(raw);
    if (err) {
        free(*slots);
        *slots = NULL;
        *count = 0;
    }
    return err;
}

/* Takes the utmpx mutex and our writers' lock, and reads the slots; every
 * call is followed by slots_end(), whatever it returned. */
static int slots_begin(const char *path, int timeout_ms, int *fd, struct pyutmp_record **slots,
                       size_t *count)
{
    *slots = NULL;
    *count = 0;
    pthread_mutex_lock(&utmpx_api_lock);
    *fd = open_for_writers(path, timeout_ms);
    if (*fd < 0)
        return -*fd;
    return read_slots(*fd, timeout_ms, slots, count);
}

static void slots_end(int fd, struct pyutmp_record *slots)
{
    if (fd >= 0)
        close(fd); /* also releases the flock */
    pthread_mutex_unlock(&utmpx_api_lock);
    free(slots);
}

int pyutmp_utmp_login(const char *path, struct pyutmp_record *rec, int has_tty,
                      const char *label, int lock_timeout_ms)
{
    struct pyutmp_record *slots;
    size_t count;
    int fd, err = slots_begin(path, lock_timeout_ms, &fd, &slots, &count);

    if (!err)
        err = pyutmp_slot_choose(slots, count, rec, has_tty, label);
    if (!err)
        err = put_locked(path, rec);
    slots_end(fd, slots);
    return err;
}

int pyutmp_utmp_logout(const char *path, const struct pyutmp_record *rec,
                       const struct pyutmp_record *logout, int lock_timeout_ms, int *written)
{
    struct pyutmp_record *slots;
    size_t count;
    int fd, err = slots_begin(path, lock_timeout_ms, &fd, &slots, &count);

    *written = 0;
    /* pututxline() overwrites the first slot with the id, whatever its line. */
    if (!err && pyutmp_slot_holds(slots, count, rec, 0)) {
        err = put_locked(path, logout);
        *written = !err;
    }
    slots_end(fd, slots);
    return err;
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

    fd = open_locked(path, O_RDWR | O_CREAT, off, (off_t)sizeof(ll), lock_timeout_ms, &st);
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
    close(fd);
    return err;
}
