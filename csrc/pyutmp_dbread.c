/* The listings of wtmpdb and lastlog2, formatted in C over SQLite's C API.
 *
 * Why C: a database of a million sessions is listed by `wtmpdb last` in about
 * 1.6 s; a Python object per row took seven times that.  Here each row goes
 * from sqlite3_step() straight into an output buffer.
 *
 * The text is the upstream readers' to the byte (wtmpdb 0.73 `wtmpdb last`,
 * util-linux 2.41 `lastlog2`): the same query, so the same order with the same
 * SQLite library (ties included); printf's byte-counted widths, so a non-ASCII
 * name is cut and padded as theirs are; and the same quirks, which are noted
 * where they are kept.
 *
 * A reader must not hold off a login.  Listing holds SQLite's read lock until
 * the last row, and a writer cannot commit while it is held; so when the output
 * stops taking data (a paused pager), the rest of the listing is written to a
 * temporary file instead, the lock is let go at the end of the query, and only
 * then is the spooled rest copied out, at the reader's pace (pyutmp_output.c). */
#define _GNU_SOURCE
#include "pyutmp_dbread.h"
#include "pyutmp_output.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>


/* wtmpdb's record types (wtmpdb.h) */
#define WTMPDB_BOOT_TIME 1
#define WTMPDB_USER_PROCESS 3

/* The upstream readers' own queries: the order of rows with equal keys is
 * SQLite's, so only the very same statement lists them in the same order. */
static const char SQL_WTMP[] = "SELECT * FROM wtmp ORDER BY Login DESC, Logout ASC";
/* For JSON: the boots alone, in the same order, one step ahead of the rows
 * (see json_status). */
static const char SQL_BOOTS[] =
    "SELECT Login, Logout FROM wtmp WHERE Type = 1 ORDER BY Login DESC, Logout ASC";
/* The same orders without a sort, when the rows' IDs (the order of insertion)
 * give them already: see in_id_order(). */
static const char SQL_WTMP_BY_ID[] = "SELECT * FROM wtmp ORDER BY ID DESC";
static const char SQL_BOOTS_BY_ID[] =
    "SELECT Login, Logout FROM wtmp WHERE Type = 1 ORDER BY ID DESC";
static const char SQL_ORDER_CHECK[] = "SELECT Login, Logout FROM wtmp ORDER BY ID DESC";
static const char SQL_LASTLOG2_ALL[] =
    "SELECT Name,Time,TTY,RemoteHost,Service FROM Lastlog2 ORDER BY Name ASC";
static const char SQL_LASTLOG2_ONE[] =
    "SELECT Name,Time,TTY,RemoteHost,Service FROM Lastlog2 WHERE Name = ?";

int pyutmp_wtmpdb_parse_time(const char *text, int64_t *when)
{
    struct tm tm;
    time_t now;

    memset(&tm, 0, sizeof tm);
    tm.tm_isdst = -1;
    tzset();
    if (strcmp(text, "today") == 0 || strcmp(text, "yesterday") == 0) {
        now = time(NULL);
        localtime_r(&now, &tm);
        tm.tm_isdst = -1;
        tm.tm_sec = tm.tm_min = tm.tm_hour = 0;
        if (text[0] == 'y')
            tm.tm_mday--;
    } else {
        /* As upstream: the second try starts from what the first one filled in. */
        char *rest = strptime(text, "%Y-%m-%d %T", &tm);
        if (rest == NULL || *rest != '\0') {
            rest = strptime(text, "%Y-%m-%d", &tm);
            if (rest == NULL || *rest != '\0')
                return -1;
        }
    }
    *when = (int64_t)mktime(&tm);
    return 0;
}

/* --- wtmpdb -------------------------------------------------------------------- */

struct wtmp_row {
    int type;
    const char *user;
    const char *tty;     /* NULL as upstream prints it: "?" */
    const char *host;
    const char *service;
    uint64_t login;      /* upstream's unsigned reading of the integers */
    int has_logout;
    uint64_t logout;
};

static const char *column_text(sqlite3_stmt *stmt, int column)
{
    return (const char *)sqlite3_column_text(stmt, column);
}

