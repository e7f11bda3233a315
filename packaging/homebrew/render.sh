#!/usr/bin/env bash
# Writes a source archive of HEAD and the formula that builds it:
#
#   packaging/homebrew/render.sh [--url-base URL] [--out DIR]
#
# Without --url-base the formula points at the archive on this disk (file://), which is what
# `brew install --formula ./lounge.rb` needs to try it locally; for a tap, give the address the
# archive will be published at.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/target/homebrew"
url_base=""
while (($#)); do
  case "$1" in
    --url-base) url_base=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: $0 [--url-base URL] [--out DIR]" >&2; exit 2 ;;
  esac
done
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n1)
homepage=$(sed -n 's/^repository = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n1)
mkdir -p "$out"
out=$(cd "$out" && pwd)
archive="lounge-$version.tar.gz"
git -C "$root" archive --format=tar.gz --prefix="lounge-$version/" -o "$out/$archive" HEAD
sha=$(sha256sum "$out/$archive" | cut -d' ' -f1)
url=${url_base:+${url_base%/}/$archive}
url=${url:-file://$out/$archive}
sed -e "s|@URL@|$url|" -e "s|@SHA256@|$sha|" -e "s|@VERSION@|$version|" \
  -e "s|@HOMEPAGE@|$homepage|" "$root/packaging/homebrew/lounge.rb.in" > "$out/lounge.rb"
echo "$out/lounge.rb"
