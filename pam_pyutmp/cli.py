"""The `pyutmp` command: who, last, lastlog and doctor over every store.

    pyutmp who [--source auto|files|utmps]
    pyutmp last [USER|TTY...] [--source auto|files|utmps|wtmpdb]
    pyutmp lastlog [-u USER] [--source files|lastlog2]
    pyutmp doctor [--root DIR]

Human output as the stock tools print it (who, util-linux last, shadow's
lastlog; for the databases wtmpdb's `wtmpdb last` and util-linux's `lastlog2`),
or ``--json`` for scripts.  Times come from 64-bit integers, so rows of the
databases print right past January 2038.
"""

from __future__ import annotations

import argparse
import datetime
import errno
import json
import os
import pwd
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TextIO

from pam_pyutmp import history, lastlog, stores
from pam_pyutmp.errors import PyutmpError
from pam_pyutmp.fields import CONTROLS
from pam_pyutmp.history import Session
from pam_pyutmp.system import (
    DEFAULT_BTMP,
    DEFAULT_LASTLOG,
    DEFAULT_LASTLOG2,
    DEFAULT_UTMP,
    DEFAULT_WTMP,
    DEFAULT_WTMPDB,
    USER_PROCESS,
)

USEC = 1_000_000
# On a terminal, a scan of a file this large reports its progress unasked.
PROGRESS_SIZE = 32 * 1024 * 1024
# last(1)'s widths: LAST_LOGIN_LEN and LAST_DOMAIN_LEN, and with -w the fields' sizes.
NAME_LEN, DOMAIN_LEN = 8, 16
FULL_NAME_LEN, FULL_DOMAIN_LEN = 32, 256
# last(1)'s time formats: login width, logout width, login format, logout format.
TIME_FORMATS = {
    "notime": (0, 0, "none", "none"),
    "short": (16, 7, "ctime", "hhmm"),
    "full": (24, 26, "ctime", "ctime"),
    "iso": (25, 27, "iso", "iso"),
}
LASTLOG_HOST_WIDTH = 42  # shadow's lastlog: room for an IPv6 address
_STARRED = {ord(char): "*" for char in CONTROLS}  # as last(1)'s fputs_careful prints them


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(_number_options(sys.argv[1:] if argv is None else list(argv)))
    try:
        return int(args.run(args))
    except BrokenPipeError:
        # The reader (head, a pager) went away: nothing left to say to it, and
        # the interpreter's last flush must not fail on the pipe again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except PyutmpError as err:
        print(f"pyutmp: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        where = f": {err.filename}" if err.filename else ""
        print(f"pyutmp: {err.strerror or err}{where}", file=sys.stderr)
        return 1


def _number_options(argv: list[str]) -> list[str]:
    """last's and lastb's "-N", the same as "-n N" (argparse would take "-5" for a user)."""
    if not argv or argv[0] not in ("last", "lastb"):
        return argv
    out = argv[:1]
    for n, word in enumerate(argv[1:], 1):
        if word == "--":
            return out + argv[n:]
        out += ["-n", word[1:]] if word[1:].isdigit() and word.startswith("-") else [word]
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pyutmp", description="Login records: who is on, who was, when each user last "
                                   "logged in, and whether pam_pyutmp is set up right.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    who = commands.add_parser("who", help="the sessions in utmp now")
    who.add_argument("--source", choices=("auto", "files", "utmps"), default="auto",
                     help="utmp file or the utmps daemon (auto: utmps when its socket exists)")
    who.add_argument("-f", "--file", help=f"utmp file (default {DEFAULT_UTMP})")
    who.add_argument("--utmpd-socket", help=f"default {stores.DEFAULT_UTMPD_SOCKET}")
    who.add_argument("--json", action="store_true", help="JSON for scripts")
    who.set_defaults(run=_who)

    last = commands.add_parser("last", help="logins and logouts, newest first")
    last.add_argument("names", nargs="*", metavar="USER|TTY", help="only these users or ttys")
    last.add_argument("--source", choices=("auto", "files", "utmps", "wtmpdb"), default="auto",
                      help="wtmp file, the utmps daemon's wtmp, or the wtmpdb database")
    last.add_argument("-f", "--file", help=f"wtmp file or database (default {DEFAULT_WTMP}, "
                                           "for wtmpdb /var/lib/wtmpdb/wtmp.db)")
    last.add_argument("--utmpd-socket", help="decides --source auto, as for who")
    _listing_options(last)
    _last_options(last)
    last.add_argument("--progress", action="store_true",
                      help="report the progress of the scan on stderr (on a terminal it is "
                           f"reported unasked for files over {PROGRESS_SIZE >> 20} MiB)")
    last.set_defaults(run=_last)

    lastb = commands.add_parser("lastb", help="failed login attempts, newest first")
    lastb.add_argument("names", nargs="*", metavar="USER|TTY", help="only these users or ttys")
    lastb.add_argument("-f", "--file", help=f"btmp file (default {DEFAULT_BTMP})")
    _listing_options(lastb)
    lastb.set_defaults(run=_lastb)

    log = commands.add_parser("lastlog", help="each user's last login")
    log.add_argument("-u", "--user", help="only this user (a name or a uid)")
    log.add_argument("--source", choices=("files", "lastlog2"), default="files",
                     help="the lastlog file or the lastlog2 database")
    log.add_argument("-f", "--file", "-d", "--database",
                     help=f"lastlog file or database (default {DEFAULT_LASTLOG}, for "
                          "lastlog2 /var/lib/lastlog/lastlog2.db; -d is lastlog2's name)")
    log.add_argument("-a", "--active", action="store_true",
                     help="no users who never logged in (lastlog2 only)")
    log.add_argument("-b", "--before", type=_days, metavar="DAYS",
                     help="only logins at least DAYS days ago (lastlog2 only)")
    log.add_argument("-t", "--time", type=_days, metavar="DAYS",
                     help="only logins at most DAYS days ago (lastlog2 only)")
    log.add_argument("-s", "--service", action="store_true",
                     help="the PAM service of each login (lastlog2 only)")
    log.add_argument("--json", action="store_true", help="JSON for scripts")
    log.set_defaults(run=_lastlog)

    doctor = commands.add_parser(
        "doctor", help="check the installation end to end; non-zero exit when something is "
                       "wrong")
    doctor.add_argument("--root", default="/",
                        help="check the system under this directory (its /etc/pam.d, files "
                             "and sockets); default /")
    doctor.add_argument("--python", help="the interpreter pam_python.so embeds (default: "
                                         "/usr/bin/python3.X for the libpython3.X it links)")
    doctor.add_argument("--json", action="store_true", help="JSON for scripts")
    doctor.set_defaults(run=_doctor)
    return parser


def _listing_options(command: argparse.ArgumentParser) -> None:
    """The options of last(1)'s listing that `last` and `lastb` share."""
    command.add_argument("-n", "--limit", type=int, default=0,
                         help="list this many lines at most (also -N: -5 is -n 5)")
    command.add_argument("-w", "--fullnames", action="store_true",
                         help="full user and host names")
    # -F and --time-format set the same thing: the last one given wins.
    command.add_argument("-F", "--fulltimes", action="store_const", dest="time_format",
                         const="full", default="short",
                         help="full login and logout times (--time-format full)")
    command.add_argument("--time-format", choices=tuple(TIME_FORMATS), default="short",
                         action=_TimeFormat)
    command.add_argument("--json", action="store_true", help="JSON for scripts")


class _TimeFormat(argparse.Action):
    """--time-format, remembered apart from -F too: `wtmpdb last` prints its
    "begins" line in the format of --time-format only (full by default)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        namespace.time_format = values
        namespace.begins_format = values


def _last_options(command: argparse.ArgumentParser) -> None:
    """The options of `last` that `lastb` lacks (util-linux last's and wtmpdb last's)."""
    command.add_argument("-x", "--system", action="store_true",
                         help="shutdown entries too")
    command.add_argument("-d", "--dns", action="store_true",
                         help="IP addresses as the host names they resolve to")
    command.add_argument("-i", "--ip", action="store_true",
                         help="host names as their IP addresses")
    command.add_argument("-R", "--nohostname", action="store_true", help="no host column")
    command.add_argument("-a", "--hostlast", action="store_true",
                         help="the host in the last column")
    command.add_argument("-s", "--since", metavar="TIME",
                         help="only sessions that began at TIME or later")
    command.add_argument("-t", "--until", metavar="TIME",
                         help="only sessions that began at TIME or earlier")
    command.add_argument("-p", "--present", metavar="TIME",
                         help="only sessions that were on at TIME")
    command.add_argument("-S", "--service", action="store_true",
                         help="the PAM service of each session (wtmpdb only)")
    command.add_argument("--json-lines", action="store_true",
                         help="one JSON object per session and line, for scripts")


# --- times -------------------------------------------------------------------------


def _local(usec: int) -> datetime.datetime:
    # timedelta, not fromtimestamp(float): exact, and any 64-bit time (2038 and on).
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (epoch + datetime.timedelta(microseconds=usec)).astimezone()


def iso(usec: int) -> str:
    """Local time with its UTC offset, to the second: "2040-01-01T00:00:00+00:00"."""
    try:
        return _local(usec).replace(microsecond=0).isoformat()
    except (OverflowError, ValueError):
        # Past datetime's year 9999, as a database may hold it: the C library's reading.
        when = time.localtime(usec // USEC)
        offset = abs(when.tm_gmtoff)
        zone = (f"{'-' if when.tm_gmtoff < 0 else '+'}{offset // 3600:02d}:"
                f"{offset // 60 % 60:02d}" + (f":{offset % 60:02d}" if offset % 60 else ""))
        return time.strftime("%Y-%m-%dT%H:%M:%S", when) + zone


def _ctime(sec: int) -> str:
    return time.strftime("%a %b %e %H:%M:%S %Y", time.localtime(sec))


def _format_time(kind: str, sec: int) -> str:
    if kind == "ctime":
        return _ctime(sec)
    if kind == "hhmm":
        return time.strftime("%H:%M", time.localtime(sec))
    if kind == "iso":
        return iso(sec * USEC)
    return ""


def _cdiv(a: int, b: int) -> int:
    """C's integer division, which truncates toward zero."""
    return -(-a // b) if a < 0 else a // b


def _cmod(a: int, b: int) -> int:
    return a - b * _cdiv(a, b)


# --- who -----------------------------------------------------------------------------


def _who(args: argparse.Namespace) -> int:
    store = stores.utmp_store(args.source, args.file, args.utmpd_socket)
    live = [r for r in store.read() if r.type == USER_PROCESS]
    if args.file is None:
        # As coreutils who does for the machine's own utmp: a session whose process
        # is gone (killed, crashed) is no one logged in.  A named file may come from
        # another machine, whose pids mean nothing here.
        live = [r for r in live if _process_exists(r.pid)]
    if args.json:
        _dump({"source": stores.resolve_backend(args.source, args.utmpd_socket),
               "file": store.name,
               "sessions": [{"user": r.user, "line": r.line, "id": r.id, "host": r.host,
                             "pid": r.pid, "session": r.session,
                             "login": iso(r.tv_sec * USEC + r.tv_usec),
                             "login_usec": r.tv_sec * USEC + r.tv_usec} for r in live]})
        return 0
    when_format = _who_time_format()
    for r in live:
        when = time.strftime(when_format, time.localtime(r.tv_sec))
        text = f"{r.user:<8} {r.line:<12} {when}"
        print(_starred(text + (f" ({r.host})" if r.host else "")))
    return 0


def _process_exists(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: it exists
    return True


def _who_time_format() -> str:
    """coreutils who's: "May 10 13:25" in the C locale, "2026-05-10 13:25" in any other."""
    import locale

    try:
        name = locale.setlocale(locale.LC_TIME, "")
    except locale.Error:
        name = "C"
    return "%b %e %H:%M" if name in ("C", "POSIX") else "%Y-%m-%d %H:%M"


# --- last ----------------------------------------------------------------------------


def _last(args: argparse.Namespace) -> int:
    source = args.source
    if source == "auto":
        source = stores.resolve_backend("auto", args.utmpd_socket)
    now = int(time.time())
    progress: _ProgressLine | None = None
    if source == "wtmpdb":
        return _last_wtmpdb(args)
    _wtmpdb_options_only(args)
    sessions: Iterator[Session]
    begins: int | None
    if source == "files":
        path = args.file or DEFAULT_WTMP
        begins = history.wtmp_begins(path)
        size = os.stat(path).st_size
        if args.progress or (sys.stderr.isatty() and size > PROGRESS_SIZE):
            progress = _ProgressLine(path, sys.stderr, sys.stderr.isatty())
        sessions = history.pair_records(
            history.records_backwards(path, history.Progress(progress)), now=now,
            warn=_warn)
    else:
        store = stores.wtmp_store("utmps", args.file, utmpd_socket=args.utmpd_socket)
        path = args.file or "wtmp"
        records = list(store.records())
        begins = records[0].tv_sec * USEC + records[0].tv_usec if records else None
        sessions = history.pair_records(reversed(records), now=now, warn=_warn)
    try:
        listed = _list_sessions(args, sessions, source, path, begins)
    finally:
        if progress is not None:
            progress.finish()
    if listed:
        _begins_line(args, path, begins)
    return 0


# Options only `pyutmp last --source wtmpdb` has so far, by their attribute names.
_WTMPDB_ONLY = ("system", "dns", "ip", "nohostname", "hostlast", "since", "until", "present",
                "service", "json_lines")


def _wtmpdb_options_only(args: argparse.Namespace) -> None:
    given = [name for name in _WTMPDB_ONLY if getattr(args, name, None)]
    if given:
        option = "--" + given[0].replace("_", "-")
        raise PyutmpError(errno.EINVAL, f"{option} is for --source wtmpdb only")


def _last_wtmpdb(args: argparse.Namespace) -> int:
    """`wtmpdb last`'s listing, or JSON, written by the C reader as it reads."""
    from pam_pyutmp import dblisting

    for first, second in (("nohostname", "hostlast"), ("nohostname", "dns"),
                          ("nohostname", "ip"), ("dns", "ip")):
        if getattr(args, first) and getattr(args, second):
            raise PyutmpError(errno.EINVAL, f"the options --{first} and --{second} cannot "
                                            "be used together")
    times = {}
    for name in ("since", "until", "present"):
        text = getattr(args, name)
        try:
            times[name] = 0 if text is None else dblisting.parse_time(text)
        except ValueError as err:
            raise PyutmpError(errno.EINVAL, f"--{name}: {err} (YYYY-MM-DD HH:MM:SS, "
                                            "YYYY-MM-DD, today or yesterday)") from None
    path = args.file or DEFAULT_WTMPDB
    output = "json" if args.json else "json-lines" if args.json_lines else "text"
    listing = dblisting.WtmpdbListing(
        path, shown_path=args.file or "wtmpdb", output=output, limit=args.limit,
        fullnames=args.fullnames, time_format=args.time_format,
        begins_format=getattr(args, "begins_format", "full"), nohostname=args.nohostname,
        hostlast=args.hostlast, service=args.service, dns=args.dns, ip=args.ip,
        system=args.system, match=args.names, **times)
    header = ""
    if output == "json":
        from pam_pyutmp import databases

        begins = databases.wtmpdb_begins(path)
        header = dblisting.wtmpdb_json_header(path, None if begins is None else iso(begins))
    sys.stdout.flush()  # the C reader writes to the descriptor, after what was printed
    dblisting.wtmpdb_last(listing, sys.stdout.fileno(), header)
    return 0


def _lastb(args: argparse.Namespace) -> int:
    """util-linux lastb's listing: every record of btmp, newest first."""
    path = args.file or DEFAULT_BTMP
    begins = history.wtmp_begins(path)
    attempts = history.failed_attempts(history.records_backwards(path), now=int(time.time()))
    if _list_sessions(args, attempts, "files", path, begins):
        _begins_line(args, path, begins)
    return 0


def _list_sessions(args: argparse.Namespace, sessions: Iterable[Session], source: str,
                   path: str, begins: int | None) -> bool:
    """`last`'s lines for ``sessions`` (True), or the JSON document (False)."""
    shown = _limited((s for s in sessions if not args.names or history.matches(s, args.names)),
                     args.limit)
    if args.json:
        _dump({"source": source, "file": path, "begins": None if begins is None
               else iso(begins), "sessions": [_session_json(s) for s in shown]})
        return False
    fmt = args.time_format
    name_len, domain_len = ((FULL_NAME_LEN, FULL_DOMAIN_LEN) if args.fullnames
                            else (NAME_LEN, DOMAIN_LEN))
    for session in shown:
        print(_starred(last_line(session, fmt, name_len, domain_len)))
    return True


def _begins_line(args: argparse.Namespace, path: str, begins: int | None) -> None:
    """last's closing "wtmp begins <time>" line (none with --time-format notime)."""
    fmt = args.time_format
    if fmt != "notime":
        if begins is None:
            print(f"\n{os.path.basename(path)} has no entries")
        else:
            kind = TIME_FORMATS[fmt][2]
            print(f"\n{os.path.basename(path)} begins {_format_time(kind, begins // USEC)}")


def _limited(sessions: Iterable[Session], limit: int) -> Iterator[Session]:
    for n, session in enumerate(sessions, 1):
        yield session
        if limit and n >= limit:
            return


def _warn(text: str) -> None:
    print(f"pyutmp: {text}", file=sys.stderr)


def last_line(session: Session, fmt: str, name_len: int = NAME_LEN,
              domain_len: int = DOMAIN_LEN) -> str:
    """One line as util-linux last(1) prints it (its list())."""
    in_len, out_len, in_fmt, out_fmt = TIME_FORMATS[fmt]
    login = session.login_sec
    # last(1) passes 0 as the logout of a session still logged in or gone.
    end = session.end_sec if session.end_sec is not None else 0
    login_text = _format_time(in_fmt, login)
    secs = end - login
    mins, hours, days = _cmod(_cdiv(secs, 60), 60), _cmod(_cdiv(secs, 3600), 24), _cdiv(
        secs, 86400)
    logout_text = "- " + _format_time(out_fmt, end)
    longer = fmt in ("full", "iso")
    if days:
        length = f"({days}+{abs(hours):02d}:{abs(mins):02d})"
    elif hours:
        length = f" ({hours:02d}:{abs(mins):02d})"
    elif secs >= 0:
        length = f" ({hours:02d}:{mins:02d})"
    else:
        length = f" (-00:{abs(mins):02d})"
    if session.status == history.STILL_RUNNING:
        # An end stamped with the second of the listing, or a wtmpdb boot not shut down.
        logout_text, length = ("  still running", "") if longer else ("  still", "running")
    elif session.status == history.CRASH:
        logout_text = "- crash"
    elif session.status == history.DOWN:
        logout_text = "- down "
    elif session.status == history.STILL_LOGGED_IN:
        logout_text, length = (("  still logged in", "") if longer
                               else ("  still", "logged in"))
    elif session.status == history.GONE:
        if longer:
            logout_text, length = "  gone - no logout", ""
        elif fmt == "short":
            logout_text, length = "   gone", "- no logout"
        else:
            logout_text, length = "", "no logout"
    text = (f"{session.user[:name_len]:<8} {session.line[:12]:<12} "
            f"{session.host[:domain_len]:<16} {login_text[:in_len]:<{in_len}} "
            f"{logout_text[:out_len]:<{out_len}} {length}")
    return text.rstrip()


def _session_json(session: Session) -> dict[str, Any]:
    return {
        "type": session.kind,
        "user": session.user,
        "line": session.line,
        "host": session.host,
        "service": session.service,
        "login": iso(session.login),
        "login_usec": session.login,
        # The logout; for a crash or a shutdown, the boot or shutdown that ended it.
        "end": None if session.end is None else iso(session.end),
        "end_usec": session.end,
        "status": session.status,
        "duration_sec": None if session.end is None
        else session.end // USEC - session.login // USEC,
    }


class _ProgressLine:
    """Progress of a long scan on stderr: one rewritten line on a terminal,
    a line per tenth otherwise (asked for with --progress)."""

    def __init__(self, path: str, stream: TextIO, tty: bool) -> None:
        self.path, self.stream, self.tty = path, stream, tty
        self.tenth = -1
        self.width = 0

    def __call__(self, done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        if not self.tty and percent // 10 == self.tenth:
            return
        self.tenth = percent // 10
        text = (f"pyutmp: reading {self.path}: {percent}% ({_size(done)} of {_size(total)})")
        if self.tty:
            self.width = max(self.width, len(text))
            self.stream.write("\r" + text.ljust(self.width))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.tty and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()


def _size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    value = n / 1000
    for unit in ("KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            break
        value /= 1000
    return f"{value:.1f} {unit}"


# --- lastlog -------------------------------------------------------------------------


def _lastlog(args: argparse.Namespace) -> int:
    if args.source == "lastlog2":
        return _lastlog2(args)
    given = [name for name in ("active", "before", "time", "service")
             if getattr(args, name) not in (None, False)]
    if given:
        raise PyutmpError(errno.EINVAL, f"--{given[0]} is for --source lastlog2 only")
    rows: list[dict[str, Any]] = []
    path = args.file or DEFAULT_LASTLOG
    for user in _users(args.user):
        entry_ = lastlog.read(path, user.pw_uid)
        rows.append({"user": user.pw_name, "uid": user.pw_uid,
                     "line": "" if entry_ is None else entry_.line,
                     "host": "" if entry_ is None else entry_.host,
                     "time_sec": 0 if entry_ is None else entry_.time})
    if args.json:
        for row in rows:
            row["time"] = iso(row["time_sec"] * USEC) if row["time_sec"] else None
        _dump({"source": args.source, "file": path, "users": rows})
        return 0
    header = "Username         Port     From"
    print(header + " " * (LASTLOG_HOST_WIDTH - 3) + "Latest")
    for row in rows:
        latest = (time.strftime("%a %b %e %H:%M:%S %z %Y", time.localtime(row["time_sec"]))
                  if row["time_sec"] else "**Never logged in**")
        print(_starred(f"{row['user']:<16} {row['line'][:8]:<8} "
                       f"{row['host']:<{LASTLOG_HOST_WIDTH}}{latest}"))
    return 0


def _lastlog2(args: argparse.Namespace) -> int:
    """`lastlog2`'s listing, written by the C reader, or JSON."""
    from pam_pyutmp import dblisting

    path = args.file or DEFAULT_LASTLOG2
    listing = dblisting.Lastlog2Listing(
        path, user=None if args.user is None else _user_name(args.user),
        active=args.active, service=args.service, before_days=args.before,
        recent_days=args.time)
    if not args.json:
        sys.stdout.flush()  # the C reader writes to the descriptor, after what was printed
        dblisting.lastlog2_list(listing, sys.stdout.fileno())
        return 0
    from pam_pyutmp import databases  # sqlite3 only for this source

    if listing.user is not None:
        entry = databases.last_login2(listing.user, path=path)
        found: Iterable[databases.Lastlog2Entry] = [
            entry or databases.Lastlog2Entry(listing.user, 0, "", "", "")]
    else:
        found = databases.iter_lastlog2(path)
    now = int(time.time())
    _dump({"source": args.source, "file": path, "users": [
        {"user": e.user, "line": e.tty, "host": e.host, "service": e.service,
         "time_sec": e.time, "time": iso(e.time * USEC) if e.time else None}
        for e in found if dblisting.lastlog2_shown(listing, e.time, now)]})
    return 0


def _days(text: str) -> int:
    """lastlog2's DAYS: a whole number."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}")
    return int(text)


def _user_name(user: str) -> str:
    """lastlog2 -u's LOGIN, which must be a user of this system; or a uid."""
    try:
        return pwd.getpwnam(user).pw_name
    except KeyError:
        pass
    try:
        return pwd.getpwuid(int(user)).pw_name if user.isdigit() else pwd.getpwnam(user).pw_name
    except KeyError:
        raise PyutmpError(errno.ENOENT, f"unknown user {user!r}") from None


def _users(user: str | None) -> list[pwd.struct_passwd]:
    if user is None:
        return pwd.getpwall()
    try:
        return [pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)]
    except KeyError:
        raise PyutmpError(2, f"unknown user {user!r}") from None


# --- doctor --------------------------------------------------------------------------


def _doctor(args: argparse.Namespace) -> int:
    from pam_pyutmp.doctor import failed, run  # subprocesses, sqlite3: only here

    findings = run(args.root, python=args.python)
    if args.json:
        _dump({"ok": not failed(findings),
               "findings": [finding._asdict() for finding in findings]})
    else:
        for finding in findings:
            print(finding.text())
    return 1 if failed(findings) else 0


# --- output --------------------------------------------------------------------------


def _starred(text: str) -> str:
    return text.translate(_STARRED)


def _dump(data: object) -> None:
    print(json.dumps(data, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    sys.exit(main())
