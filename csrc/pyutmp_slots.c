/* Which utmp slot a session takes, and whether it still holds it: rules over
 * a snapshot of the slots, the same for every store (utmp files, utmpd).
 *
 * A session on a tty takes the tty's slot, as login does, unless a live
 * session of another process holds it; such a session, and one without a
 * tty, gets a tty-less slot of its own.  A logout only ever closes the slot
 * of its own login. */
#define _GNU_SOURCE

#include "pyutmp_core.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";

/* Field text as the readers see it: up to the first NUL or the field's end. */
#define SAME_FIELD(a, b) (strncmp((a), (b), sizeof(a)) == 0)

static int alive(int32_t pid)
{
    if (pid <= 0)
        return 0;
    return kill(pid, 0) == 0 || errno == EPERM;
}

void pyutmp_notty_slot(struct pyutmp_record *rec, const char *label, unsigned n)
{
    char suffix[16];
    size_t room, len = strlen(label);
    int suffix_len;

    n %= PYUTMP_NOTTY_SLOTS;
    suffix_len = snprintf(suffix, sizeof(suffix), "/%u", n);
    memset(rec->id, 0, sizeof(rec->id));
    rec->id[0] = PYUTMP_NOTTY_ID_PREFIX;
    rec->id[1] = digits[n / (36 * 36)];
    rec->id[2] = digits[n / 36 % 36];
    rec->id[3] = digits[n % 36];

    /* The label is cut on a UTF-8 character boundary so the number fits: `last`
     * pairs logins with logouts by line, and two live sessions never share one. */
    room = sizeof(rec->line) - (size_t)suffix_len;
    if (len > room) {
        len = room;
        while (len > 0 && ((unsigned char)label[len] & 0xC0) == 0x80)
            len--;
    }
    memset(rec->line, 0, sizeof(rec->line));
    memcpy(rec->line, label, len);
    memcpy(rec->line + len, suffix, (size_t)suffix_len);
}

/* The number of a tty-less id ("P" and three base-36 digits), or -1. */
static long notty_number(const char id[PYUTMP_ID_SIZE])
{
    long n = 0;

    if (id[0] != PYUTMP_NOTTY_ID_PREFIX)
        return -1;
    for (int i = 1; i < 4; i++) {
        const char *digit = id[i] ? strchr(digits, id[i]) : NULL;

        if (!digit)
            return -1;
        n = n * 36 + (digit - digits);
    }
    return n;
}

/* The line counts as well as the id: login (shadow) gives pts/3 the id "/3",
 * not "ts/3", and `last` pairs by line, so a second session on the line would
 * end login's session in wtmp at this one's start. */
static int held_by_other(const struct pyutmp_record *slot, const struct pyutmp_record *rec)
{
    return slot->type == USER_PROCESS
        && (SAME_FIELD(slot->id, rec->id) || SAME_FIELD(slot->line, rec->line))
        && slot->pid != rec->pid
        && alive(slot->pid);
}

int pyutmp_slot_choose(const struct pyutmp_record *slots, size_t count,
                       struct pyutmp_record *rec, int has_tty, const char *label)
{
    unsigned char used[PYUTMP_NOTTY_SLOTS / 8 + 1]; /* a bit per tty-less id */
    size_t i;

    if (has_tty) {
        for (i = 0; i < count && !held_by_other(&slots[i], rec); i++)
            ;
        if (i == count)
            return 0;
    }
    /* The lowest free number, so ended sessions' ids are reused and utmp does
     * not grow with every login. */
    memset(used, 0, sizeof(used));
    for (i = 0; i < count; i++) {
        long n = slots[i].type == USER_PROCESS ? notty_number(slots[i].id) : -1;

        /* A session whose process is gone (killed, crashed) never logs out:
         * its number is free again, or killed sessions would use them up. */
        if (n >= 0 && alive(slots[i].pid))
            used[n / 8] |= (unsigned char)(1u << (n % 8));
    }
    for (unsigned n = 0; n < PYUTMP_NOTTY_SLOTS; n++) {
        if (!(used[n / 8] & (1u << (n % 8)))) {
            pyutmp_notty_slot(rec, label, n);
            return 0;
        }
    }
    return EUSERS;
}

int pyutmp_slot_stale(const struct pyutmp_record *slot)
{
    return slot->type == USER_PROCESS && notty_number(slot->id) >= 0 && !alive(slot->pid);
}

void pyutmp_slot_retired(const struct pyutmp_record *slot, struct pyutmp_record *out)
{
    *out = *slot;
    out->type = DEAD_PROCESS;
    memset(out->user, 0, sizeof(out->user));
    memset(out->host, 0, sizeof(out->host));
}

static int same_session(const struct pyutmp_record *slot, const struct pyutmp_record *rec)
{
    if (!SAME_FIELD(slot->line, rec->line) || slot->pid != rec->pid
        || slot->tv_sec != rec->tv_sec || slot->tv_usec != rec->tv_usec)
        return 0;
    if (slot->type == USER_PROCESS)
        return SAME_FIELD(slot->user, rec->user);
    /* Retired as stale (pyutmp_slot_retired()) although the session lived on
     * in another process, which closes it now: still its slot, so wtmp gets
     * the logout.  A logout record has the logout's time, never the login's. */
    return slot->type == DEAD_PROCESS && slot->user[0] == '\0';
}

size_t pyutmp_slot_index(const struct pyutmp_record *slots, size_t count,
                         const struct pyutmp_record *rec)
{
    size_t i;

    for (i = 0; i < count; i++) {
        int type = slots[i].type;

        /* glibc's rule: a record of these types goes over the one of its type... */
        if (rec->type == RUN_LVL || rec->type == BOOT_TIME || rec->type == NEW_TIME
            || rec->type == OLD_TIME) {
            if (type == rec->type)
                break;
        /* ...any other over the first process record with its id. */
        } else if ((type == INIT_PROCESS || type == LOGIN_PROCESS || type == USER_PROCESS
                    || type == DEAD_PROCESS)
                   && SAME_FIELD(slots[i].id, rec->id)) {
            break;
        }
    }
    return i;
}

int pyutmp_slot_holds(const struct pyutmp_record *slots, size_t count,
                      const struct pyutmp_record *rec, int put_matches_line)
{
    if (!put_matches_line) {
        size_t i = pyutmp_slot_index(slots, count, rec);

        return i < count && same_session(&slots[i], rec);
    }
    for (size_t i = 0; i < count; i++) {
        const struct pyutmp_record *slot = &slots[i];

        /* The slot utmpd's put overwrites: the first with the id and the line
         * (an ended tty-less session of another service can keep the same id
         * there under its own line). */
        if (SAME_FIELD(slot->id, rec->id)
            && (slot->type == USER_PROCESS || slot->type == DEAD_PROCESS)
            && SAME_FIELD(slot->line, rec->line))
            return same_session(slot, rec);
    }
    return 0;
}