/* An INTEGER column as upstream reads it, through its text (a foreign writer's
 * text or real value is warned about, as upstream does). */
static uint64_t column_u64(sqlite3_stmt *stmt, int column, const char *name)
{
    if (sqlite3_column_type(stmt, column) == SQLITE_INTEGER)
        return (uint64_t)sqlite3_column_int64(stmt, column);
    const char *text = column_text(stmt, column);
    if (text == NULL)
        return 0;
    char *end;
    uint64_t value = strtoull(text, &end, 10);
    if (end == text || *end != '\0')
        fprintf(stderr, "Invalid numeric time entry for '%s': '%s'\n", name, text);
    return value;
}

static void read_row(sqlite3_stmt *stmt, struct wtmp_row *row)
{
    if (sqlite3_column_type(stmt, 1) == SQLITE_INTEGER)
        row->type = (int)sqlite3_column_int64(stmt, 1);
    else {
        const char *text = column_text(stmt, 1);
        row->type = text ? atoi(text) : 0;
    }
    row->user = column_text(stmt, 2);
    if (row->user == NULL)
        row->user = "(null)"; /* printf's word for it; the column is NOT NULL upstream */
    row->login = column_u64(stmt, 3, "login");
    row->has_logout = sqlite3_column_type(stmt, 4) != SQLITE_NULL;
    row->logout = row->has_logout ? column_u64(stmt, 4, "logout") : 0;
    row->tty = column_text(stmt, 5);
    row->host = column_text(stmt, 6);
    if (row->host == NULL)
        row->host = "";
    row->service = column_text(stmt, 7);
    if (row->service == NULL)
        row->service = "";
}

static int matches(const struct pyutmp_wtmpdb_listing *l, const char *user, const char *tty)
{
    for (int i = 0; i < l->nmatch; i++)
        if (strcmp(user, l->match[i]) == 0 || strcmp(tty, l->match[i]) == 0)
            return 1;
    return 0;
}

/* -d: an IP address becomes the name it resolves to, when it has one. */
static const char *host_name(const char *host, char *buf, size_t size)
{
    struct sockaddr_storage addr;

    memset(&addr, 0, sizeof addr);
    if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&addr)->sin_addr) > 0)
        addr.ss_family = AF_INET;
    else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&addr)->sin6_addr) > 0)
        addr.ss_family = AF_INET6;
    else
        return host;
    if (getnameinfo((struct sockaddr *)&addr, sizeof addr, buf, (socklen_t)size, NULL, 0,
                    NI_NAMEREQD) == 0)
        return buf;
    return host;
}

/* -i: a name becomes its first address. */
static const char *host_address(const char *host, char *buf, size_t size)
{
    struct addrinfo hints, *found;
    const char *result = host;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(host, NULL, &hints, &found) != 0)
        return host;
    if (found->ai_family == AF_INET) {
        if (inet_ntop(AF_INET, &((struct sockaddr_in *)found->ai_addr)->sin_addr, buf,
                      (socklen_t)size) != NULL)
            result = buf;
    } else if (found->ai_family == AF_INET6) {
        if (inet_ntop(AF_INET6, &((struct sockaddr_in6 *)found->ai_addr)->sin6_addr, buf,
                      (socklen_t)size) != NULL)
            result = buf;
    }
    freeaddrinfo(found);
    return result;
}

struct columns {
    enum stamp login, logout;
    size_t login_len, logout_len;
};

static void columns_for(int format, struct columns *c)
{
    switch (format) {
    case PYUTMP_TIME_NOTIME:
        *c = (struct columns){STAMP_NONE, STAMP_NONE, 0, 0};
        break;
    case PYUTMP_TIME_FULL:
        *c = (struct columns){STAMP_CTIME, STAMP_CTIME, 24, 24};
        break;
    case PYUTMP_TIME_ISO:
        *c = (struct columns){STAMP_ISO, STAMP_ISO, 25, 25};
        break;
    default:
        *c = (struct columns){STAMP_SHORT, STAMP_HHMM, 16, 5};
        break;
    }
}

