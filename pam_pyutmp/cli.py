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
import errno
import os
import pwd
import sys
import time

from pam_pyutmp import stores
from pam_pyutmp._typing import TYPE_CHECKING
from pam_pyutmp.errors import PyutmpError
from pam_pyutmp.fields import CONTROLS
from pam_pyutmp.system import (
    DEFAULT_BTMP,
    DEFAULT_LASTLOG,
    DEFAULT_LASTLOG2,
    DEFAULT_UTMP,
    DEFAULT_WTMP,
    DEFAULT_WTMPDB,
    USER_PROCESS,
)

if TYPE_CHECKING:  # names for the type checker: a listing imports only what it uses
    import datetime
    from collections.abc import Iterable, Sequence
    from typing import Any, TextIO

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
    args = parser.parse_args(_last_arguments(sys.argv[1:] if argv is None else argv))
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
    """The options of util-linux last(1) that `last` and `lastb` share."""
    command.add_argument("-n", "--limit", type=int, default=0,
                         help="list this many lines at most (also -NUMBER)")
    command.add_argument("-w", "--fullnames", action="store_true",
                         help="full user and host names")
    # -F and --time-format set the same thing: the last one given wins.
    command.add_argument("-F", "--fulltimes", action="store_const", dest="time_format",
                         const="full", default="short",
                         help="full login and logout times (--time-format full)")
    command.add_argument("--time-format", choices=tuple(TIME_FORMATS), default="short",
                         action=_TimeFormat)
    command.add_argument("-x", "--system", action="store_true",
                         help="shutdowns, run level changes and clock changes too (lastb "
                              "lists every record anyway)")
    command.add_argument("-R", "--nohostname", action="store_true",
                         help="no host column")
    command.add_argument("-a", "--hostlast", action="store_true",
                         help="the host in the last column")
    command.add_argument("-i", "--ip", action="store_true",
                         help="the address of the record in numbers, not the host name")
    command.add_argument("-d", "--dns", action="store_true",
                         help="the name the resolver gives the record's address")
    when = ("TIME: YYYY-MM-DD[ hh:mm[:ss]], hh:mm[:ss], now, today, yesterday, -5days, "
            "+2h, @EPOCH")
    command.add_argument("-s", "--since", metavar="TIME",
                         help=f"only records of TIME or later ({when})")
    command.add_argument("-t", "--until", metavar="TIME",
                         help="only records of TIME or earlier")
    command.add_argument("-p", "--present", metavar="TIME",
                         help="only the sessions that were on at TIME")
    output = command.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="one JSON document for scripts")
    output.add_argument("--json-lines", action="store_true",
                        help="one JSON object a session, a line each, for pipelines")


# Options of `last` and `lastb` whose value is the next argument.
_VALUED = {"-f", "--file", "-n", "--limit", "--time-format", "--source", "--utmpd-socket"}
# ... and those whose value may start with "-" ("-5days"): argparse takes such a
# value for an option unless it is joined to its name.
_TIMES = {"-s": "--since", "--since": "--since", "-t": "--until", "--until": "--until",
          "-p": "--present", "--present": "--present"}


def _last_arguments(argv: Sequence[str]) -> list[str]:
    """last(1)'s spellings argparse does not know: -NUMBER (-n NUMBER) and a time
    that starts with a minus (-s -5days), for `last` and `lastb` (lastlog's -s and -t
    are other options)."""
    if not argv or argv[0] not in ("last", "lastb"):
        return list(argv)
    out: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "--":
            return [*out, arg, *args]
        if arg in _TIMES:
            value = next(args, None)
            out.append(arg if value is None else f"{_TIMES[arg]}={value}")
        elif arg in _VALUED:
            out += [arg, *([value] if (value := next(args, None)) is not None else [])]
        elif len(arg) > 1 and arg[0] == "-" and arg[1:].isdigit():
            out += ["-n", arg[1:]]
        else:
            out.append(arg)
    return out


class _TimeFormat(argparse.Action):
    """--time-format, remembered apart from -F too: `wtmpdb last` prints its
    "begins" line in the format of --time-format only (full by default)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        namespace.time_format = values
        namespace.begins_format = values


def _last_options(command: argparse.ArgumentParser) -> None:
    """The option of `last` that `lastb` lacks: wtmpdb last's -S."""
    command.add_argument("-S", "--service", action="store_true",
                         help="the PAM service of each session (wtmpdb only)")


# --- times -------------------------------------------------------------------------


