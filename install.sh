#!/usr/bin/env bash
# Installs pam_pyutmp and puts it to work for PAM services.
#
#   sudo ./install.sh                      install what is missing or changed
#   sudo ./install.sh --enable su[,svc]    install, then add "session include pyutmp"
#                                          to /etc/pam.d/su (and /etc/pam.d/svc)
#   sudo ./install.sh --enable system      install, then put the module into every
#                                          interactive session and every failed login
#                                          the distribution's way: the pam-auth-update
#                                          profiles pyutmp (common-session) and
#                                          pyutmp-authfail (common-auth), enabled; and
#                                          the include line into runuser-l, whose stack
#                                          has no common-session
#   sudo ./install.sh --enable failed-logins   the second profile alone
#   sudo ./install.sh --disable su[,svc]   remove that line from those services
#   sudo ./install.sh --disable system     disable both profiles (failed-logins: the
#                                          second), and runuser-l's include line
#   sudo ./install.sh --uninstall          disable every service and the profile, remove
#                                          what was installed
#   sudo ./install.sh --package-only       only the system packages and the Python package
#                                          (what the test suite needs; no file in /etc)
#   ./install.sh --dry-run [ACTION]        print what would be done, change nothing
#   ./install.sh --help                    this text
#
# Installed: the package, for /usr/bin/python3 (the interpreter PAM hosts
# embed), by pip into /usr/local, never over a file dpkg owns (--no-deps keeps
# pip from replacing a Debian-packaged library); the PAM module
# /usr/local/lib/security/pam_pyutmp.so, built here for that interpreter and
# that package (csrc/build_loader.py), which starts Python once per process with
# a fixed, root-owned sys.path; the include file /etc/pam.d/pyutmp; the man
# pages pam_pyutmp(8) and pyutmp(1).  A file that is already identical is left alone.
# pam_python.so is never used: it finds its Python through the caller's PATH,
# so a user running su could make it run their own code as root.  An include
# file or module file of an older install that used it is replaced or removed.
# The first edit of a service file keeps a copy of the original in
# /var/backups/pam_pyutmp/.
set -euo pipefail

PYTHON=/usr/bin/python3          # what PAM hosts embed
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PAMD=/etc/pam.d
INCLUDE=pyutmp                   # /etc/pam.d/pyutmp
INCLUDE_LINE="session include $INCLUDE"
# Beside the rest of the local installation, named by absolute path in the include
# file: /lib/<multiarch>/security, where libpam looks for bare names, is dpkg's.
MODULE_DIR=/usr/local/lib/security
MODULE_FILE=$MODULE_DIR/pam_pyutmp.py  # pam_python.so's module file, of older installs
MODULE_SO=$MODULE_DIR/pam_pyutmp.so
MAN_FILE=/usr/local/share/man/man8/pam_pyutmp.8
CLI_MAN_FILE=/usr/local/share/man/man1/pyutmp.1
BACKUP_DIR=/var/backups/pam_pyutmp
DIST=pam_pyutmp

DRY_RUN=0
ACTION=install
SERVICES=()
SYSTEM=0       # --enable/--disable system: both pam-auth-update profiles
FAILED=0       # --enable/--disable failed-logins: the authfail profile alone
ARGS=("$@")
WORK=""        # temp dir of this run, removed at exit
TMP_FILE=""    # a half-written file next to its destination, removed on failure

say() { printf 'pam_pyutmp: %s\n' "$*"; }
warn() { printf 'pam_pyutmp: warning: %s\n' "$*" >&2; }
die() { printf 'pam_pyutmp: error: %s\n' "$*" >&2; exit 1; }
# would WHAT: in a dry run, say "would WHAT" and succeed (the caller then skips the change).
would() { [ "$DRY_RUN" = 1 ] || return 1; say "would $*"; }

# The comment at the top, up to "set -euo".
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

cleanup() {
    if [ -n "$TMP_FILE" ]; then rm -f -- "$TMP_FILE"; fi
    if [ -n "$WORK" ]; then rm -rf -- "$WORK"; fi
}
trap cleanup EXIT

set_action() {
    if [ "$ACTION" != install ] && [ "$ACTION" != "$1" ]; then
        die "choose one of --enable, --disable, --uninstall and --package-only"
    fi
    ACTION=$1
}