static enum stamp begins_stamp(int format)
{
    switch (format) {
    case PYUTMP_TIME_NOTIME: return STAMP_NONE;
    case PYUTMP_TIME_SHORT: return STAMP_SHORT;
    case PYUTMP_TIME_ISO: return STAMP_ISO;
    default: return STAMP_CTIME;
    }
}

/* One line of `wtmpdb last` (its print_line()). */
static void text_line(struct out *out, const struct pyutmp_wtmpdb_listing *l,
                      const struct columns *c, const char *user, const char *tty,
                      const char *host, const char *service, const char *login,
                      const char *logout, const char *length)
{
    /* Without -w an 8-byte column has no room for "soft-reboot". */
    if (!l->fullnames && strcmp(user, "soft-reboot") == 0)
        user = "s-reboot";
    out_field(out, user, l->fullnames ? SIZE_MAX : 8, 8);
    out_char(out, ' ');
    out_field(out, tty, 12, 12);
    if (!l->nohostname && !l->hostlast) {
        out_char(out, ' ');
        out_field(out, host, l->fullnames ? SIZE_MAX : 16, 16);
    }
    if (l->service) {
        out_char(out, ' ');
        out_field(out, service, 12, 12);
    }
    out_char(out, ' ');
    out_field(out, login, c->login_len, c->login_len);
    out_str(out, " - ");
    out_field(out, logout, c->logout_len, c->logout_len);
    out_char(out, ' ');
    if (l->hostlast) {
        out_field(out, length, 12, 12);
        out_char(out, ' ');
        out_str(out, host);
    } else
        out_str(out, length);
    out_char(out, '\n');
}


/* The boots, read one ahead of the rows: the head is the boot that the row at
 * hand was logged in under. */
struct boots {
    sqlite3_stmt *stmt;
    int has_head;
    int64_t head_login;
    int head_has_logout;
    int64_t head_logout;
};

static int boots_next(struct boots *boots)
{
    int rc = sqlite3_step(boots->stmt);
    boots->has_head = rc == SQLITE_ROW;
    if (boots->has_head) {
        boots->head_login = sqlite3_column_int64(boots->stmt, 0);
        boots->head_has_logout = sqlite3_column_type(boots->stmt, 1) != SQLITE_NULL;
        boots->head_logout = sqlite3_column_int64(boots->stmt, 1);
    }
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* What is true of a row without logout, unlike the text's words (which call a
 * session "crash" after any later boot, and know of no boot that a filter
 * left out): a row is still on unless a boot came after it; then it ended
 * "down" at its boot's shutdown when one was recorded after its login, or
 * "crash" at the next boot.  A row with a logout is closed. */
static void json_status(struct json_session *s, const struct wtmp_row *row,
                        const struct boots *boots, int have_newer, int64_t newer_login)
{
    s->login = (int64_t)row->login;
    s->login_sec = floor_div(s->login, (int64_t)USEC_PER_SEC);
    s->iso = NULL;
    s->context = NULL;
    s->has_end = 1;
    if (row->has_logout) {
        s->status = "closed";
        s->end = (int64_t)row->logout;
    } else if (row->type != WTMPDB_BOOT_TIME && boots->has_head && boots->head_has_logout
               && boots->head_logout >= s->login) {
        s->status = "down";
        s->end = boots->head_logout;
    } else if (have_newer) {
        s->status = "crash";
        s->end = newer_login;
    } else {
        s->status = row->type == WTMPDB_BOOT_TIME ? "still running" : "still logged in";
        s->has_end = 0;
        s->end = 0;
    }
}

static int64_t usec_seconds(uint64_t usec)
{
    return (int64_t)(time_t)(usec / USEC_PER_SEC);
}

/* Upstream's -s, -t, -p, and user or tty arguments, in its order. */
static int selected(const struct pyutmp_wtmpdb_listing *l, const struct wtmp_row *row,
                    const char *tty)
{
    int64_t login = usec_seconds(row->login);

    if (l->since && l->since > login)
        return 0;
    if (l->until && l->until < login)
        return 0;
    if (l->present && l->present < login)
        return 0;
    if (l->nmatch && !matches(l, row->user, tty))
        return 0;
    if (row->has_logout && l->present && row->logout / USEC_PER_SEC > 0
        && usec_seconds(row->logout) < l->present)
        return 0;
    return 1;
}

