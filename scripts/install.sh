#!/bin/sh
# Installs the `chat` binary for this machine from a release, verified against SHA256SUMS.
#
#   curl -fsSL https://github.com/chat-cli/chat/releases/latest/download/install.sh | sh
#
# CHAT_DOWNLOAD_URL  folder holding the binaries and SHA256SUMS (as `bun run build:all` names them)
# CHAT_INSTALL_DIR   where `chat` goes (default ~/.local/bin)
#
# POSIX sh (dash, busybox ash); needs curl or wget, and sha256sum or shasum.
# Everything is inside main(), so a half-downloaded script piped into sh does nothing.

DEFAULT_DOWNLOAD_URL="https://github.com/chat-cli/chat/releases/latest/download"

set -eu

say() { printf '%s\n' "$*"; }
die() { printf 'chat-install: %s\n' "$*" >&2; exit 1; }

# Prints the release file name for this OS and CPU, e.g. chat-linux-x64.
detect_file() {
  os=$(uname -s)
  arch=$(uname -m)
  ext=""
  case "$os" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    MINGW* | MSYS* | CYGWIN*) os=windows; ext=".exe" ;;
    *) die "unsupported operating system: $os (builds exist for Linux, macOS and Windows)" ;;
  esac
  case "$arch" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "unsupported CPU architecture: $arch (builds exist for x64 and arm64)" ;;
  esac
  # A shell running under Rosetta 2 reports x86_64 on Apple silicon: take the native build.
  if [ "$os" = darwin ] && [ "$arch" = x64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || true)" = 1 ]; then
    arch=arm64
  fi
  if [ "$os" = windows ] && [ "$arch" = arm64 ]; then
    die "no Windows arm64 build; download chat-windows-x64.exe by hand"
  fi
  printf 'chat-%s-%s%s\n' "$os" "$arch" "$ext"
}

# Picks the download and checksum tools up front, before anything is fetched.
pick_tools() {
  if command -v curl >/dev/null 2>&1; then
    fetcher=curl
  elif command -v wget >/dev/null 2>&1; then
    fetcher=wget
  else
    die "need curl or wget to download chat; install one of them and run this again"
  fi
  if command -v sha256sum >/dev/null 2>&1; then
    hasher=sha256sum
  elif command -v shasum >/dev/null 2>&1; then
    hasher=shasum
  else
    die "need sha256sum or shasum to verify the checksum; refusing to install unverified"
  fi
}

# download URL FILE
download() {
  case "$fetcher" in
    curl) curl -fsSL -o "$2" "$1" ;;
    wget) wget -q -O "$2" "$1" ;;
  esac || die "cannot download $1"
}

# sha256 FILE: prints the file's SHA-256 in lower-case hex.
sha256() {
  case "$hasher" in
    sha256sum) sha256sum "$1" ;;
    shasum) shasum -a 256 "$1" ;;
  esac | awk '{ print tolower($1) }'
}

main() {
  base=${CHAT_DOWNLOAD_URL:-$DEFAULT_DOWNLOAD_URL}
  base=${base%/}
  dir=${CHAT_INSTALL_DIR:-"${HOME:?HOME is not set; set CHAT_INSTALL_DIR}/.local/bin"}
  file=$(detect_file) || exit 1
  pick_tools
  name=chat
  case "$file" in *.exe) name=chat.exe ;; esac
  target="$dir/$name"

  tmp=$(mktemp -d "${TMPDIR:-/tmp}/chat-install.XXXXXX") || die "cannot create a temporary folder"
  staged=""
  trap 'rm -rf "$tmp"; [ -z "$staged" ] || rm -f "$staged"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP

  say "downloading $base/SHA256SUMS"
  download "$base/SHA256SUMS" "$tmp/SHA256SUMS"
  # sha256sum writes "<hex>  <name>" ("<hex> *<name>" in binary mode).
  expected=$(awk -v f="$file" '$2 == f || $2 == "*" f { print tolower($1); exit }' "$tmp/SHA256SUMS")
  [ -n "$expected" ] || die "SHA256SUMS at $base has no checksum for $file; refusing to install"
  case "$expected" in
    *[!0-9a-f]*) die "SHA256SUMS at $base has a malformed checksum for $file; refusing to install" ;;
  esac
  [ ${#expected} -eq 64 ] || die "SHA256SUMS at $base has a malformed checksum for $file; refusing to install"

  say "downloading $base/$file"
  download "$base/$file" "$tmp/$file"
  actual=$(sha256 "$tmp/$file") || exit 1
  if [ "$actual" != "$expected" ]; then
    die "checksum mismatch for $file (expected $expected, got $actual); refusing to install"
  fi
  say "checksum OK ($actual)"

  # Stage next to the target and try it there: a binary that cannot run here (or a noexec
  # folder) is never installed. Then rename: the replacement is atomic (same file system).
  mkdir -p "$dir" || die "cannot create $dir"
  staged="$dir/.$name.install.$$"
  cp "$tmp/$file" "$staged" || die "cannot write to $dir"
  chmod 755 "$staged"
  if ! version=$("$staged" --version </dev/null); then
    die "$file does not run on this machine (\`chat --version\` failed; Linux builds need glibc, not musl); nothing installed"
  fi
  mv -f "$staged" "$target" || die "cannot move the binary to $target"
  staged=""
  say "installed chat $version ($file) as $target"
  case ":${PATH:-}:" in
    *":$dir:"*) ;;
    *)
      say ""
      say "$dir is not on your PATH. Add it, e.g. in ~/.profile:"
      say "  export PATH=\"$dir:\$PATH\""
      ;;
  esac
}

main "$@"
