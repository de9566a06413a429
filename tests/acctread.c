/* acctread: the accounting files read (and written) through glibc's own
 * utmpx and lastlog API, for the tests on a release whose stock readers are
 * gone (Debian 13 has no utmpdump, no util-linux last, no shadow lastlog).
 * Nothing here shares code with pam_pyutmp: it checks it from outside.
 *
 *   acctread dump FILE            every record, as util-linux utmpdump prints it
 *   acctread undump FILE          utmpdump's text on stdin, appended to FILE
 *                                 with updwtmpx() (as `utmpdump -r > FILE`)
 *   acctread last FILE            the sessions, newest first, in the words of
 *                                 `last -w --time-format iso`: user, line, host,
 *                                 login, then "- logout (length)", "still logged
 *                                 in" or "- gone - no logout"
 *   acctread lastlog FILE USER [PASSWD]
 *                                 shadow `lastlog -u USER`'s header and row, the
 *                                 uid from PASSWD (default: getpwnam)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <lastlog.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utmpx.h>

static void die(const char *what)
{
    perror(what);
    exit(1);
}

/* A fixed-size field as a C string, unprintable bytes as '?' (utmpdump's cleanse). */
static void field(char *out, const char *in, size_t size)
{
    size_t n = strnlen(in, size);

    for (size_t i = 0; i < n; i++)
        out[i] = isprint((unsigned char)in[i]) ? in[i] : '?';
    out[n] = '\0';
}

/* "2026-12-07T12:49:21" then ",123456" (when usec >= 0) then "+00:00": the
 * times utmpdump and `last --time-format iso` print. */