static int set_error(char *error, sqlite3 *db, const char *action)
{
    int code = db ? sqlite3_errcode(db) & 0xFF : SQLITE_NOMEM;
    snprintf(error, PYUTMP_ERROR_SIZE, "%s: %s", action,
             db ? sqlite3_errmsg(db) : "out of memory");
    return code == SQLITE_BUSY || code == SQLITE_LOCKED ? PYUTMP_DB_BUSY : PYUTMP_DB_ERROR;
}

static sqlite3 *open_read_only(const char *path, double busy_timeout, char *error, int *status)
{
    sqlite3 *db = NULL;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        *status = set_error(error, db, "cannot open the database");
        sqlite3_close(db);
        return NULL;
    }
    /* Upstream waits for no writer; a login's write is over in milliseconds. */
    sqlite3_busy_timeout(db, (int)(busy_timeout * 1000));
    return db;
}

/* Whether "ORDER BY ID DESC" lists the rows exactly as "ORDER BY Login DESC,
 * Logout ASC" does: when every row sorts strictly after the row of the next
 * higher ID, no two rows tie and the sorted order is that one, whatever the
 * sort.  Rows are written as sessions begin, so this is the rule; reading
 * them by ID costs a sixth of sorting a million of them in a temporary file.
 * Only INTEGER times (and NULL logouts) are compared here: SQLite orders
 * values of other types by rules of its own. */
static int in_id_order(sqlite3 *db)
{
    sqlite3_stmt *stmt = NULL;
    int rc, ordered = 1, first = 1;
    int64_t login = 0, logout = 0;
    int has_logout = 0;

    if (sqlite3_prepare_v2(db, SQL_ORDER_CHECK, -1, &stmt, NULL) != SQLITE_OK)
        return 0;
    while (ordered && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        int logout_type = sqlite3_column_type(stmt, 1);
        if (sqlite3_column_type(stmt, 0) != SQLITE_INTEGER
            || (logout_type != SQLITE_INTEGER && logout_type != SQLITE_NULL)) {
            ordered = 0;
            break;
        }
        int64_t next_login = sqlite3_column_int64(stmt, 0);
        int next_has_logout = logout_type == SQLITE_INTEGER;
        int64_t next_logout = sqlite3_column_int64(stmt, 1);
        if (!first) {
            if (login < next_login)
                ordered = 0;
            else if (login == next_login) /* then by Logout, NULL first */
                ordered = next_has_logout && (!has_logout || logout < next_logout);
        }
        first = 0;
        login = next_login;
        has_logout = next_has_logout;
        logout = next_logout;
    }
    if (ordered && rc != SQLITE_DONE)
        ordered = 0;
    sqlite3_finalize(stmt);
    return ordered;
}

