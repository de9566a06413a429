"""The PAM boundary: PAM items and options in, records written, PAM codes and
syslog lines out.  Nothing here raises to the caller.

``open_session``/``close_session`` take a :class:`Handle`, so the same code
serves ``pam_python.so`` (see :mod:`pam_pyutmp.pam_module`) and tests.
"""

from __future__ import annotations

# os's C half, the very same functions: os itself would bring _collections_abc
# into every start of Python that runs a session.
import errno
import posix
import pwd
import time
from _stat import S_ISCHR  # stat's C half, for the same reason

from pam_pyutmp import api, stack, utmpfile
from pam_pyutmp._typing import TYPE_CHECKING, Protocol
from pam_pyutmp.errors import InvalidFieldError, PyutmpError, UidAboveCapError
from pam_pyutmp.fields import line_id, tty_line
from pam_pyutmp.lastlog import LastlogEntry
from pam_pyutmp.options import Options, parse
from pam_pyutmp.records import Record
from pam_pyutmp.slots import NOTTY_ID_PREFIX
from pam_pyutmp.stores import WtmpStore, resolve_backend, utmp_store, wtmp_store
from pam_pyutmp.syslogger import (
    LOG_DEBUG,
    LOG_ERR,
    LOG_INFO,
    LOG_NOTICE,
    LOG_WARNING,
    LOGIN_FAILED,
    SESSION_CLOSED,
    SESSION_OPENED,
    escape,
    log,
)
from pam_pyutmp.syslogger import fields as log_fields
from pam_pyutmp.system import DEFAULT_BTMP, DEFAULT_LASTLOG2, DEFAULT_WTMPDB, USER_PROCESS
from pam_pyutmp.values import Value

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

# Linux-PAM's return codes and flags (<security/_pam_types.h>).
PAM_SUCCESS = 0
PAM_SYSTEM_ERR = 4
PAM_USER_UNKNOWN = 10
PAM_SESSION_ERR = 14
PAM_IGNORE = 25
PAM_SILENT = 0x8000


class Items(Value):
    """The PAM items a session is made of; None where unset."""

    _fields = ("service", "user", "tty", "rhost", "xdisplay")
    __slots__ = _fields

    def __init__(self, service: str | None, user: str | None, tty: str | None,
                 rhost: str | None, xdisplay: str | None) -> None:
        self.service = service
        self.user = user
        self.tty = tty
        self.rhost = rhost
        self.xdisplay = xdisplay


class Handle(Protocol):
    """What the session code needs of a PAM handle."""

    @property
    def key(self) -> int:
        """Identifies the PAM transaction (the raw handle's address)."""

    def items(self) -> Items:
        """The items, read from libpam at the first call on this handle (every log
        line names them)."""

    def info(self, text: str) -> None:
        """Show ``text`` to the user through the conversation function."""


# Sessions opened by this process, by PAM transaction, until they close.
_open_sessions: dict[int, api.UtmpEntry] = {}
# wtmpdb rows opened by this process, by PAM transaction: (database, row ID).
_open_rows: dict[int, tuple[str, int]] = {}
# How many instances of the module ran open_session in a PAM transaction whose
# session is open: more than one when its line is in the stack twice (a
# service's own include and a system-wide one, say).  Only the first writes.
_instances: dict[int, int] = {}
# How many instances are still to close, by transaction, once the first closed.
# The first closes the session: libpam replays the stack's open results at
# close, so only the instance whose open succeeded counts there.
_later_instances: dict[int, int] = {}


def open_session(handle: Handle, flags: int, args: Sequence[str]) -> int:
    return _guarded("open_session", _open, handle, flags, args)


def close_session(handle: Handle, flags: int, args: Sequence[str]) -> int:
    return _guarded("close_session", _close, handle, flags, args)


def auth_failed(handle: Handle, flags: int, args: Sequence[str]) -> int:
    """An "authfail" auth line, which the stack reaches when authentication failed:
    one btmp record.  PAM_IGNORE whatever happens: the verdict is the others'."""
    _guarded("auth_failed", _record_failure, handle, flags, args)
    return PAM_IGNORE