static void iso(char *out, size_t size, time_t sec, long usec)
{
    struct tm tm;
    char date[32], zone[8], fraction[16] = "";

    localtime_r(&sec, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    strftime(zone, sizeof(zone), "%z", &tm);
    if (usec >= 0)
        snprintf(fraction, sizeof(fraction), ",%06ld", usec);
    snprintf(out, size, "%s%s%.3s:%.2s", date, fraction, zone, zone + 3);
}

static void open_file(const char *path)
{
    if (access(path, R_OK) != 0)
        die(path);
    if (utmpxname(path) != 0)
        die("utmpxname");
    setutxent();
}

static int dump(const char *path)
{
    struct utmpx *ut;

    open_file(path);
    while ((ut = getutxent()) != NULL) {
        char id[sizeof(ut->ut_id) + 1], user[sizeof(ut->ut_user) + 1],
            line[sizeof(ut->ut_line) + 1], host[sizeof(ut->ut_host) + 1];
        char addr[INET6_ADDRSTRLEN] = "", when[80];
        int v6 = ut->ut_addr_v6[1] || ut->ut_addr_v6[2] || ut->ut_addr_v6[3];

        inet_ntop(v6 ? AF_INET6 : AF_INET, ut->ut_addr_v6, addr, sizeof(addr));
        iso(when, sizeof(when), ut->ut_tv.tv_sec, (long)ut->ut_tv.tv_usec);
        field(id, ut->ut_id, sizeof(ut->ut_id));
        field(user, ut->ut_user, sizeof(ut->ut_user));
        field(line, ut->ut_line, sizeof(ut->ut_line));
        field(host, ut->ut_host, sizeof(ut->ut_host));
        printf("[%d] [%05d] [%-4.4s] [%-8.32s] [%-12.32s] [%-20.256s] [%-15s] [%s]\n",
               ut->ut_type, ut->ut_pid, id, user, line, host, addr, when);
    }
    endutxent();
    return 0;
}

/* The text between the next '[' and its ']', trailing blanks dropped. */
static char *token(char **cursor)
{
    char *start = strchr(*cursor, '['), *end;

    if (!start || !(end = strchr(start + 1, ']')))
        return NULL;
    *end = '\0';
    *cursor = end + 1;
    for (char *p = end - 1; p > start && *p == ' '; p--)
        *p = '\0';
    return start + 1;
}

static void copy(char *to, const char *from, size_t size)
{
    strncpy(to, from, size); /* fixed-size field: NUL-padded, not terminated when full */
}

static int undump(const char *path)
{
    char text[1024];

    while (fgets(text, sizeof(text), stdin)) {
        struct utmpx ut;
        char *cursor = text, *tokens[8];
        struct tm tm;
        int zone_hours = 0, zone_minutes = 0;
        long usec = 0;
        char sign = '+';
        int i;

        for (i = 0; i < 8 && (tokens[i] = token(&cursor)) != NULL; i++)
            ;
        if (i < 8) {
            fprintf(stderr, "acctread: not a utmpdump line: %s", text);
            return 1;
        }
        memset(&ut, 0, sizeof(ut));
        memset(&tm, 0, sizeof(tm));
        ut.ut_type = (short)atoi(tokens[0]);
        ut.ut_pid = atoi(tokens[1]);
        copy(ut.ut_id, tokens[2], sizeof(ut.ut_id));
        copy(ut.ut_user, tokens[3], sizeof(ut.ut_user));
        copy(ut.ut_line, tokens[4], sizeof(ut.ut_line));
        copy(ut.ut_host, tokens[5], sizeof(ut.ut_host));
        if (*tokens[6] && inet_pton(AF_INET6, tokens[6], ut.ut_addr_v6) != 1)
            inet_pton(AF_INET, tokens[6], ut.ut_addr_v6);
        if (sscanf(tokens[7], "%d-%d-%dT%d:%d:%d,%ld%c%d:%d", &tm.tm_year, &tm.tm_mon,
                   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &usec, &sign, &zone_hours,
                   &zone_minutes) != 10) {
            fprintf(stderr, "acctread: not a utmpdump time: %s\n", tokens[7]);
            return 1;
        }
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        ut.ut_tv.tv_sec = (__typeof__(ut.ut_tv.tv_sec))(
            timegm(&tm) - (sign == '-' ? -1 : 1) * (zone_hours * 3600 + zone_minutes * 60));
        ut.ut_tv.tv_usec = (__typeof__(ut.ut_tv.tv_usec))usec;
        updwtmpx(path, &ut);
    }
    return 0;
}

struct logout {
    char line[sizeof(((struct utmpx *)0)->ut_line)];
    time_t when;
    struct logout *next;
};

/* As last's is_phantom(): a session without a logout is still running while
 * its process lives with the user's login uid (or, without one, the user
 * owns its terminal); otherwise it is "gone - no logout". */
static int still_running(const struct utmpx *r)
{
    char name[sizeof(r->ut_user) + 1], path[64];
    struct passwd *pw;
    struct stat st;
    FILE *file;

    memcpy(name, r->ut_user, sizeof(r->ut_user));
    name[sizeof(r->ut_user)] = '\0';
    if (!(pw = getpwnam(name)))
        return 0;
    snprintf(path, sizeof(path), "/proc/%d/loginuid", r->ut_pid);
    if ((file = fopen(path, "r")) != NULL) {
        unsigned int loginuid = (unsigned int)-1;
        int read = fscanf(file, "%u", &loginuid);

        fclose(file);
        return read == 1 && loginuid == pw->pw_uid;
    }
    snprintf(path, sizeof(path), "/dev/%.32s", r->ut_line);
    return stat(path, &st) == 0 && st.st_uid == pw->pw_uid;
}

static int last(const char *path)
{
    struct utmpx *records = NULL, *ut;
    size_t count = 0, size = 0;
    struct logout *pending = NULL;

    open_file(path);
    while ((ut = getutxent()) != NULL) {
        if (count == size) {
            size = size ? size * 2 : 256;
            records = realloc(records, size * sizeof(*records));
            if (!records)
                die("realloc");
        }
        records[count++] = *ut;
    }
    endutxent();
    /* As last does: newest first; a login is ended by the first later record
     * (logout or login) on its line. */
    for (size_t i = count; i-- > 0;) {
        struct utmpx *r = &records[i];
        struct logout **p, *found = NULL;
        char user[sizeof(r->ut_user) + 1], line[sizeof(r->ut_line) + 1],
            host[sizeof(r->ut_host) + 1], start[80], end[80];

        if (r->ut_type != USER_PROCESS && r->ut_type != DEAD_PROCESS)
            continue;
        if (r->ut_type == USER_PROCESS) {
            for (p = &pending; *p; p = &(*p)->next) {
                if (strncmp((*p)->line, r->ut_line, sizeof(r->ut_line)) == 0) {
                    found = *p;
                    *p = found->next;
                    break;
                }
            }
            field(user, r->ut_user, sizeof(r->ut_user));
            field(line, r->ut_line, sizeof(r->ut_line));
            field(host, r->ut_host, sizeof(r->ut_host));
            iso(start, sizeof(start), r->ut_tv.tv_sec, -1);
            printf("%-8s %-12s %-16s %s ", user, line, host, start);
            if (found) {
                long minutes = (long)(found->when - r->ut_tv.tv_sec) / 60;

                iso(end, sizeof(end), found->when, -1);
                printf("- %s  (%02ld:%02ld)\n", end, minutes / 60, minutes % 60);
                free(found);
            } else {
                printf("  %s\n", still_running(r) ? "still logged in" : "gone - no logout");
            }
        }
        if (r->ut_line[0]) {
            struct logout *entry = calloc(1, sizeof(*entry));

            if (!entry)
                die("calloc");
            memcpy(entry->line, r->ut_line, sizeof(entry->line));
            entry->when = r->ut_tv.tv_sec;
            entry->next = pending;
            pending = entry;
        }
    }
    if (count) {
        char first[80];

        iso(first, sizeof(first), records[0].ut_tv.tv_sec, -1);
        printf("\n%s begins %s\n", strrchr(path, '/') ? strrchr(path, '/') + 1 : path, first);
    }
    return 0;
}

static int show_lastlog(const char *path, const char *name, const char *passwd)
{
    struct passwd *pw = NULL;
    struct lastlog ll;
    ssize_t got;
    int fd;

    if (passwd) {
        FILE *users = fopen(passwd, "r");

        if (!users)
            die(passwd);
        while ((pw = fgetpwent(users)) != NULL && strcmp(pw->pw_name, name) != 0)
            ;
        fclose(users);
    } else {
        pw = getpwnam(name);
    }
    if (!pw) {
        fprintf(stderr, "acctread: unknown user %s\n", name);
        return 1;
    }
    fd = open(path, O_RDONLY);
    if (fd < 0)
        die(path);
    got = pread(fd, &ll, sizeof(ll), (off_t)pw->pw_uid * (off_t)sizeof(ll));
    close(fd);
    printf("Username         Port     From                                       Latest\n");
    if (got != (ssize_t)sizeof(ll) || ll.ll_time == 0) {
        printf("%-16s %-8s %-41s **Never logged in**\n", name, "", "");
    } else {
        char line[sizeof(ll.ll_line) + 1], host[sizeof(ll.ll_host) + 1], when[64];
        time_t t = (time_t)ll.ll_time;
        struct tm tm;

        field(line, ll.ll_line, sizeof(ll.ll_line));
        field(host, ll.ll_host, sizeof(ll.ll_host));
        strftime(when, sizeof(when), "%a %b %e %H:%M:%S %z %Y", localtime_r(&t, &tm));
        printf("%-16s %-8.8s %-41s %s\n", name, line, host, when);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "dump") == 0)
        return dump(argv[2]);
    if (argc == 3 && strcmp(argv[1], "undump") == 0)
        return undump(argv[2]);
    if (argc == 3 && strcmp(argv[1], "last") == 0)
        return last(argv[2]);
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "lastlog") == 0)
        return show_lastlog(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
    fprintf(stderr, "usage: acctread dump|undump|last FILE | lastlog FILE USER [PASSWD]\n");
    return 2;
}
