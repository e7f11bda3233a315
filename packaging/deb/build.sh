#!/usr/bin/env bash
# Builds the Debian packages lounge_<version>_<arch>.deb and lounge-streamer_<version>_<arch>.deb
# from this checkout, with dpkg-deb alone (no debhelper tree to keep in step with Cargo).
#
#   packaging/deb/build.sh [--profile release|dev] [--no-build] [--fast] [--out DIR]
#
# --no-build packages binaries already built with that profile (CI packages the ones its test
# run just built instead of compiling the stack a second time); --fast compresses with gzip -1
# instead of xz, which takes most of the time with unoptimised binaries.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/packaging/deb"
profile=release
build=1
compress=()
out=""
while (($#)); do
  case "$1" in
    --profile) profile=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --fast) compress=(-Zgzip -z1); shift ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: $0 [--profile release|dev] [--no-build] [--fast] [--out DIR]" >&2; exit 2 ;;
  esac
done

target=${CARGO_TARGET_DIR:-$root/target}
case "$profile" in
  dev) bindir="$target/debug" ;;
  *) bindir="$target/$profile" ;;
esac
out=${out:-$target/debian}

if ((build)); then
  cargo build --manifest-path "$root/Cargo.toml" --locked --profile "$profile" \
    -p lounge -p lounge-streamer
fi
for bin in lounge lounge-streamer; do
  [ -x "$bindir/$bin" ] || { echo "error: $bindir/$bin is missing; build it or drop --no-build" >&2; exit 1; }
done

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n1)
arch=$(dpkg --print-architecture)
homepage=$(sed -n 's/^repository = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# Runtime dependencies of a binary, as dpkg-shlibdeps works them out from the libraries it links.
shlib_depends() {
  mkdir -p "$work/shlibs/debian"
  touch "$work/shlibs/debian/control"
  (cd "$work/shlibs" && dpkg-shlibdeps -O "$1") | sed -n 's/^shlibs:Depends=//p'
}

# stage PACKAGE: the common layout; the caller adds the package's own files.
stage() {
  local pkg=$1 dir="$work/$1"
  install -d "$dir/DEBIAN" "$dir/usr/bin" "$dir/usr/share/doc/$pkg" "$dir/lib/systemd/system" \
    "$dir/etc/$pkg"
  # Stripped: the symbols are for the developers' builds, not for a server's disk.
  install -m 0755 "$bindir/$pkg" "$dir/usr/bin/$pkg"
  strip --strip-unneeded "$dir/usr/bin/$pkg"
  install -m 0644 "$here/$pkg/$pkg.service" "$dir/lib/systemd/system/$pkg.service"
  # Unpacked root-only; postinst hands the group to lounge once the user exists.
  install -m 0640 "$here/$pkg/$pkg.toml" "$dir/etc/$pkg/$pkg.toml"
  echo "/etc/$pkg/$pkg.toml" > "$dir/DEBIAN/conffiles"
  install -m 0755 "$here/$pkg/postinst" "$here/$pkg/prerm" "$here/$pkg/postrm" "$dir/DEBIAN/"
  install -m 0644 "$root/README.md" "$dir/usr/share/doc/$pkg/README.md"
  copyright > "$dir/usr/share/doc/$pkg/copyright"
}

copyright() {
  cat <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: lounge
Source: $homepage

Files: *
Copyright: The Lounge developers
License: MIT or Apache-2.0
 On Debian systems the Apache License 2.0 is in /usr/share/common-licenses/Apache-2.0.
 .
COPYRIGHT
  sed 's/^$/./; s/^/ /' "$root/LICENSE-MIT"
}

# control PACKAGE DEPENDS RECOMMENDS SHORT LONG...
control() {
  local pkg=$1 depends=$2 recommends=$3 short=$4
  shift 4
  local dir="$work/$pkg"
  {
    echo "Package: $pkg"
    echo "Version: $version"
    echo "Architecture: $arch"
    echo "Maintainer: The Lounge developers <lounge@example.invalid>"
    echo "Installed-Size: $(du -sk --exclude=DEBIAN "$dir" | cut -f1)"
    echo "Depends: $depends"
    [ -z "$recommends" ] || echo "Recommends: $recommends"
    echo "Section: net"
    echo "Priority: optional"
    echo "Homepage: $homepage"
    echo "Description: $short"
    printf ' %s\n' "$@"
  } > "$dir/DEBIAN/control"
  dpkg-deb --root-owner-group "${compress[@]}" --build "$dir" "$out/${pkg}_${version}_${arch}.deb" >/dev/null
  echo "$out/${pkg}_${version}_${arch}.deb"
}

stage lounge
# yt-dlp finds what /play links and searches hold; since 2025.11 it wants a JavaScript
# runtime for YouTube (Node.js 20 or later, or Deno).
control lounge "$(shlib_depends "$work/lounge/usr/bin/lounge"), adduser" \
  "yt-dlp, nodejs" \
  "Discord bot for a community's lounge" \
  "Games (Pokémon catching, trading and battles; an Old School RuneScape trip" \
  "simulation), music, moderation and social commands, as slash and prefix commands." \
  "Stores everything in SQLite (default) or PostgreSQL. Runs as the lounge.service" \
  "systemd unit once a bot token is configured in /etc/lounge/lounge.toml."

stage lounge-streamer
control lounge-streamer \
  "$(shlib_depends "$work/lounge-streamer/usr/bin/lounge-streamer"), lounge (= $version)" \
  "" \
  "Streams a Plex library into Discord calls for the Lounge bot (opt-in)" \
  "A daemon that takes orders from the lounge bot over a local socket, picks the" \
  "best H.264 encoder this machine has (NVENC, VAAPI, QSV, else libx264) and streams" \
  "media into a voice channel as a Go Live stream." \
  "." \
  "Go Live logs in as the owner's own Discord user account, which is against" \
  "Discord's Terms of Service; it stays off unless accept_selfbot_risk is set."
