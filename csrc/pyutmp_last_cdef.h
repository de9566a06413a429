/* cffi declarations for pyutmp_last.h. */
#define PYUTMP_TIME_NONE ...
#define PYUTMP_TIME_SHORT ...
#define PYUTMP_TIME_FULL ...
#define PYUTMP_TIME_ISO ...
#define PYUTMP_OUT_TEXT ...
#define PYUTMP_OUT_JSON ...
#define PYUTMP_OUT_JSON_LINES ...

struct pyutmp_last_options {
    int lastb;
    int extended;
    int showhost;
    int altlist;
    int usedns;
    int useip;
    int name_len;
    int domain_len;
    int time_fmt;
    int output;
    int64_t maxrecs;
    int64_t since;
    int64_t until;
    int64_t present;
    int64_t now;
    int64_t boot_time;
    const char *const *show;
    size_t nshow;
    void (*progress)(void *ctx, int64_t done, int64_t total);
    void *progress_ctx;
};

int pyutmp_last_file(int in_fd, int out_fd, const struct pyutmp_last_options *opt,
                     int64_t *listed);
int pyutmp_last_buffer(const unsigned char *data, size_t len, int out_fd,
                       const struct pyutmp_last_options *opt, int64_t *listed);
size_t pyutmp_last_record_size(void);
void pyutmp_last_pack(unsigned char *out, int type, int32_t pid, const char *line,
                      const char *user, const char *host, int64_t tv_sec,
                      int32_t tv_usec, const unsigned char *addr_v6);
int pyutmp_parse_timestamp(const char *text, int64_t now, int64_t *usec);
