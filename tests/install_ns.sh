#!/usr/bin/env bash
# Runs a command where install.sh can do its worst and the machine sees nothing:
#
#   tests/install_ns.sh STATE COMMAND...
#
# In a private mount namespace (the script enters one itself), STATE/pamd is
# mounted on /etc/pam.d, an overlay of /usr/local with STATE/upper (and
# STATE/work) on /usr/local, STATE/backups on /var/backups, STATE/run on /run
# and STATE/log on /var/log (so a PAM session's utmp, wtmp and lastlog are
# STATE's), and where they exist STATE/pamlib on /var/lib/pam and
# STATE/pamconfigs on /usr/share/pam-configs (pam-auth-update's state and
# profiles).  Everything written to /usr/local lands in STATE/upper.  Exits with
# the command's status.
set -euo pipefail

if [ "${PAM_PYUTMP_INSTALL_NS:-}" != 1 ]; then
    exec env PAM_PYUTMP_INSTALL_NS=1 unshare --mount --propagation private -- \
        bash "${BASH_SOURCE[0]}" "$@"
fi
unset PAM_PYUTMP_INSTALL_NS
# Never mount over the machine's own directories: this must be a namespace of its own.
if [ "$(readlink /proc/self/ns/mnt)" = "$(readlink "/proc/$PPID/ns/mnt")" ]; then
    echo "install_ns.sh: not in a mount namespace of its own; nothing mounted" >&2
    exit 2
fi

[ $# -ge 2 ] || { echo "usage: $0 STATE COMMAND..." >&2; exit 2; }
state=$(cd "$1" && pwd)
shift
for dir in pamd upper work backups run log; do
    [ -d "$state/$dir" ] || { echo "install_ns.sh: $state/$dir is missing" >&2; exit 2; }
done

mount --bind "$state/pamd" /etc/pam.d
mount -t overlay overlay \
    -o "lowerdir=/usr/local,upperdir=$state/upper,workdir=$state/work" /usr/local
mount --bind "$state/backups" /var/backups
mount --bind "$state/run" /run
mount --bind "$state/log" /var/log
# pam-auth-update's state and profiles, where a test gives copies of them.
if [ -d "$state/pamlib" ]; then mount --bind "$state/pamlib" /var/lib/pam; fi
if [ -d "$state/pamconfigs" ]; then mount --bind "$state/pamconfigs" /usr/share/pam-configs; fi
# The module's syslog lines go nowhere: a /dev/log symlink into /run now dangles,
# a /dev/log socket is covered by /dev/null.
if [ -S /dev/log ] && [ ! -L /dev/log ]; then
    mount --bind /dev/null /dev/log
fi
exec "$@"