int pyutmp_wtmpdb_last(struct pyutmp_wtmpdb_listing *l)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    struct boots boots = {0};
    struct out *out = malloc(sizeof *out);
    struct columns c;
    int status = PYUTMP_DB_OK, json = l->output != PYUTMP_OUT_TEXT;
    int pretty = l->output == PYUTMP_OUT_JSON, rc, by_id;
    uint64_t start = UINT64_MAX;   /* the earliest login: the "begins" line */
    int after_reboot = 0;          /* a listed boot came after this row */
    uint64_t newer_boot = 0;       /* -x: the login of the boot listed last */
    int have_newer = 0;            /* JSON: any boot came after this row */
    int64_t newer_login = 0;
    char login[64], logout[64], length[64], host_buf[NI_MAXHOST];

    l->listed = 0;
    l->error[0] = '\0';
    l->error_errno = 0;
    if (out == NULL) {
        snprintf(l->error, PYUTMP_ERROR_SIZE, "out of memory");
        return PYUTMP_DB_ERROR;
    }
    out_init(out, l->fd, OUT_SPOOL);
    tzset();
    columns_for(l->time_format, &c);
    /* An empty file is an empty database to Debian's wtmpdb (as to util-linux
     * last an empty wtmp): "has no entries", not an error. */
    struct stat st;
    if (stat(l->path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0) {
        if (pretty && l->header)
            out_str(out, l->header);
        goto done;
    }
    db = open_read_only(l->path, l->busy_timeout, l->error, &status);
    if (db == NULL)
        goto done;
    /* One read transaction: the check of the order and the listing see the
     * same rows. */
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        status = set_error(l->error, db, "cannot read wtmpdb");
        goto done;
    }
    by_id = in_id_order(db);
    if (sqlite3_prepare_v2(db, by_id ? SQL_WTMP_BY_ID : SQL_WTMP, -1, &stmt, NULL)
        != SQLITE_OK) {
        status = set_error(l->error, db, "cannot read wtmpdb");
        goto done;
    }
    if (json) {
        if (sqlite3_prepare_v2(db, by_id ? SQL_BOOTS_BY_ID : SQL_BOOTS, -1, &boots.stmt,
                               NULL) != SQLITE_OK
            || boots_next(&boots) != SQLITE_OK) {
            status = set_error(l->error, db, "cannot read wtmpdb");
            goto done;
        }
    }
    /* The document starts once the table is known to be there: an error
     * leaves no half document behind. */
    if (pretty && l->header)
        out_str(out, l->header);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct wtmp_row row;
        struct json_session js;

        /* Nothing after the limit changes the listing, not even "begins":
         * upstream's reader skips the rest before it looks at them. */
        if (out->error || (l->limit && l->listed >= l->limit))
            break;
        if (sqlite3_column_count(stmt) != 8) {
            snprintf(l->error, PYUTMP_ERROR_SIZE,
                     "cannot read wtmpdb: the wtmp table has %d columns, not 8 "
                     "(ID, Type, User, Login, Logout, TTY, RemoteHost, Service)",
                     sqlite3_column_count(stmt));
            status = PYUTMP_DB_ERROR;
            goto done;
        }
        read_row(stmt, &row);
        int boot = row.type == WTMPDB_BOOT_TIME;
        int had_newer = have_newer;
        int64_t had_newer_login = newer_login;
        if (json) {
            json_status(&js, &row, &boots, have_newer, newer_login);
            if (boot) {
                if (boots_next(&boots) != SQLITE_OK) {
                    status = set_error(l->error, db, "cannot read wtmpdb");
                    goto done;
                }
                have_newer = 1;
                newer_login = (int64_t)row.login;
            }
        }
        if (row.login < start)
            start = row.login;
        const char *tty = row.tty ? row.tty : "?";
        if (!selected(l, &row, tty))
            continue;

        const char *host = row.host;
        if (l->dns && *host)
            host = host_name(host, host_buf, sizeof host_buf);
        else if (l->ip && *host)
            host = host_address(host, host_buf, sizeof host_buf);

        if (json) {
            js.type = boot ? "boot" : row.type == WTMPDB_USER_PROCESS ? "session" : "unknown";
            js.user = row.user;
            js.line = boot ? "system boot" : row.tty ? row.tty : "";
            js.host = host;
            js.service = row.service;
            out_json_session(out, pretty, l->listed == 0, &js);
            if (l->system && boot && row.has_logout && had_newer) {
                struct json_session down = {
                    .type = "shutdown", .user = "shutdown", .line = "system down",
                    .host = host, .service = row.service, .login = (int64_t)row.logout,
                    .login_sec = floor_div((int64_t)row.logout, (int64_t)USEC_PER_SEC),
                    .has_end = 1, .end = had_newer_login, .status = "closed"};
                out_json_session(out, pretty, 0, &down);
            }
            l->listed++;
            continue;
        }

        format_stamp(c.login, login, sizeof login, (time_t)(row.login / USEC_PER_SEC));
        if (row.has_logout) {
            format_stamp(c.logout, logout, sizeof logout,
                         (time_t)(row.logout / USEC_PER_SEC));
            format_length(length, sizeof length, row.login, row.logout);
        } else if (after_reboot) {
            snprintf(logout, sizeof logout, "crash");
            length[0] = '\0';
        } else {
            int split = c.logout == STAMP_HHMM; /* two words over two columns */
            switch (row.type) {
            case WTMPDB_USER_PROCESS:
                snprintf(logout, sizeof logout, "%s", split ? "still" : "still logged in");
                snprintf(length, sizeof length, "%s", split ? "logged in" : "");
                break;
            case WTMPDB_BOOT_TIME:
                snprintf(logout, sizeof logout, "%s", split ? "still" : "still running");
                snprintf(length, sizeof length, "%s", split ? "running" : "");
                break;
            default:
                snprintf(logout, sizeof logout, "ERROR");
                snprintf(length, sizeof length, "Unknown: %d", row.type);
                break;
            }
        }
        if (boot) {
            tty = "system boot";
            after_reboot = 1;
        }
        text_line(out, l, &c, row.user, tty, host, row.service, login, logout, length);
        /* -x: the shutdown that ended this boot, until the boot listed before it;
         * upstream takes a logout of 0 for none. */
        if (l->system && boot && newer_boot != 0 && row.logout != 0) {
            format_stamp(c.login, login, sizeof login, (time_t)(row.logout / USEC_PER_SEC));
            format_stamp(c.logout, logout, sizeof logout,
                         (time_t)(newer_boot / USEC_PER_SEC));
            format_length(length, sizeof length, row.logout, newer_boot);
            text_line(out, l, &c, "shutdown", "system down", host, row.service, login,
                      logout, length);
        }
        if (l->system && boot)
            newer_boot = row.login;
        l->listed++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        status = set_error(l->error, db, "cannot read wtmpdb");