def _local(usec: int) -> datetime.datetime:
    import datetime  # only where a time is written as ISO 8601

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
    if source == "wtmpdb":
        return _last_wtmpdb(args)
    if args.service:
        raise PyutmpError(errno.EINVAL, "--service is for --source wtmpdb only")
    from pam_pyutmp import lastreader  # the C engine: only for these commands

    now = int(time.time())
    listing = _listing(args, now, lastb=False)
    _interruptible()
    out = _Output(args, source)
    begins: int | None
    if source == "files":
        path = args.file or DEFAULT_WTMP
        begins = lastreader.wtmp_begins(path)
        size = os.stat(path).st_size
        progress: _ProgressLine | None = None
        if args.progress or (sys.stderr.isatty() and size > PROGRESS_SIZE):
            progress = _ProgressLine(path, sys.stderr, sys.stderr.isatty())
        out.start(path, begins)
        try:
            listed = lastreader.list_file(path, out.fd, listing, now, progress)
        finally:
            if progress is not None:
                progress.finish()
    else:
        store = stores.wtmp_store("utmps", args.file, utmpd_socket=args.utmpd_socket)
        path = args.file or "wtmp"
        records = list(store.records())
        begins = records[0].tv_sec * USEC + records[0].tv_usec if records else None
        out.start(path, begins)
        listed = lastreader.list_records(records, out.fd, listing, now, path)
    out.end(args, path, begins, listed)
    return 0


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
    from pam_pyutmp import lastreader

    now = int(time.time())
    path = args.file or DEFAULT_BTMP
    begins = lastreader.wtmp_begins(path)
    listing = _listing(args, now, lastb=True)
    _interruptible()
    out = _Output(args, "files")
    out.start(path, begins)
    listed = lastreader.list_file(path, out.fd, listing, now)
    out.end(args, path, begins, listed)
    return 0


def _listing(args: argparse.Namespace, now: int, lastb: bool) -> Any:
    from pam_pyutmp import lastreader

    def when(text: str | None) -> int:
        try:
            return 0 if text is None else lastreader.parse_time(text, now)
        except ValueError as err:
            raise SystemExit(f"pyutmp: {err}") from None  # last's own words, exit 1

    return lastreader.Listing(
        lastb=lastb, extended=args.system, showhost=not args.nohostname,
        altlist=args.hostlast, usedns=args.dns, useip=args.ip,
        name_len=FULL_NAME_LEN if args.fullnames else NAME_LEN,
        domain_len=FULL_DOMAIN_LEN if args.fullnames else DOMAIN_LEN,
        time_format=args.time_format, output=_output_kind(args), limit=args.limit,
        since=when(args.since), until=when(args.until), present=when(args.present),
        names=args.names)


def _interruptible() -> None:
    """Ctrl-C ends the command at once, as it ends last(1): Python's own handler would
    wait for the compiled scan to return."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _output_kind(args: argparse.Namespace) -> str:
    return "json" if args.json else "json-lines" if args.json_lines else "text"


class _Output:
    """Standard output shared with the engine: the JSON document's head and tail
    around the sessions it streams, or last's closing "begins" line."""

    def __init__(self, args: argparse.Namespace, source: str) -> None:
        self.kind = _output_kind(args)
        self.source = source
        self.fd = sys.stdout.fileno()

    def start(self, path: str, begins: int | None) -> None:
        if self.kind == "json":
            import json

            head = json.dumps({"source": self.source, "file": path,
                               "begins": None if begins is None else iso(begins)},
                              indent=1, ensure_ascii=False)
            sys.stdout.write(head[:-2] + ',\n "sessions": [')
        sys.stdout.flush()  # the engine writes to the same descriptor next

    def end(self, args: argparse.Namespace, path: str, begins: int | None, listed: int) -> None:
        """After the ``listed`` sessions the engine wrote."""
        if self.kind == "json":
            sys.stdout.write("\n ]\n}\n" if listed else "]\n}\n")
        elif self.kind == "text":
            _begins_line(args, path, begins)


def _begins_line(args: argparse.Namespace, path: str, begins: int | None) -> None:
    """last's closing "wtmp begins <time>" line (none with --time-format notime)."""
    fmt = args.time_format
    if fmt != "notime":
        if begins is None:
            print(f"\n{os.path.basename(path)} has no entries")
        else:
            kind = TIME_FORMATS[fmt][2]
            print(f"\n{os.path.basename(path)} begins {_format_time(kind, begins // USEC)}")


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
    from pam_pyutmp import lastlog  # the C core, for this source only

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
    import json

    print(json.dumps(data, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    sys.exit(main())