def transaction_ended(key: int) -> None:
    """Forget what the PAM transaction ``key`` opened and did not close.

    A host that outlives its transactions (pam_pyutmp.so keeps Python for the
    life of the process) reports each end: a later transaction may get the same
    handle address, and must not take it for the earlier one's session.
    """
    _open_sessions.pop(key, None)
    _open_rows.pop(key, None)
    _instances.pop(key, None)
    _later_instances.pop(key, None)


# This process's pid, asked once per call (a system call each time): the records
# and every log line name it.  One call runs in one process; a thread that forks
# leaves the others behind, and the child's next call asks again.
_pid = 0


def _log(priority: int, message: str) -> None:
    log(priority, message, _pid)


def _guarded(name: str, step: Callable[[Handle, int, Options], int], handle: Handle, flags: int,
             args: Sequence[str]) -> int:
    """Run a step; a bug becomes one log line and PAM_SYSTEM_ERR, never a crash."""
    global _pid
    _pid = posix.getpid()
    try:
        options = parse(tuple(args))
        for problem in options.problems:
            _log(LOG_WARNING, f"{name}: option ignored: {problem}")
        return step(handle, flags, options)
    except Exception as err:
        import traceback  # only on this path: it is slow to import

        where = traceback.extract_tb(err.__traceback__)[-1]
        _log(LOG_ERR, f"{name}: internal error {type(err).__name__}: {err} "
                      f"(at {where.filename.rpartition('/')[2]}:{where.lineno})")
        return PAM_SYSTEM_ERR


def terminal(tty: str | None) -> str | None:
    """PAM_TTY when it names a terminal or an X display, else None.

    sshd passes "ssh" before the pty exists and others pass a program name:
    such a value is no line of its own, so the session gets a tty-less slot.
    So does any device that is no terminal (/dev/null, ptmx, fd/0): its name
    in utmp would be a session on a line no one can log in on.
    """
    if not tty:
        return None
    if _is_display(tty):
        return tty
    name = tty.removeprefix("/dev/")
    return tty if _plain_device_name(name) and _is_terminal("/dev/" + name) else None


def _is_display(tty: str) -> bool:
    """An X display as display managers set PAM_TTY: ":0" or ":1.0".  Checked
    by hand: re would cost every start of Python on the login path its import."""
    number, dot, screen = tty[1:].partition(".")
    return tty.startswith(":") and _ascii_digits(number) and (not dot or _ascii_digits(screen))


def _ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


# The characters of a device name under /dev: no shell or escape character, no
# space, nothing that is not ASCII.
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.+-")


def _plain_device_name(name: str) -> bool:
    """A path relative to /dev that stays inside it: no empty, "." or ".."
    component ("../../dev/null", "pts//3")."""
    return all(part not in ("", ".", "..") and _NAME_CHARS.issuperset(part)
               for part in name.split("/"))


# Where the kernel names each character device's class ("tty" for terminals).
SYS_DEV_CHAR = "/sys/dev/char"
_PTY_SLAVE_MAJORS = range(136, 144)  # Unix98 ptys: /dev/pts/N
_TTY_MAJOR = 4  # ttyN, ttySN: the fallback without sysfs
# (5, 0) is /dev/tty, "my controlling terminal", whatever that is; (5, 2) is
# ptmx, the pty multiplexer: both are in the tty class, and neither is a line.
_NOT_LINES = ((5, 0), (5, 2))
_CONSOLE = (5, 1)


def _is_terminal(path: str) -> bool:
    """``path`` itself (lstat: no symlink such as /dev/stdin or /dev/fd/0 is
    followed) is a terminal's character device."""
    try:
        status = posix.lstat(path)
    except (OSError, ValueError):
        return False
    device = (posix.major(status.st_rdev), posix.minor(status.st_rdev))
    if not S_ISCHR(status.st_mode) or device in _NOT_LINES:
        return False
    if device[0] in _PTY_SLAVE_MAJORS:
        return True
    try:  # the class link: "../../../../class/tty" for ttyN, ttyS, ttyUSB, console ...
        return posix.readlink(f"{SYS_DEV_CHAR}/{device[0]}:{device[1]}/subsystem"
                              ).endswith("/tty")
    except OSError:
        pass
    try:
        posix.stat(SYS_DEV_CHAR)
    except OSError:  # no sysfs (a container, a chroot): the majors of the classic terminals
        return device[0] == _TTY_MAJOR or device == _CONSOLE
    return False  # a device the kernel does not know


