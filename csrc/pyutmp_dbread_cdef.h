/* cffi declarations for pyutmp_dbread.h. */
#define PYUTMP_OUT_TEXT ...
#define PYUTMP_OUT_JSON ...
#define PYUTMP_OUT_JSON_LINES ...
#define PYUTMP_TIME_NOTIME ...
#define PYUTMP_TIME_SHORT ...
#define PYUTMP_TIME_FULL ...
#define PYUTMP_TIME_ISO ...
#define PYUTMP_DB_OK ...
#define PYUTMP_DB_ERROR ...
#define PYUTMP_DB_WRITE ...
#define PYUTMP_DB_BUSY ...

struct pyutmp_wtmpdb_listing {
    const char *path;
    const char *shown_path;
    int output;
    const char *header;
    int fd;
    unsigned long limit;
    int fullnames;
    int time_format;
    int begins_format;
    int nohostname;
    int hostlast;
    int service;
    int dns;
    int ip;
    int system;
    int64_t since, until, present;
    const char *const *match;
    int nmatch;
    double busy_timeout;
    unsigned long listed;
    int error_errno;
    char error[...];
    ...;
};

struct pyutmp_lastlog2_listing {
    const char *path;
    const char *user;
    int fd;
    int active;
    int service;
    int before;
    int64_t before_sec;
    int recent;
    int64_t recent_sec;
    double busy_timeout;
    unsigned long listed;
    int error_errno;
    char error[...];
    ...;
};

int pyutmp_wtmpdb_last(struct pyutmp_wtmpdb_listing *listing);
int pyutmp_lastlog2_list(struct pyutmp_lastlog2_listing *listing);
int pyutmp_wtmpdb_parse_time(const char *text, int64_t *when);
