#!/usr/bin/env bash
# Installs the .debs that build.sh made, on this machine, and checks them the way an admin
# would meet them: files, owners and modes, the units, both programs run as the service user
# with the packaged configuration, the end-to-end tests run against the installed binaries, an
# upgrade that keeps the admin's edits and the shared secret, then a purge. Needs root.
#
#   packaging/deb/test-installed.sh lounge_*.deb lounge-streamer_*.deb
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
(($# == 2)) || { echo "usage: $0 LOUNGE.deb LOUNGE-STREAMER.deb" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "error: installing packages needs root" >&2; exit 1; }
debs=("$@")
version=$(dpkg-deb -f "${debs[0]}" Version)

step() { printf '\n--> %s\n' "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_stat() { # PATH MODE OWNER:GROUP
  local got
  got=$(stat -c '%a %U:%G' "$1")
  [ "$got" = "$2 $3" ] || fail "$1 is $got, expected $2 $3"
}
as_lounge() { # run as the service user with the environment both units load
  runuser -u lounge -- env -i PATH=/usr/bin:/bin HOME=/var/lib/lounge \
    sh -c 'umask 077; set -a; . /etc/lounge-streamer/ipc.env; set +a; exec "$@"' sh "$@"
}

# A previous run on this machine (CI reuses it) must not make this one pass by accident.
dpkg --purge lounge-streamer lounge >/dev/null 2>&1 || true
rm -rf /var/lib/lounge /var/lib/lounge-streamer /run/lounge-streamer

# Nothing of ours may outlive a failed check.
trap 'pkill -u lounge -x lounge-streamer 2>/dev/null || true' EXIT

step "install"
dpkg -i "${debs[@]}"
for pkg in lounge lounge-streamer; do
  [ "$(dpkg-query -W -f='${Status} ${Version}' "$pkg")" = "install ok installed $version" ] ||
    fail "$pkg is not installed at $version"
done
[ "$(/usr/bin/lounge --version)" = "lounge $version" ] || fail "lounge --version: $(lounge --version)"
getent passwd lounge >/dev/null || fail "no lounge user"
expect_stat /etc/lounge 750 root:lounge
expect_stat /etc/lounge/lounge.toml 640 root:lounge
expect_stat /etc/lounge-streamer/ipc.env 640 root:lounge
expect_stat /var/lib/lounge 750 lounge:lounge
expect_stat /var/lib/lounge-streamer 700 lounge:lounge
# shellcheck disable=SC1091
secret=$(. /etc/lounge-streamer/ipc.env && echo "$LOUNGE_STREAMER_IPC_SECRET")
[ ${#secret} = 64 ] || fail "the generated IPC secret is not 32 random bytes"
grep -qx "LOUNGE_STREAMER__SECRET=$secret" /etc/lounge-streamer/ipc.env ||
  fail "the bot's and the streamer's secrets differ"

step "systemd units"
if systemd-analyze --version >/dev/null 2>&1; then
  systemd-analyze verify /lib/systemd/system/lounge.service \
    /lib/systemd/system/lounge-streamer.service
fi

step "the bot, as lounge.service runs it"
# config check only looks (the database is created on first run); db migrate creates and
# migrates it, so together they prove the state directory works.
out=$(as_lounge env DISCORD_TOKEN=MTAx.packaged.check lounge --config /etc/lounge/lounge.toml config check)
echo "$out"
grep -q "will be created on first run" <<<"$out" || fail "config check did not look for the database"
grep -q "streamer: connects to /run/lounge-streamer/lounge-streamer.sock" <<<"$out" ||
  fail "the bot did not pick up the streamer link from ipc.env"
out=$(as_lounge lounge --config /etc/lounge/lounge.toml db migrate)
echo "$out"
grep -q "database: SQLite ok, applied" <<<"$out" || fail "the bot could not create its database"
expect_stat /var/lib/lounge/lounge.db 600 lounge:lounge
if as_lounge lounge --config /etc/lounge/lounge.toml config check 2>/dev/null; then
  fail "config check passed without a token"
fi

step "the streamer, as lounge-streamer.service runs it"
as_lounge lounge-streamer --config /etc/lounge-streamer/lounge-streamer.toml config check
as_lounge lounge-streamer --config /etc/lounge-streamer/lounge-streamer.toml doctor
# What RuntimeDirectory= makes; then the daemon must create an owner-only socket in it.
install -d -o lounge -g lounge -m 0700 /run/lounge-streamer
as_lounge lounge-streamer --config /etc/lounge-streamer/lounge-streamer.toml run &
daemon=$!
for _ in $(seq 1 100); do [ -S /run/lounge-streamer/lounge-streamer.sock ] && break; sleep 0.1; done
expect_stat /run/lounge-streamer/lounge-streamer.sock 600 lounge:lounge
# runuser's shell does not pass SIGTERM on; the daemon must stop cleanly on it (systemctl stop).
pkill -TERM -u lounge -x lounge-streamer
wait "$daemon" || fail "lounge-streamer did not exit cleanly on SIGTERM"

step "end-to-end tests against the installed binaries"
# The bot and the streamer linked over IPC and killed/restarted, and a Go Live stream decoded
# by the fake voice server: the installed files, not the build tree's.
LOUNGE_TEST_BIN_DIR=/usr/bin cargo test --manifest-path "$root/Cargo.toml" --locked \
  -p lounge-tests --test it -- stream:: golive_voice::

step "upgrade in place keeps the admin's edits and the shared secret"
echo '# edited by the admin' >> /etc/lounge/lounge.toml
dpkg -i "${debs[@]}"
grep -q '^# edited by the admin$' /etc/lounge/lounge.toml || fail "the upgrade overwrote lounge.toml"
grep -qx "LOUNGE_STREAMER_IPC_SECRET=$secret" /etc/lounge-streamer/ipc.env ||
  fail "the upgrade changed the IPC secret"
expect_stat /etc/lounge/lounge.toml 640 root:lounge

step "purge"
dpkg --purge lounge-streamer lounge
for gone in /usr/bin/lounge /usr/bin/lounge-streamer /etc/lounge /etc/lounge-streamer \
  /lib/systemd/system/lounge.service /var/lib/lounge-streamer; do
  [ ! -e "$gone" ] || fail "$gone is left after purge"
done
# The community's database outlives the package on purpose.
[ -f /var/lib/lounge/lounge.db ] || fail "purge deleted the database"
rm -rf /var/lib/lounge /run/lounge-streamer
echo "packages ok"