def _context(handle: Handle, entry: api.UtmpEntry | None = None, **extra: object) -> str:
    return log_fields(**_context_values(handle, entry, **extra))


def _context_values(handle: Handle, entry: api.UtmpEntry | None = None,
                    **extra: object) -> dict[str, object]:
    it = handle.items()
    if entry is not None:
        extra = {"line": entry.record.line, "id": entry.record.id, **extra}
    return {"service": it.service, "user": it.user, "tty": it.tty,
            "host": it.rhost or it.xdisplay, "pid": _pid, **extra}


def _event(kind: str, priority: int, head: str, values: dict[str, object]) -> None:
    """One record of an event: its text line, and its values as fields of their own
    where the journal takes them."""
    log(priority, f"{head}: {log_fields(**values)}", _pid, kind, values)


def _open(handle: Handle, flags: int, opts: Options) -> int:
    it = handle.items()
    service = it.service or ""
    if service in opts.skip_if:
        if opts.debug:
            _log(LOG_DEBUG, f"open_session: skipped for this service: {_context(handle)}")
        return PAM_IGNORE
    instances = _instances.get(handle.key, 0)
    _instances[handle.key] = instances + 1
    if instances:
        # A second session of the same login would be a second pair in wtmp and
        # in `last`, and a second "Last login" line.
        _log(LOG_NOTICE, "open_session: this PAM transaction's session is open already (the "
                         "module runs twice in this PAM stack, or the program opened the "
                         "session twice); nothing written (`pyutmp doctor` names the lines): "
                         f"{_context(handle)}")
        return PAM_IGNORE
    _later_instances.pop(handle.key, None)  # of a session this transaction closed before
    opts = _leaving_others(handle, opts, "open_session")
    user = it.user
    if not user:
        _log(LOG_NOTICE, f"open_session: no user (PAM_USER unset): {_context(handle)}")
        return PAM_USER_UNKNOWN
    try:
        uid = pwd.getpwnam(user).pw_uid
    except (KeyError, ValueError):
        _log(LOG_NOTICE, f"open_session: unknown user: {_context(handle)}")
        return PAM_USER_UNKNOWN
    tty = terminal(it.tty)
    if it.tty and tty is None and opts.debug:
        _log(LOG_DEBUG, f"open_session: PAM_TTY is no terminal, using a tty-less slot: "
                        f"{_context(handle)}")
    host = it.rhost or it.xdisplay or ""

    status = PAM_SUCCESS
    entry: api.UtmpEntry | None = None
    if not (opts.noutmp and opts.nowtmp):
        entry, status = _write_login(handle, opts, user, tty, host, service)
    if not opts.nolastlog:
        line = entry.line if entry is not None else (tty_or_none(tty) or "")
        if not _write_lastlog(handle, flags, opts, user, uid, line, host, service):
            status = PAM_SESSION_ERR
    if _databases_wanted(opts) and not _write_databases(handle, flags, opts, user, entry, host,
                                                         service):
        status = PAM_SESSION_ERR
    written = handle.key in _open_rows
    if entry is not None and (entry.utmp_path or entry.wtmp_path):
        _open_sessions[handle.key] = entry
        written = True
    if written or status == PAM_SUCCESS:
        _event(SESSION_OPENED, LOG_INFO, "session opened", _context_values(
            handle, entry, uid=uid, backend=resolve_backend(opts.backend, opts.utmpd_socket),
            outcome="ok" if status == PAM_SUCCESS else "partial"))
    return status


def _record_failure(handle: Handle, flags: int, opts: Options) -> int:
    it = handle.items()
    if not opts.authfail:
        return PAM_IGNORE
    if (it.service or "") in opts.skip_if:
        return PAM_IGNORE
    user = _attempted_name(it.user, opts)
    # The log names the user as btmp does: a name that is no account may be a
    # password typed one prompt too early.
    fields = _context_values(handle, user=user)
    try:
        record = api.put_btmp(user, tty_or_none(terminal(it.tty)) or "",
                              it.rhost or it.xdisplay or "", service=it.service or "",
                              pid=_pid, btmp_path=opts.btmp_path)
    except PyutmpError as err:
        _log(LOG_ERR, f"auth_failed: {err}: {log_fields(**fields)}")
        return PAM_IGNORE
    _event(LOGIN_FAILED, LOG_NOTICE, "failed login recorded", {**fields, "line": record.line})
    return PAM_IGNORE