done:
    sqlite3_finalize(boots.stmt);
    sqlite3_finalize(stmt);
    sqlite3_close(db); /* the read lock goes here, before a spooled rest is copied out */
    if (status == PYUTMP_DB_OK && pretty)
        out_str(out, l->listed ? "\n ]\n}\n" : "]\n}\n");
    if (status == PYUTMP_DB_OK && !json) {
        if (start == UINT64_MAX)
            out_printf(out, "%s has no entries\n", l->shown_path);
        else if (l->begins_format != PYUTMP_TIME_NOTIME) {
            format_stamp(begins_stamp(l->begins_format), login, sizeof login,
                         (time_t)(start / USEC_PER_SEC));
            out_printf(out, "\n%s begins %s\n", l->shown_path, login);
        }
    }
    if (out_finish(out) != 0 && status == PYUTMP_DB_OK) {
        l->error_errno = out->error;
        status = PYUTMP_DB_WRITE;
    }
    free(out);
    return status;
}

/* --- lastlog2 ------------------------------------------------------------------- */

struct lastlog2_row {
    const char *user;
    int64_t time;
    const char *tty, *rhost, *service; /* NULL as upstream tells them from '' */
    char error[256];
};

/* One line of `lastlog2` (its print_entry()), the header before the first. */
static void lastlog2_line(struct out *out, struct pyutmp_lastlog2_listing *l,
                          const struct lastlog2_row *row)
{
    /* An IPv6 link-local address with its interface: upstream's column width. */
    const int host_width = 42;
    char date[80];
    const char *shown = date;
    time_t when = (time_t)row->time;
    struct tm tm;

    if (l->before && ((int64_t)time(NULL) - row->time) < l->before_sec)
        return;
    if (l->recent && ((int64_t)time(NULL) - row->time) > l->recent_sec)
        return;
    if (localtime_r(&when, &tm) == NULL)
        shown = "(unknown)";
    else
        strftime(date, sizeof date, "%a %b %e %H:%M:%S %z %Y", &tm);
    if (row->time == 0) {
        if (l->active)
            return;
        shown = "**Never logged in**";
    }
    if (l->listed == 0)
        out_printf(out, "Username         Port     From%*s Latest%*s%s\n", host_width - 4, " ",
                   l->service ? (int)strlen(shown) - 5 : 0, " ",
                   l->service ? "Service" : "");
    out_printf(out, "%-16s %-8.8s %*s %s%*s%s\n", row->user, row->tty ? row->tty : "",
               -host_width, row->rhost ? row->rhost : "", shown,
               l->service ? 31 - (int)strlen(shown) : 0,
               (l->service && row->service) ? " " : "",
               l->service ? (row->service ? row->service : "") : "");
    if (row->error[0])
        out_printf(out, "\nError: %s\n", row->error);
    l->listed++;
}

