"""The `pyutmp` command: who, last, lastlog and doctor over every store.

    pyutmp who [--source auto|files|utmps]
    pyutmp last [USER|TTY...] [--source auto|files|utmps|wtmpdb]
    pyutmp lastlog [-u USER] [--source files|lastlog2]
    pyutmp doctor [--root DIR]

Human output as the stock tools print it (who, util-linux last, shadow's
lastlog), or ``--json`` for scripts.  Times come from 64-bit integers, so
rows of the databases print right past January 2038.
"""

from __future__ import annotations

import argparse
import datetime
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
    log.add_argument("-f", "--file", help=f"lastlog file or database (default {DEFAULT_LASTLOG}, "
                                          "for lastlog2 /var/lib/lastlog/lastlog2.db)")
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
    command.add_argument("-F", "--fulltimes", action="store_true",
                         help="full login and logout times (--time-format full)")
    command.add_argument("--time-format", choices=tuple(TIME_FORMATS), default="short")
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
    that starts with a minus (-s -5days)."""
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


# --- times -------------------------------------------------------------------------


def _local(usec: int) -> datetime.datetime:
    # timedelta, not fromtimestamp(float): exact, and any 64-bit time (2038 and on).
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (epoch + datetime.timedelta(microseconds=usec)).astimezone()


def iso(usec: int) -> str:
    """Local time with its UTC offset, to the second: "2040-01-01T00:00:00+00:00"."""
    return _local(usec).replace(microsecond=0).isoformat()


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
    if source == "wtmpdb":
        return _last_wtmpdb(args)
    from pam_pyutmp import lastreader  # the C engine: only for these commands

    now = int(time.time())
    listing = _listing(args, now, lastb=False)
    _interruptible()
    out = _Output(args, source)
    begins: int | None
    if source == "files":
        path = args.file or DEFAULT_WTMP
        begins = history.wtmp_begins(path)
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


def _lastb(args: argparse.Namespace) -> int:
    """util-linux lastb's listing: every record of btmp, newest first."""
    from pam_pyutmp import lastreader

    now = int(time.time())
    path = args.file or DEFAULT_BTMP
    begins = history.wtmp_begins(path)
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
        time_format=_time_format(args), output=_output_kind(args), limit=args.limit,
        since=when(args.since), until=when(args.until), present=when(args.present),
        names=args.names)


def _interruptible() -> None:
    """Ctrl-C ends the command at once, as it ends last(1): Python's own handler would
    wait for the compiled scan to return."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _time_format(args: argparse.Namespace) -> str:
    return "full" if args.fulltimes else str(args.time_format)


def _output_kind(args: argparse.Namespace) -> str:
    return "json" if args.json else "json-lines" if args.json_lines else "text"


class _Output:
    """Standard output shared with the engine: the JSON document's head and tail
    around the sessions it streams, or last's closing "begins" line."""

    def __init__(self, args: argparse.Namespace, source: str) -> None:
        self.kind = _output_kind(args)
        self.source = source
        self.fd = sys.stdout.fileno()
        self.items = 0

    def start(self, path: str, begins: int | None) -> None:
        if self.kind == "json":
            head = json.dumps({"source": self.source, "file": path,
                               "begins": None if begins is None else iso(begins)},
                              indent=1, ensure_ascii=False)
            sys.stdout.write(head[:-2] + ',\n "sessions": [')
        sys.stdout.flush()  # the engine writes to the same descriptor next

    def item(self, data: dict[str, Any]) -> None:
        """One session written from Python (the wtmpdb source)."""
        if self.kind == "json-lines":
            sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
        else:
            text = json.dumps(data, indent=1, ensure_ascii=False).replace("\n", "\n  ")
            sys.stdout.write((",\n  " if self.items else "\n  ") + text)
        self.items += 1

    def end(self, args: argparse.Namespace, path: str, begins: int | None, listed: int) -> None:
        """After ``listed`` sessions, from the engine or from :meth:`item`."""
        if self.kind == "json":
            sys.stdout.write("\n ]\n}\n" if listed else "]\n}\n")
        elif self.kind == "text":
            _begins_line(args, path, begins)


# Options the wtmpdb source has no use for: its rows are sessions already paired.
_ENGINE_ONLY = ("system", "nohostname", "hostlast", "ip", "dns", "since", "until", "present")


def _last_wtmpdb(args: argparse.Namespace) -> int:
    """wtmpdb's rows as `wtmpdb last` pairs them, in last(1)'s lines or JSON."""
    from pam_pyutmp import databases  # sqlite3 only for this source

    unused = [name for name in _ENGINE_ONLY if getattr(args, name) not in (None, False)]
    if unused:
        raise PyutmpError(2, "--source wtmpdb lists with -n, -w, -F, --time-format and "
                             "USER|TTY only, not --" + unused[0].replace("_", "-"))
    path = args.file or DEFAULT_WTMPDB
    sessions: Iterable[Session] = history.pair_wtmpdb(databases.iter_wtmpdb(path))
    begins: int | None = databases.wtmpdb_begins(path)
    shown = _limited((s for s in sessions if not args.names or history.matches(s, args.names)),
                     args.limit)
    out = _Output(args, "wtmpdb")
    out.start(path, begins)
    fmt = _time_format(args)
    name_len, domain_len = ((FULL_NAME_LEN, FULL_DOMAIN_LEN) if args.fullnames
                            else (NAME_LEN, DOMAIN_LEN))
    for session in shown:
        if out.kind == "text":
            print(_starred(last_line(session, fmt, name_len, domain_len)))
        else:
            out.item(_session_json(session))
    out.end(args, path, begins, out.items)
    return 0


def _begins_line(args: argparse.Namespace, path: str, begins: int | None) -> None:
    """last's closing "wtmp begins <time>" line (none with --time-format notime)."""
    fmt = _time_format(args)
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
    rows: list[dict[str, Any]] = []
    if args.source == "lastlog2":
        from pam_pyutmp import databases  # sqlite3 only for this source

        path = args.file or DEFAULT_LASTLOG2
        if args.user:
            entry = databases.last_login2(_user_name(args.user), path=path)
            found: Iterable[databases.Lastlog2Entry] = [] if entry is None else [entry]
        else:
            found = databases.iter_lastlog2(path)
        rows = [{"user": e.user, "line": e.tty, "host": e.host, "service": e.service,
                 "time_sec": e.time} for e in found]
    else:
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


def _user_name(user: str) -> str:
    if user.isdigit():
        return pwd.getpwuid(int(user)).pw_name
    return user


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