def _attempted_name(name: str | None, opts: Options) -> str:
    """The user name a failed attempt is stored under: the account's, else
    "(unknown)" (the name typed may be a password typed one field too early),
    unless typed_names keeps it."""
    if not name:
        return api.UNKNOWN_USER
    if opts.typed_names:
        return name
    try:
        pwd.getpwnam(name)
    except (KeyError, ValueError):
        return api.UNKNOWN_USER
    return name


def _leaving_others(handle: Handle, opts: Options, name: str) -> Options:
    """The options less what other modules of the service's session stack record
    (pam_lastlog, pam_wtmpdb, pam_lastlog2): each event is written once."""
    if opts.ignore_others:
        return opts
    others = stack.others(handle.items().service or "")
    left = opts.leaving(others)
    if left is not opts and opts.debug:
        _log(LOG_DEBUG, f"{name}: left to other modules of the stack: {others}: "
                        f"{_context(handle)}")
    return left


def tty_or_none(tty: str | None) -> str | None:
    try:
        line = tty_line(tty)
    except InvalidFieldError:
        return None
    return line.decode() if line else None


def _write_login(handle: Handle, opts: Options, user: str, tty: str | None, host: str,
                 service: str) -> tuple[api.UtmpEntry | None, int]:
    """utmp and wtmp, each on its own: one failing does not cost the other."""
    status = PAM_SUCCESS
    backend = resolve_backend(opts.backend, opts.utmpd_socket)  # once: it asks the disk

    def login(utmp: bool) -> api.UtmpEntry:
        return api.put_utmp(user, tty or "", host, service=service, pid=_pid, utmp=utmp,
                            wtmp=False, backend=backend, utmp_path=opts.utmp_path,
                            utmpd_socket=opts.utmpd_socket, utmps_timeout=opts.utmps_timeout)

    try:
        entry = login(utmp=not opts.noutmp)
    except InvalidFieldError as err:
        _log(LOG_ERR, f"open_session: {err.strerror}; nothing written: {_context(handle)}")
        return None, PAM_SESSION_ERR
    except PyutmpError as err:
        _log(LOG_ERR, f"open_session: {err}: {_context(handle)}")
        status = PAM_SESSION_ERR
        entry = login(utmp=False)  # the record alone, for wtmp
    for note in entry.notes:
        _log(LOG_NOTICE, f"open_session: {note}: {_context(handle)}")
    if not opts.nowtmp:
        try:
            wtmp_log = _wtmp(opts, backend)
            wtmp_log.append(entry.record)
            entry = entry._replace(wtmp=wtmp_log)
        except PyutmpError as err:
            _log(LOG_ERR, f"open_session: {err}: {_context(handle, entry)}")
            status = PAM_SESSION_ERR
    return entry, status


def _write_lastlog(handle: Handle, flags: int, opts: Options, user: str, uid: int, line: str,
                   host: str, service: str) -> bool:
    uid_max = api.FROM_LOGIN_DEFS if opts.lastlog_uid_max is None else opts.lastlog_uid_max
    try:
        previous = api.put_lastlog_entry(service, user, line, host, uid=uid, uid_max=uid_max,
                                         lastlog_path=opts.lastlog_path)
    except UidAboveCapError as err:
        if opts.debug:
            _log(LOG_DEBUG, f"open_session: {err.strerror}: {_context(handle)}")
        return True
    except PyutmpError as err:
        _log(LOG_ERR, f"open_session: {err}: {_context(handle)}")
        return False
    if not (opts.silent or opts.nolastlogmsg or flags & PAM_SILENT):
        message = last_login_message(previous, opts)
        if message:
            handle.info(message)
    _show_failed(handle, flags, opts, user, previous)
    return True