add_services() {
    local list=$1 svc parts=()
    IFS=, read -r -a parts <<<"$list"
    for svc in "${parts[@]}"; do
        [ -n "$svc" ] || continue
        if [ "$svc" = system ]; then SYSTEM=1; continue; fi
        if [ "$svc" = failed-logins ]; then FAILED=1; continue; fi
        [[ $svc =~ ^[A-Za-z0-9_][A-Za-z0-9_.+-]*$ ]] || die "not a PAM service name: '$svc'"
        [ "$svc" != "$INCLUDE" ] || die "'$INCLUDE' is the include file itself, not a service"
        [[ " ${SERVICES[*]} " == *" $svc "* ]] || SERVICES+=("$svc")
    done
    [ ${#SERVICES[@]} -gt 0 ] || [ "$SYSTEM" = 1 ] || [ "$FAILED" = 1 ] \
        || die "no service named in '$list' (e.g. --$ACTION su, or --$ACTION system)"
}

while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) DRY_RUN=1 ;;
        --enable|--disable)
            [ $# -ge 2 ] || die "$1 needs a comma-separated list of services (e.g. $1 su)"
            set_action "${1#--}"
            add_services "$2"
            shift ;;
        --enable=*|--disable=*)
            opt=${1%%=*}
            set_action "${opt#--}"
            add_services "${1#*=}" ;;
        --loader|--loader=*)
            die "--loader is gone: the module is always loaded by pam_pyutmp.so. pam_python.so" \
                "finds its Python through the caller's PATH, so a user running su could make" \
                "it run their own code as root" ;;
        --uninstall) set_action uninstall ;;
        --package-only) set_action package ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown option: $1 (see $0 --help)" ;;
    esac
    shift
done

[ "$(id -u)" = 0 ] || [ "$DRY_RUN" = 1 ] || die "run as root (sudo $0 ${ARGS[*]})"
if [ "$DRY_RUN" = 1 ]; then say "dry run: nothing is changed"; fi

# --- system packages ----------------------------------------------------------