static const char *nonempty_text(sqlite3_stmt *stmt, int column)
{
    const char *text = column_text(stmt, column);
    return text && *text ? text : NULL;
}

/* -u: upstream reads the one row and takes any failure (no database, no row)
 * for a user who never logged in. */
static void lastlog2_user(sqlite3 *db, struct out *out, struct pyutmp_lastlog2_listing *l)
{
    sqlite3_stmt *stmt = NULL;
    struct lastlog2_row row = {.user = l->user};

    if (db && sqlite3_prepare_v2(db, SQL_LASTLOG2_ONE, -1, &stmt, NULL) == SQLITE_OK
        && sqlite3_bind_text(stmt, 1, l->user, -1, SQLITE_STATIC) == SQLITE_OK
        && sqlite3_step(stmt) == SQLITE_ROW) {
        row.time = sqlite3_column_int64(stmt, 1);
        row.tty = nonempty_text(stmt, 2);
        row.rhost = nonempty_text(stmt, 3);
        row.service = nonempty_text(stmt, 4);
    }
    lastlog2_line(out, l, &row);
    sqlite3_finalize(stmt);
}

int pyutmp_lastlog2_list(struct pyutmp_lastlog2_listing *l)
{
    sqlite3 *db;
    sqlite3_stmt *stmt = NULL;
    struct out *out = malloc(sizeof *out);
    int status = PYUTMP_DB_OK, rc;

    l->listed = 0;
    l->error[0] = '\0';
    l->error_errno = 0;
    if (out == NULL) {
        snprintf(l->error, PYUTMP_ERROR_SIZE, "out of memory");
        return PYUTMP_DB_ERROR;
    }
    out_init(out, l->fd, OUT_SPOOL);
    tzset();
    db = open_read_only(l->path, l->busy_timeout, l->error, &status);
    if (l->user != NULL) {
        status = PYUTMP_DB_OK;
        l->error[0] = '\0';
        lastlog2_user(db, out, l);
        goto done;
    }
    if (db == NULL)
        goto done;
    if (sqlite3_prepare_v2(db, SQL_LASTLOG2_ALL, -1, &stmt, NULL) != SQLITE_OK) {
        status = set_error(l->error, db, "cannot read lastlog2");
        goto done;
    }
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW && !out->error) {
        struct lastlog2_row row;

        row.user = column_text(stmt, 0);
        if (row.user == NULL)
            row.user = "(null)";
        row.error[0] = '\0';
        row.time = 0;
        if (sqlite3_column_type(stmt, 1) == SQLITE_INTEGER)
            row.time = sqlite3_column_int64(stmt, 1);
        else if (column_text(stmt, 1) != NULL) {
            const char *text = column_text(stmt, 1);
            char *end;
            errno = 0;
            row.time = strtoll(text, &end, 10);
            if ((errno == ERANGE && (row.time == INT64_MAX || row.time == INT64_MIN))
                || end == text || *end != '\0')
                snprintf(row.error, sizeof row.error,
                         "Invalid numeric time entry for '%s': '%s'\n", row.user, text);
        }
        row.tty = column_text(stmt, 2);
        row.rhost = column_text(stmt, 3);
        row.service = column_text(stmt, 4);
        lastlog2_line(out, l, &row);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        status = set_error(l->error, db, "cannot read lastlog2");

done:
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    if (out_finish(out) != 0 && status == PYUTMP_DB_OK) {
        l->error_errno = out->error;
        status = PYUTMP_DB_WRITE;
    }
    free(out);
    return status;
}
