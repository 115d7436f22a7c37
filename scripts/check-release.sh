#!/usr/bin/env bash
# Release check (slow, so not part of npm test): runs `bun run build:all`, then checks that dist/
# holds the five binaries in the right executable format for their OS and CPU, that SHA256SUMS
# lists each one and `sha256sum -c` passes, and that the binary for this machine prints the
# package.json version. Prints one line per check; exits non-zero on any problem.
# --no-build checks dist/ as it is (after a `bun run build:all` of your own).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export PATH="$PWD/node_modules/.bin:$PATH"

problems=0
ok() { echo "ok    $*"; }
fail() { echo "FAIL  $*"; problems=$((problems + 1)); }

# name | what `file` says | magic bytes at 0 | CPU field as offset:bytes (ELF e_machine, Mach-O cputype)
targets=(
  "chat-linux-x64|ELF 64-bit LSB executable, x86-64|7f454c46|18:3e00"
  "chat-linux-arm64|ELF 64-bit LSB executable, ARM aarch64|7f454c46|18:b700"
  "chat-darwin-x64|Mach-O 64-bit x86_64 executable|cffaedfe|4:07000001"
  "chat-darwin-arm64|Mach-O 64-bit arm64 executable|cffaedfe|4:0c000001"
  "chat-windows-x64.exe|PE32+ executable (console) x86-64|4d5a|"
)

# hex FILE OFFSET LENGTH: the bytes there as lower-case hex.
hex() { od -An -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n'; }

check_format() {
  local path=$1 described=$2 magic=$3 cpu=$4
  if command -v file >/dev/null; then
    local said
    said=$(file -b "$path")
    if [[ $said == "$described"* ]]; then ok "$path: $said"; else fail "$path: file says '$said', expected '$described'"; fi
    return
  fi
  local head offset=${cpu%%:*} bytes=${cpu#*:}
  head=$(hex "$path" 0 $((${#magic} / 2)))
  if [[ $head != "$magic" ]]; then
    fail "$path: starts with $head, expected $magic"
  elif [[ -n $cpu ]] && [[ $(hex "$path" "$offset" $((${#bytes} / 2))) != "$bytes" ]]; then
    fail "$path: CPU field at offset $offset is not $bytes"
  else
    ok "$path: magic $magic${cpu:+, CPU field $bytes}"
  fi
}

host_binary() {
  case "$(uname -s) $(uname -m)" in
    "Linux x86_64") echo chat-linux-x64 ;;
    "Linux aarch64") echo chat-linux-arm64 ;;
    "Darwin x86_64") echo chat-darwin-x64 ;;
    "Darwin arm64") echo chat-darwin-arm64 ;;
  esac
}

if [[ ${1:-} != --no-build ]]; then
  started=$SECONDS
  if ! bun run build:all; then
    echo "FAIL  bun run build:all"
    exit 1
  fi
  echo "built in $((SECONDS - started))s"
fi

for entry in "${targets[@]}"; do
  IFS='|' read -r name described magic cpu <<<"$entry"
  path="dist/$name"
  if [[ ! -f $path ]]; then
    fail "$path is missing"
    continue
  fi
  [[ -x $path ]] || fail "$path is not executable"
  check_format "$path" "$described" "$magic" "$cpu"
  grep -q "^[0-9a-f]\{64\}  $name\$" dist/SHA256SUMS || fail "dist/SHA256SUMS has no entry for $name"
done

if (cd dist && sha256sum -c SHA256SUMS); then ok "sha256sum -c SHA256SUMS"; else fail "sha256sum -c SHA256SUMS"; fi

version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json)
host=$(host_binary)
if [[ -n $host ]]; then
  said=$(env -i "dist/$host" --version 2>&1)
  if [[ $said == "$version" ]]; then ok "dist/$host --version: $said"; else fail "dist/$host --version printed '$said', expected '$version'"; fi
fi

if ((problems > 0)); then
  echo "release check: $problems problem(s)"
  exit 1
fi
echo "release check: all ${#targets[@]} binaries and SHA256SUMS OK (version $version)"