def _show_failed(handle: Handle, flags: int, opts: Options, user: str,
                 previous: LastlogEntry | None) -> None:
    """With showfailed, pam_lastlog's lines on the failed attempts (btmp) since the
    user's previous login: the last one, and how many."""
    if not opts.showfailed or opts.silent or flags & PAM_SILENT:
        return
    path = opts.btmp_path or DEFAULT_BTMP
    try:
        count, latest = utmpfile.failed_since(path, user, previous.time if previous else 0)
    except PyutmpError as err:
        if err.errno != errno.ENOENT:  # no btmp: no failed attempt was recorded
            _log(LOG_WARNING, f"open_session: cannot count the failed logins: {err}: "
                              f"{_context(handle)}")
        return
    if latest is None:
        return
    handle.info(_login_text("Last failed login:", latest.tv_sec, latest.host, latest.line, opts))
    handle.info(f"There was {count} failed login attempt since the last successful login."
                if count == 1 else
                f"There were {count} failed login attempts since the last successful login.")


def last_login_message(previous: LastlogEntry | None, opts: Options) -> str:
    """pam_lastlog's "Last login: <date> from <host> on <line>"."""
    if previous is None:
        return "Welcome to your new account!" if opts.never else ""
    text = _login_text("Last login:", previous.time, previous.host, previous.line, opts)
    return "" if text == "Last login:" else text


def _login_text(head: str, when: int, host: str, line: str, opts: Options) -> str:
    """pam_lastlog's "<head> <date> from <host> on <line>", less what nodate,
    nohost and noterm leave out."""
    text = head
    if not opts.nodate:
        text += time.strftime(" %a %b %e %H:%M:%S %Z %Y", time.localtime(when))
    if not opts.nohost and host:
        text += f" from {escape(host)}"
    if not opts.noterm and line:
        text += f" on {escape(line)}"
    return text


def _close(handle: Handle, flags: int, opts: Options) -> int:
    if (handle.items().service or "") in opts.skip_if:
        return PAM_IGNORE
    later = _later_instances.pop(handle.key, 0)
    if later:
        if later > 1:
            _later_instances[handle.key] = later - 1
        return PAM_IGNORE
    instances = _instances.pop(handle.key, 0)
    if instances > 1:
        _later_instances[handle.key] = instances - 1
    opts = _leaving_others(handle, opts, "close_session")
    entry = _open_sessions.pop(handle.key, None)
    if entry is None:
        entry = _find_session(handle, opts)
    # None: wtmpdb is off or holds no open row of this session.
    db_status = _close_databases(handle, opts, entry)
    if entry is None:
        if db_status is not None:
            if db_status == PAM_SUCCESS:
                _event(SESSION_CLOSED, LOG_INFO, "session closed", _context_values(handle))
            return db_status
        if opts.debug:
            _log(LOG_DEBUG, f"close_session: no open session to close: {_context(handle)}")
        return PAM_IGNORE
    try:
        closed = api.unput_utmp(entry)
    except PyutmpError as err:
        _log(LOG_ERR, f"close_session: {err}: {_context(handle, entry)}")
        return PAM_SESSION_ERR
    if not closed:
        _log(LOG_NOTICE, "close_session: the slot was closed already or a newer login holds "
                         f"it; nothing written: {_context(handle, entry)}")
        return db_status or PAM_SUCCESS
    _event(SESSION_CLOSED, LOG_INFO, "session closed", _context_values(handle, entry))
    return db_status or PAM_SUCCESS


def _database_tty(handle: Handle) -> str:
    return tty_or_none(handle.items().tty) or ""


def _login_usec(entry: api.UtmpEntry | None) -> int | None:
    return None if entry is None else entry.record.tv_sec * 1_000_000 + entry.record.tv_usec


def _databases_wanted(opts: Options) -> bool:
    return bool(opts.wtmpdb or opts.wtmpdb_path or opts.lastlog2 or opts.lastlog2_path)