install_system_packages() {
    local wanted=() missing=() pkg
    if command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
        # libsqlite3-dev: the headers of the SQLite that python3 links, for the
        # wtmpdb and lastlog2 readers of `pyutmp`.
        wanted=(python3 python3-pip python3-cffi python3-dev python3-setuptools python3-wheel
                gcc libc6-dev libpam0g-dev libsqlite3-dev)
        for pkg in "${wanted[@]}"; do
            dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' \
                || missing+=("$pkg")
        done
        if [ ${#missing[@]} -eq 0 ]; then
            say "system packages: all present (${wanted[*]})"
        elif ! would "install with apt-get: ${missing[*]}"; then
            say "installing with apt-get: ${missing[*]}"
            apt-get update -qq || die "apt-get update failed"
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" \
                || die "apt-get install ${missing[*]} failed"
        fi
    elif command -v apk >/dev/null 2>&1; then
        # setuptools and wheel: the build runs without isolation, with these.
        wanted=(python3 py3-pip py3-cffi py3-setuptools py3-wheel python3-dev gcc musl-dev
                linux-pam-dev sqlite-dev)
        for pkg in "${wanted[@]}"; do
            apk info -e "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
        done
        if [ ${#missing[@]} -eq 0 ]; then
            say "system packages: all present (${wanted[*]})"
        elif ! would "install with apk: ${missing[*]}"; then
            say "installing with apk: ${missing[*]}"
            apk add --no-cache "${missing[@]}" || die "apk add ${missing[*]} failed"
        fi
    else
        die "neither apt-get nor apk found: install python3 with its headers, pip, cffi," \
            "setuptools, wheel, a C compiler and the PAM and SQLite headers by hand"
    fi
}

# owned_by_system PATH: succeeds when the system's package manager owns PATH.
owned_by_system() {
    if command -v dpkg >/dev/null 2>&1 && dpkg -S "$1" >/dev/null 2>&1; then return 0; fi
    if command -v apk >/dev/null 2>&1 && apk info -W "$1" >/dev/null 2>&1; then return 0; fi
    return 1
}

# --- the Python package ---------------------------------------------------------

# Prints "VERSION PACKAGE-DIR" of the installed distribution (exit 2: none).  With
# a wheel: exit 0 when the installed files are exactly the wheel's, else 1 with
# the first difference on a second line.
INSTALLED_CHECK='
import base64, csv, hashlib, io, sys, zipfile
from importlib import metadata

try:
    dist = metadata.distribution(sys.argv[1])
except metadata.PackageNotFoundError:
    sys.exit(2)
print(dist.version, dist.locate_file(sys.argv[1]))
if len(sys.argv) < 3:
    sys.exit(0)

def digest(data):
    raw = base64.urlsafe_b64encode(hashlib.sha256(data).digest())
    return "sha256=" + raw.rstrip(b"=").decode()

with zipfile.ZipFile(sys.argv[2]) as wheel:
    record = next(n for n in wheel.namelist() if n.endswith(".dist-info/RECORD"))
    rows = list(csv.reader(io.TextIOWrapper(wheel.open(record), "utf-8")))
wanted = {row[0]: row[1] for row in rows if len(row) > 1 and row[1]}
for name, value in sorted(wanted.items()):
    try:
        data = dist.locate_file(name).read_bytes()
    except OSError:
        sys.exit(print(name, "is missing") or 1)
    if digest(data) != value:
        sys.exit(print(name, "differs") or 1)
for path in dist.files or ():
    name = str(path)
    if name.startswith(sys.argv[1] + "/") and "__pycache__" not in name and name not in wanted:
        sys.exit(print(name, "is not in the new build") or 1)
'

installed_package() { (cd / && "$PYTHON" -I -c "$INSTALLED_CHECK" "$DIST" "$@"); }

build_wheel() {
    local src=$WORK/src
    mkdir "$src" "$WORK/wheel"
    # A private copy: the checkout gets no root-owned build/ or *.egg-info.
    cp -R "$SRC/pyproject.toml" "$SRC/setup.py" "$SRC/MANIFEST.in" "$SRC/README.md" \
        "$SRC/csrc" "$SRC/pam_pyutmp" "$src/"
    find "$src" \( -name __pycache__ -o -name '*.so' -o -name '_core.c' -o -name '_dbread.c' \) \
        -prune -exec rm -rf {} +
    # The prefix map keeps the temp dir's name out of the debug info: the same
    # source builds the same bytes, so an unchanged package is not reinstalled.
    if ! (cd "$src" && CFLAGS="${CFLAGS:-} -ffile-prefix-map=$src=pam_pyutmp" \
            "$PYTHON" -m pip wheel --quiet --no-deps --no-build-isolation --no-cache-dir \
            --wheel-dir "$WORK/wheel" .) >"$WORK/build.log" 2>&1; then
        cat "$WORK/build.log" >&2
        die "building the package failed (pip's output above)"
    fi
}

install_package() {
    local state status=2 wheel reason
    if [ ! -x "$PYTHON" ]; then
        if would "build the package and install it with pip for $PYTHON into /usr/local"; then
            return 0
        fi
        die "$PYTHON not found"
    fi
    status=0
    state=$(installed_package) || status=$?
    if [ "$status" = 0 ]; then
        local where=${state#* }
        if owned_by_system "$where"; then
            die "$where belongs to a system package: remove that package first (install.sh" \
                "does not install over it)"
        fi
    fi
    if [ "$DRY_RUN" = 1 ]; then
        if [ "$status" = 0 ]; then
            would "build the package and reinstall it with pip for $PYTHON if it differs from" \
                  "the installed $DIST ${state%% *} in ${state#* }"
        else
            would "build the package and install it with pip for $PYTHON into /usr/local"
        fi
        return 0
    fi
    build_wheel
    wheel=$(find "$WORK/wheel" -name '*.whl' -print -quit)
    [ -n "$wheel" ] || die "the build produced no wheel"
    status=0
    reason=$(installed_package "$wheel") || status=$?
    if [ "$status" = 0 ]; then
        say "package up to date: $DIST ${reason%% *} in ${reason#* }"
        return 0
    fi
    if [ "$status" = 1 ]; then
        say "reinstalling the package for $PYTHON (${reason#*$'\n'})"
    else
        say "installing the package for $PYTHON"
    fi
    "$PYTHON" -m pip install --quiet --no-deps --force-reinstall --break-system-packages \
        --root-user-action=ignore --no-cache-dir "$wheel" \
        || die "pip install failed"
    state=$(installed_package) || die "pip installed $DIST, but $PYTHON does not find it"
    if owned_by_system "${state#* }"; then
        die "pip installed over a system package's files: ${state#* }"
    fi
    say "installed $DIST ${state%% *} in ${state#* }"
}

check_import() {
    local err
    if err=$(cd / && "$PYTHON" -I -c 'import pam_pyutmp.pam' 2>&1); then
        say "check: $PYTHON -I imports pam_pyutmp.pam"
    elif [ "$DRY_RUN" = 1 ]; then
        say "check: $PYTHON does not import pam_pyutmp.pam yet"
    else
        printf '%s\n' "$err" >&2
        die "$PYTHON -I -c 'import pam_pyutmp.pam' fails (above): the module could not load"
    fi
}

# --- the PAM module pam_pyutmp.so -------------------------------------------------

# Builds it into $WORK for $PYTHON and the package as installed (its sys.path is
# fixed then), and installs it when it differs from the installed one.
install_native_module() {
    if [ "$DRY_RUN" = 1 ]; then
        if [ -f "$MODULE_SO" ]; then
            would "build $MODULE_SO for $PYTHON and replace it if it differs"
        else
            would "build $MODULE_SO for $PYTHON and install it"
        fi
        return 0
    fi
    if ! "$PYTHON" "$SRC/csrc/build_loader.py" --python "$PYTHON" "$WORK/pam_pyutmp.so" \
            >"$WORK/loader.log" 2>&1; then
        cat "$WORK/loader.log" >&2
        die "building pam_pyutmp.so failed (above)"
    fi
    put_file "$WORK/pam_pyutmp.so" "$MODULE_SO"
}

# --- the module line: options that fit this machine --------------------------------

# The options the shipped module line gets here: where the distribution's readers are
# wtmpdb and lastlog2 (their PAM modules are installed: Debian 13), the module writes
# those databases too, for the services whose stack lacks those modules (a service
# with them in its stack is left to them: the module reads the stack at each login).
machine_options() {
    local dir opts=""
    for dir in /lib/security /lib64/security /usr/lib/security /usr/lib64/security \
               /lib/*/security /usr/lib/*/security; do
        [ -f "$dir/pam_wtmpdb.so" ] && [[ " $opts " != *" wtmpdb "* ]] && opts+=" wtmpdb"
        [ -f "$dir/pam_lastlog2.so" ] && [[ " $opts " != *" lastlog2 "* ]] && opts+=" lastlog2"
    done
    printf '%s\n' "$opts"
}

# fitted FILE: FILE (the include file or the profile) with this machine's skipped
# services and options on its session line, as a file in $WORK.
# The services whose program writes utmp and wtmp itself: sshd everywhere, login
# where it calls the C library's pututline (shadow's login, Debian 12; Debian 13's,
# util-linux's, writes no record, so the module records its sessions).
skipped_services() {
    local login
    login=$(command -v login 2>/dev/null || true)
    if [ -n "$login" ] && grep -Eqa 'pututx?line' "$login"; then
        printf 'sshd,login\n'
    else
        printf 'sshd\n'
    fi
}

fitted() {
    local src=$1 out
    out=$WORK/$(basename "$(dirname "$src")").$(basename "$src")
    sed -E "/^[[:space:]]*#/! s#$MODULE_SO skip_if=sshd,login(.*)\$#$MODULE_SO skip_if=$(skipped_services)\\1$(machine_options)#" \
        "$src" >"$out"
    printf '%s\n' "$out"
}

# --- files ----------------------------------------------------------------------

# put_file SRC DEST: DEST becomes a copy of SRC, mode 0644, owner root; left alone
# when it is one already.  Replaced atomically (temp file and rename).
put_file() {
    local src=$1 dest=$2 tmp
    [ -f "$src" ] || die "$src is missing from the source tree"
    if [ -f "$dest" ] && [ ! -L "$dest" ] && cmp -s "$src" "$dest" \
            && [ "$(stat -c '%a %u %g' "$dest")" = "644 0 0" ]; then
        say "up to date: $dest"
        return 0
    fi
    if would "install $dest"; then return 0; fi
    install -d -m 0755 "$(dirname "$dest")"
    tmp=$(mktemp "$(dirname "$dest")/.pam_pyutmp.XXXXXX")
    TMP_FILE=$tmp
    install -m 0644 -o root -g root "$src" "$tmp"
    mv -f -- "$tmp" "$dest"
    TMP_FILE=""
    say "installed $dest"
}

# remove_pam_python_module: an older install put the module file pam_python.so
# loaded here; nothing loads it now.
remove_pam_python_module() {
    [ -e "$MODULE_FILE" ] || [ -L "$MODULE_FILE" ] || return 0
    if would "remove $MODULE_FILE (pam_python.so's module file, no longer used)"; then
        return 0
    fi
    rm -f -- "$MODULE_FILE"
    say "removed $MODULE_FILE: pam_python.so's module file, no longer used"
}

install_all() {
    local include
    install_system_packages
    install_package
    check_import
    install_native_module
    remove_pam_python_module
    put_file "$SRC/man/pam_pyutmp.8" "$MAN_FILE"
    put_file "$SRC/man/pyutmp.1" "$CLI_MAN_FILE"
    include=$(fitted "$SRC/pam.d/$INCLUDE")
    if [ -f "$PAMD/$INCLUDE" ] && ! cmp -s "$include" "$PAMD/$INCLUDE" \
            && ! would "keep the current $PAMD/$INCLUDE as $BACKUP_DIR/$INCLUDE.old"; then
        install -d -m 0755 "$BACKUP_DIR"
        cp -a -- "$PAMD/$INCLUDE" "$BACKUP_DIR/$INCLUDE.old"
        if grep -Eq '^[[:space:]]*-?session[[:space:]].*pam_python\.so' "$PAMD/$INCLUDE"; then
            warn "$PAMD/$INCLUDE loaded the module with pam_python.so, which lets a user" \
                 "running su choose the code it runs as root: replaced by the one loading" \
                 "pam_pyutmp.so"
        fi
        say "$PAMD/$INCLUDE differs from this version's: kept it as $BACKUP_DIR/$INCLUDE.old"
    fi
    put_file "$include" "$PAMD/$INCLUDE"
}

# --- service files ----------------------------------------------------------------

COMMENT='^[[:space:]]*#'
TYPE_SESSION='^[[:space:]]*-?[Ss][Ee][Ss][Ss][Ii][Oo][Nn][[:space:]]'
INCLUDE_ANY='^[[:space:]]*@include[[:space:]]+([^[:space:]#]+)'
# Any other line that brings pyutmp in: "@include pyutmp", "session substack pyutmp", ...
USES_PYUTMP="^[[:space:]]*(@include|-?[Ss][Ee][Ss][Ss][Ii][Oo][Nn][[:space:]]+(include|substack))"
USES_PYUTMP+="[[:space:]]+$INCLUDE([[:space:]]|\$)"

# A session line: type session, or an @include of a file that has session lines.
is_session_line() {
    local line=$1 inc
    [[ $line =~ $TYPE_SESSION ]] && return 0
    if [[ $line =~ $INCLUDE_ANY ]]; then
        inc=${BASH_REMATCH[1]}
        [[ $inc == /* ]] || inc=$PAMD/$inc
        [ -f "$inc" ] && grep -Eq "$TYPE_SESSION" "$inc" && return 0
    fi
    return 1
}

# Lines of a service file, each with its newline (the last may lack one).
read_lines() { mapfile -d $'\n' LINES <"$1"; }

service_file() {
    local file=$PAMD/$1
    [ -e "$file" ] || die "no PAM service file $file: check the name (ls $PAMD); nothing changed"
    [ ! -L "$file" ] || die "$file is a symbolic link: edit its target by hand; nothing changed"
    [ -f "$file" ] || die "$file is not a regular file; nothing changed"
    printf '%s\n' "$file"
}

# other_use FILE: prints "N: LINE" of the first line that uses pyutmp or the module
# file in a form this script did not write.
other_use() {
    local n=0 line
    read_lines "$1"
    for line in "${LINES[@]}"; do
        n=$((n + 1))
        line=${line%$'\n'}
        [ "$line" = "$INCLUDE_LINE" ] && continue
        if [[ $line =~ $USES_PYUTMP ]] || [[ ! $line =~ $COMMENT \
                && ( $line == *"$MODULE_FILE"* || $line == *"$MODULE_SO"* ) ]]
        then
            printf '%s: %s\n' "$n" "$line"
            return 0
        fi
    done
    return 1
}

# our_line FILE: prints the number of the first "session include pyutmp" line.
our_line() {
    local n=0 line
    read_lines "$1"
    for line in "${LINES[@]}"; do
        n=$((n + 1))
        if [ "${line%$'\n'}" = "$INCLUDE_LINE" ]; then
            printf '%s\n' "$n"
            return 0
        fi
    done
    return 1
}

# rewrite FILE NEW: FILE gets NEW's content, atomically; its mode, owner and
# xattrs stay.  (The temp file in /etc/pam.d has a dot name no service has.)
rewrite() {
    local file=$1 new=$2
    TMP_FILE=$(mktemp "$(dirname "$file")/.pam_pyutmp.XXXXXX")
    cp -a -- "$file" "$TMP_FILE"
    cat -- "$new" >"$TMP_FILE"
    mv -f -- "$TMP_FILE" "$file"
    TMP_FILE=""
}

backup() {
    local file=$1 name
    name=$(basename "$file")
    [ -e "$BACKUP_DIR/$name" ] && return 0
    install -d -m 0755 "$BACKUP_DIR"
    cp -a -- "$file" "$BACKUP_DIR/$name"
    say "kept the original as $BACKUP_DIR/$name"
}

# Insert after the last session line, or at the end.  A file without a final
# newline gets "\nLINE" so that disable(), removing it, gives the same bytes back.
enable_service() {
    local svc=$1 file n use last=0 i
    file=$(service_file "$svc")
    if n=$(our_line "$file"); then
        say "already enabled: $file has '$INCLUDE_LINE' (line $n); nothing changed"
        return 0
    fi
    if use=$(other_use "$file"); then
        say "already includes pyutmp: $file line $use; nothing changed"
        return 0
    fi
    read_lines "$file"
    for i in "${!LINES[@]}"; do
        if is_session_line "${LINES[$i]%$'\n'}"; then last=$((i + 1)); fi
    done
    [ "$last" -gt 0 ] || last=${#LINES[@]}
    if [ "$svc" = sshd ]; then
        warn "$PAMD/$INCLUDE skips sshd (skip_if=sshd): sshd writes its own records"
    fi
    if would "add '$INCLUDE_LINE' to $file after line $last"; then return 0; fi
    backup "$file"
    {
        for i in "${!LINES[@]}"; do
            if [ "$i" -lt "$last" ]; then printf '%s' "${LINES[$i]}"; fi
        done
        if [ "$last" -gt 0 ] && [[ ${LINES[$((last - 1))]} != *$'\n' ]]; then
            printf '\n%s' "$INCLUDE_LINE"
        else
            printf '%s\n' "$INCLUDE_LINE"
        fi
        for i in "${!LINES[@]}"; do
            if [ "$i" -ge "$last" ]; then printf '%s' "${LINES[$i]}"; fi
        done
    } >"$WORK/new"
    rewrite "$file" "$WORK/new"
    say "enabled: added '$INCLUDE_LINE' to $file after line $last"
}

# Removes every line that is exactly "session include pyutmp"; a last line without
# newline takes the newline before it along (see enable_service).
disable_service() {
    local svc=$1 file n i out=()
    file=$(service_file "$svc")
    if ! n=$(our_line "$file"); then
        say "not enabled: $file has no '$INCLUDE_LINE' line; nothing changed"
        return 0
    fi
    if would "remove '$INCLUDE_LINE' from $file (line $n)"; then return 0; fi
    read_lines "$file"
    for i in "${!LINES[@]}"; do
        if [ "${LINES[$i]}" = "$INCLUDE_LINE"$'\n' ]; then continue; fi
        if [ "${LINES[$i]}" = "$INCLUDE_LINE" ]; then
            if [ ${#out[@]} -gt 0 ]; then out[-1]=${out[-1]%$'\n'}; fi
            continue
        fi
        out+=("${LINES[$i]}")
    done
    : >"$WORK/new"
    if [ ${#out[@]} -gt 0 ]; then printf '%s' "${out[@]}" >"$WORK/new"; fi
    rewrite "$file" "$WORK/new"
    say "disabled: removed '$INCLUDE_LINE' from $file (line $n)"
}

check_disable_targets() {
    local svc file use
    for svc in "${SERVICES[@]}"; do
        file=$(service_file "$svc")
        if ! our_line "$file" >/dev/null && use=$(other_use "$file"); then
            die "$file includes pyutmp by a line install.sh did not add (line $use):" \
                "edit it by hand; nothing changed"
        fi
    done
}

# --- system-wide: the pam-auth-update profiles -----------------------------------

CONFIGS=/usr/share/pam-configs
SESSION_PROFILE=$INCLUDE           # sessions: the session line in common-session
AUTH_PROFILE=$INCLUDE-authfail     # failed logins: the authfail line in common-auth

need_pam_auth_update() {
    command -v pam-auth-update >/dev/null 2>&1 \
        || die "--$ACTION system and failed-logins need pam-auth-update (Debian's" \
               "libpam-runtime); elsewhere add the lines by hand (README)"
}

# enable_profile NAME FILE: install the profile and enable it; FILE is the common-*
# file that must then hold the module.  The session profile's line is the include
# file's module line, so both give the same options.
enable_profile() {
    local name=$1 common=$PAMD/$2 line
    need_pam_auth_update
    put_file "$(fitted "$SRC/pam.d/pam-configs/$name")" "$CONFIGS/$name"
    if would "enable the pam-auth-update profile $name ($common)"; then return 0; fi
    DEBIAN_FRONTEND=noninteractive pam-auth-update --enable "$name" \
        || die "pam-auth-update --enable $name failed"
    line=$(grep -n "$MODULE_SO" "$common" | head -n 1 || true)
    [ -n "$line" ] || die "pam-auth-update left $common without the module: it keeps a" \
        "file with local changes as it is; run 'pam-auth-update' and select $name"
    say "enabled system-wide: $common line ${line%%:*} (profile $name)"
}

disable_profile() {
    local name=$1
    if [ ! -f "$CONFIGS/$name" ]; then
        say "not enabled system-wide: no $CONFIGS/$name; nothing changed"
        return 0
    fi
    need_pam_auth_update
    if would "disable the pam-auth-update profile $name"; then return 0; fi
    DEBIAN_FRONTEND=noninteractive pam-auth-update --disable "$name" \
        || die "pam-auth-update --disable $name failed"
    say "disabled system-wide: the profile $name is off"
}

# Login programs whose stack, as the distribution ships it, includes no
# common-session: a system-wide line never reaches them, so --enable system gives
# them the include line (runuser -l: Debian's runuser-l includes runuser, which
# has pam_unix alone).  runuser without -l, which scripts use, stays as it is.
OUTSIDE_COMMON=(runuser-l)

# reaches_common FILE [DEPTH]: FILE's session stack includes common-session
# (through @include, include and substack lines, as deep as libpam goes).
reaches_common() {
    local file=$1 depth=${2:-0} line words target
    [ "$depth" -le 8 ] && [ -f "$file" ] || return 1
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line%%#*}
        read -r -a words <<<"$line"
        [ ${#words[@]} -ge 2 ] || continue
        if [ "${words[0]}" = @include ]; then
            target=${words[1]}
        elif [ ${#words[@]} -ge 3 ] && [[ ${words[0],,} =~ ^-?session$ ]] \
                && [[ ${words[1]} =~ ^(include|substack)$ ]]; then
            target=${words[2]}
        else
            continue
        fi
        [[ $target == /* ]] || target=$PAMD/$target
        [ "$(basename "$target")" = common-session ] && return 0
        reaches_common "$target" $((depth + 1)) && return 0
    done <"$file"
    return 1
}

# The services of OUTSIDE_COMMON that are there and that common-session misses.
outside_common() {
    local svc
    for svc in "${OUTSIDE_COMMON[@]}"; do
        if [ -f "$PAMD/$svc" ] && [ ! -L "$PAMD/$svc" ] && ! reaches_common "$PAMD/$svc"; then
            printf '%s\n' "$svc"
        fi
    done
}

enable_system() {
    local file svc
    for file in $(grep -lx -- "$INCLUDE_LINE" "$PAMD"/* 2>/dev/null || true); do
        reaches_common "$file" || continue
        warn "$file has '$INCLUDE_LINE' as well and includes common-session: the" \
             "module is in its stack twice (only the first records);" \
             "./install.sh --disable $(basename "$file") removes that line"
    done
    enable_profile "$SESSION_PROFILE" common-session
    say "interactive sessions only: common-session-noninteractive, which cron and sudo" \
        "use, is left alone"
    for svc in $(outside_common); do
        say "$PAMD/$svc includes no common-session: it gets the include line itself"
        enable_service "$svc"
    done
    enable_profile "$AUTH_PROFILE" common-auth
}

disable_system() {
    local svc
    disable_profile "$SESSION_PROFILE"
    for svc in $(outside_common); do
        if our_line "$PAMD/$svc" >/dev/null; then disable_service "$svc"; fi
    done
    disable_profile "$AUTH_PROFILE"
}

# A service whose authentication is common-auth's has its failed attempts recorded
# there, for every service that includes it: say how, once.
failed_logins_hint() {
    local svc=$1
    [ ! -f "$CONFIGS/$AUTH_PROFILE" ] || return 0
    if grep -Eq '^[[:space:]]*(@include[[:space:]]+common-auth|-?auth[[:space:]]+(include|substack)[[:space:]]+common-auth)([[:space:]]|$)' \
            "$PAMD/$svc"; then
        say "failed logins of $svc: its authentication is common-auth's;" \
            "'./install.sh --enable failed-logins' records them there (for every service" \
            "that includes it; su, login and sshd record their own)"
    else
        say "failed logins of $svc: put the authfail line after its authentication by hand" \
            "(README, Failed logins)"
    fi
}

# --- uninstall --------------------------------------------------------------------

uninstall_all() {
    local file dir svc use status=0 state enabled=() others=()
    for file in "$PAMD"/*; do
        if [ ! -f "$file" ] || [ -L "$file" ]; then continue; fi
        svc=$(basename "$file")
        [ "$svc" != "$INCLUDE" ] || continue
        # pam-auth-update wrote the lines of our profiles there; disabling takes them out.
        if [[ $svc == common-* ]] && { [ -f "$CONFIGS/$SESSION_PROFILE" ] \
                || [ -f "$CONFIGS/$AUTH_PROFILE" ]; }; then continue; fi
        if our_line "$file" >/dev/null; then enabled+=("$svc"); fi
        if use=$(other_use "$file"); then others+=("$file line $use"); fi
    done
    if [ ${#others[@]} -gt 0 ]; then
        printf 'pam_pyutmp: error: these lines use pam_pyutmp in a form install.sh did not add;\n' >&2
        printf 'pam_pyutmp: error: remove them first, nothing was changed:\n' >&2
        printf 'pam_pyutmp:   %s\n' "${others[@]}" >&2
        exit 1
    fi
    for svc in "${enabled[@]}"; do disable_service "$svc"; done
    [ ${#enabled[@]} -gt 0 ] || say "no service includes $INCLUDE"
    for file in "$CONFIGS/$SESSION_PROFILE" "$CONFIGS/$AUTH_PROFILE"; do
        [ -f "$file" ] || continue
        disable_profile "$(basename "$file")"
        if ! would "remove $file"; then
            rm -f -- "$file"
            say "removed $file"
        fi
    done
    remove_pam_python_module
    for file in "$PAMD/$INCLUDE" "$MODULE_SO" "$MAN_FILE" "$CLI_MAN_FILE"; do
        if [ ! -e "$file" ] && [ ! -L "$file" ]; then
            say "not there: $file"
        elif ! would "remove $file"; then
            rm -f -- "$file"
            say "removed $file"
        fi
    done
    for dir in "$MODULE_DIR" "$(dirname "$MAN_FILE")" "$(dirname "$CLI_MAN_FILE")"; do
        if [ -d "$dir" ] && [ -z "$(ls -A "$dir")" ] && ! would "remove the empty $dir"; then
            rmdir -- "$dir"
        fi
    done
    if [ -x "$PYTHON" ]; then
        state=$(installed_package) || status=$?
    else
        status=2
    fi
    if [ "$status" != 0 ]; then
        say "package not installed for $PYTHON"
    elif owned_by_system "${state#* }"; then
        say "package left alone: ${state#* } belongs to a system package"
    elif ! would "pip-uninstall $DIST ${state%% *} from ${state#* }"; then
        "$PYTHON" -m pip uninstall --quiet --yes --break-system-packages \
            --root-user-action=ignore "$DIST" || die "pip uninstall $DIST failed"
        say "uninstalled $DIST ${state%% *} from ${state#* }"
    fi
    if [ -d "$BACKUP_DIR" ]; then
        say "the original service files stay in $BACKUP_DIR"
    fi
}

# --- main -------------------------------------------------------------------------

# Also in a dry run: the include file for the loader is made there, for comparison.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pam_pyutmp-install.XXXXXX")

case "$ACTION" in
    install)
        install_all ;;
    package)
        install_system_packages
        install_package
        check_import ;;
    enable)
        # Every name is checked before anything is installed or changed.
        for svc in "${SERVICES[@]}"; do service_file "$svc" >/dev/null; done
        install_all
        for svc in "${SERVICES[@]}"; do enable_service "$svc"; done
        if [ "$SYSTEM" = 1 ]; then
            enable_system
        elif [ "$FAILED" = 1 ]; then
            enable_profile "$AUTH_PROFILE" common-auth
        else
            for svc in "${SERVICES[@]}"; do failed_logins_hint "$svc"; done
        fi ;;
    disable)
        check_disable_targets
        for svc in "${SERVICES[@]}"; do disable_service "$svc"; done
        if [ "$SYSTEM" = 1 ]; then
            disable_system
        elif [ "$FAILED" = 1 ]; then
            disable_profile "$AUTH_PROFILE"
        fi ;;
    uninstall)
        uninstall_all ;;
esac
if [ "$DRY_RUN" = 1 ]; then say "dry run done: nothing was changed"; else say "done"; fi
