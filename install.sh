#!/usr/bin/env bash
# Installs pam_pyutmp for the interpreter that pam_python.so embeds.
#
#   sudo ./install.sh              install what is needed and the package
#   sudo ./install.sh --dry-run    print what would be done, change nothing
#
# The package goes to /usr/local (pip's place for the system interpreter on
# Debian), never over a file dpkg owns; --no-deps keeps pip from replacing a
# Debian-packaged library.
set -euo pipefail

PYTHON=/usr/bin/python3          # what libpam-python's pam_python.so embeds
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DRY_RUN=0

say() { printf 'pam_pyutmp: %s\n' "$*"; }
die() { printf 'pam_pyutmp: error: %s\n' "$*" >&2; exit 1; }
run() {
    if [ "$DRY_RUN" = 1 ]; then printf '  would run: %s\n' "$*"; else "$@"; fi
}

usage() { sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) DRY_RUN=1 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
    shift
done

[ "$(id -u)" = 0 ] || [ "$DRY_RUN" = 1 ] || die "run as root (sudo $0 $*)"

install_system_packages() {
    if command -v apt-get >/dev/null 2>&1; then
        local wanted=(python3 python3-pip python3-cffi python3-dev python3-setuptools
                      python3-wheel gcc libc6-dev libpam-python)
        local missing=()
        local pkg
        for pkg in "${wanted[@]}"; do
            dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' \
                || missing+=("$pkg")
        done
        if [ ${#missing[@]} -gt 0 ]; then
            say "installing with apt: ${missing[*]}"
            run apt-get update -qq
            run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
        fi
    elif command -v apk >/dev/null 2>&1; then
        run apk add --no-cache python3 py3-pip py3-cffi python3-dev gcc musl-dev linux-pam-dev
        say "note: Alpine has no package of pam_python.so; the library API works, the PAM"
        say "      module needs pam_python built from source"
    else
        die "no apt-get or apk: install python3, pip, cffi, a C compiler and pam_python by hand"
    fi
}

install_package() {
    [ -x "$PYTHON" ] || die "$PYTHON not found"
    say "building and installing the package for $PYTHON"
    run "$PYTHON" -m pip install --quiet --no-deps --no-build-isolation --force-reinstall \
        --break-system-packages --root-user-action=ignore --no-cache-dir "$SRC"
    if [ "$DRY_RUN" = 0 ]; then
        (cd / && "$PYTHON" -I -c 'import pam_pyutmp._core') \
            || die "the installed package does not import in $PYTHON"
    fi
}

install_system_packages
install_package
say "done"
