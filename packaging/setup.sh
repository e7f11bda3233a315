# Shared by the README's two commands (bot/run and tests/run): say what is done, install
# system packages that are missing (apt as root or through sudo; Homebrew on macOS).
# Sourced, not run.

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then log "running with sudo: $*"; sudo "$@"
  else die "needs root to run: $*"
  fi
}

# apt_install PACKAGE...: installs the Debian packages that are not installed yet.
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  log "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# brew_install FORMULA...: installs the Homebrew formulas that are not installed yet.
brew_install() {
  command -v brew >/dev/null || die "install Homebrew (https://brew.sh), then run this again"
  local missing=() f
  for f in "$@"; do
    brew list --formula "$f" >/dev/null 2>&1 || missing+=("$f")
  done
  ((${#missing[@]})) || return 0
  log "brew install ${missing[*]}"
  brew install "${missing[@]}"
}

# has_apt: Debian or Ubuntu, where apt_install works.
has_apt() { command -v dpkg-query >/dev/null && command -v apt-get >/dev/null; }
