/* cffi declarations for pyutmp_core.h: sizes marked "..." come from the
 * C library's headers at build time. */
#define PYUTMP_LINE_SIZE ...
#define PYUTMP_ID_SIZE ...
#define PYUTMP_USER_SIZE ...
#define PYUTMP_HOST_SIZE ...

#define EMPTY ...
#define BOOT_TIME ...
#define INIT_PROCESS ...
#define LOGIN_PROCESS ...
#define USER_PROCESS ...
#define DEAD_PROCESS ...

#define PYUTMP_NOTTY_ID_PREFIX ...
#define PYUTMP_NOTTY_SLOTS ...

struct pyutmp_record {
    int type;
    int32_t pid;
    int32_t session;
    int64_t tv_sec;
    int32_t tv_usec;
    unsigned char addr_v6[16];
    char line[...];
    char id[...];
    char user[...];
    char host[...];
    ...;
};

struct pyutmp_lastlog {
    int64_t time;
    char line[...];
    char host[...];
    ...;
};

size_t pyutmp_utmpx_size(void);
size_t pyutmp_lastlog_size(void);
int64_t pyutmp_utmp_time_max(void);
int64_t pyutmp_lastlog_time_max(void);
const char *pyutmp_default_utmp_path(void);
const char *pyutmp_default_wtmp_path(void);
const char *pyutmp_default_lastlog_path(void);

int pyutmp_utmp_put(const char *path, const struct pyutmp_record *rec, int lock_timeout_ms);
int pyutmp_utmp_login(const char *path, struct pyutmp_record *rec, int has_tty,
                      const char *label, int lock_timeout_ms);
int pyutmp_utmp_logout(const char *path, const struct pyutmp_record *rec,
                       const struct pyutmp_record *logout, int lock_timeout_ms, int *written);
void pyutmp_notty_slot(struct pyutmp_record *rec, const char *label, unsigned n);
int pyutmp_slot_stale(const struct pyutmp_record *slot);
void pyutmp_slot_retired(const struct pyutmp_record *slot, struct pyutmp_record *out);
int pyutmp_slot_choose(const struct pyutmp_record *slots, size_t count,
                       struct pyutmp_record *rec, int has_tty, const char *label);
size_t pyutmp_slot_index(const struct pyutmp_record *slots, size_t count,
                         const struct pyutmp_record *rec);
int pyutmp_slot_holds(const struct pyutmp_record *slots, size_t count,
                      const struct pyutmp_record *rec, int put_matches_line);
int pyutmp_wtmp_append(const char *path, const struct pyutmp_record *rec,
                       int lock_timeout_ms);
int pyutmp_btmp_append(const char *path, const struct pyutmp_record *rec,
                       int lock_timeout_ms);
int pyutmp_decode(const unsigned char *raw, size_t len, struct pyutmp_record *out);
int pyutmp_lastlog_read(const char *path, uint32_t uid, struct pyutmp_lastlog *out,
                        int *found);
int pyutmp_lastlog_write(const char *path, uint32_t uid,
                         const struct pyutmp_lastlog *rec, int lock_timeout_ms,
                         struct pyutmp_lastlog *previous, int *found);