def _write_databases(handle: Handle, flags: int, opts: Options, user: str,
                     entry: api.UtmpEntry | None, host: str, service: str) -> bool:
    """wtmpdb and lastlog2, each on its own as the files are: one failing costs
    nothing else."""
    from pam_pyutmp import databases  # sqlite3 only for sessions that use a database

    ok = True
    # The tty as upstream's pam_wtmpdb and pam_lastlog2 store it: PAM_TTY without
    # /dev/ ("ssh" for sshd, "" for none), not the utmp slot's line.  The row's
    # Login is the utmp slot's time, by which a close in another process finds it.
    line = _database_tty(handle)
    login_usec = _login_usec(entry)
    if opts.wtmpdb or opts.wtmpdb_path:
        path = opts.wtmpdb_path or DEFAULT_WTMPDB
        try:
            row = databases.put_wtmpdb(user, line, host, service=service, path=path,
                                       login_usec=login_usec)
        except PyutmpError as err:
            _log(LOG_ERR, f"open_session: {err}: {_context(handle, entry)}")
            ok = False
        else:
            _open_rows[handle.key] = (path, row)
    if opts.lastlog2 or opts.lastlog2_path:
        path = opts.lastlog2_path or DEFAULT_LASTLOG2
        try:
            previous = databases.put_lastlog2_entry(service, user, line, host, path=path)
        except PyutmpError as err:
            _log(LOG_ERR, f"open_session: {err}: {_context(handle, entry)}")
            ok = False
        else:
            # Without the lastlog file, the messages take the previous login from lastlog2.
            if opts.nolastlog:
                before = (None if previous is None
                          else LastlogEntry(previous.time, previous.tty, previous.host))
                if not (opts.silent or opts.nolastlogmsg or flags & PAM_SILENT):
                    message = last_login_message(before, opts)
                    if message:
                        handle.info(message)
                _show_failed(handle, flags, opts, user, before)
    return ok


def _close_databases(handle: Handle, opts: Options, entry: api.UtmpEntry | None
                     ) -> int | None:
    """Set Logout on the session's wtmpdb row: the row this process opened, else,
    as upstream finds it, the newest open row of the user on the same line."""
    opened = _open_rows.pop(handle.key, None)
    if not (opts.wtmpdb or opts.wtmpdb_path):
        return None
    from pam_pyutmp import databases  # sqlite3 only for sessions that use a database

    path = opts.wtmpdb_path or DEFAULT_WTMPDB
    it = handle.items()
    user = it.user
    try:
        if opened is not None and opened[0] == path:
            if not databases.unput_wtmpdb(opened[1], path=path):
                _log(LOG_NOTICE, f"close_session: wtmpdb row {opened[1]} has its logout "
                                 f"already or is gone: {_context(handle, entry)}")
            return PAM_SUCCESS
        if not user:
            return None
        found = databases.unput_wtmpdb_open(user, _database_tty(handle),
                                            service=it.service or "", path=path,
                                            login_usec=_login_usec(entry))
    except PyutmpError as err:
        _log(LOG_ERR, f"close_session: {err}: {_context(handle, entry)}")
        return PAM_SESSION_ERR
    return None if found is None else PAM_SUCCESS


def _wtmp(opts: Options, backend: str | None = None) -> WtmpStore:
    return wtmp_store(backend or opts.backend, opts.wtmp_path, opts.wtmpd_socket, opts.utmpd_socket,
                      opts.utmps_timeout)


def _find_session(handle: Handle, opts: Options) -> api.UtmpEntry | None:
    """The session to close when this process did not open it (the host
    closes in another process, or open failed): found again from the items."""
    it = handle.items()
    user = it.user
    if not user:
        return None
    line = tty_or_none(terminal(it.tty))
    wtmp_log = None if opts.nowtmp else _wtmp(opts)
    if opts.noutmp:
        if line is None or wtmp_log is None:
            return None
        slot_id = line_id(line.encode()).decode("utf-8", "surrogateescape")
        record = Record(USER_PROCESS, _pid, line, slot_id, user, "", 0, 0, 0)
        return api.UtmpEntry(record, None, wtmp_log)
    label = f"{it.service or api.NOTTY_LABEL}/"
    try:
        utmp_db = utmp_store(opts.backend, opts.utmp_path, opts.utmpd_socket,
                             opts.utmps_timeout)
        records = utmp_db.read()
    except PyutmpError as err:
        _log(LOG_ERR, f"close_session: cannot look for the session: {err}: {_context(handle)}")
        return None
    candidates = [
        slot for slot in records
        if slot.type == USER_PROCESS and slot.user == user
        and (slot.line == line or (slot.id.startswith(NOTTY_ID_PREFIX)
                                   and slot.line.startswith(label)))
    ]
    for test in (lambda s: s.pid == _pid, lambda s: s.session == posix.getsid(0),
                 lambda s: s.line == line, lambda s: len(candidates) == 1):
        chosen = [slot for slot in candidates if test(slot)]
        if len(chosen) == 1:
            return api.UtmpEntry(chosen[0], utmp_db, wtmp_log)
    return None
