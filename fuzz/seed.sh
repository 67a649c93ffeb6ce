#!/usr/bin/env bash
# Fill fuzz/corpus/<target>/ with the messages of the codec vectors
# (proto-tests/wire/vectors/**/*.json), each prefixed with the context byte that
# fuzz_targets/ctx.rs reads: bit 0 = 2-octet AS, bit 1 = ADD-PATH IPv4, bit 2 = ADD-PATH IPv6,
# bit 3 = extended messages. Needs only bash, grep, sed and tr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vectors="$here/../proto-tests/wire/vectors"
targets=(decode roundtrip)

n=0
while IFS= read -r -d '' file; do
  flat=$(tr -d '\n' < "$file")
  hex=$(printf '%s' "$flat" | grep -o '"hex"[[:space:]]*:[[:space:]]*"[^"]*"' | head -n 1 | sed 's/.*:[[:space:]]*"//; s/"$//' | tr -cd '0-9a-fA-F')
  [ -n "$hex" ] || { echo "seed.sh: no hex in $file" >&2; continue; }
  ctx=$(printf '%s' "$flat" | grep -o '"ctx"[[:space:]]*:[[:space:]]*{[^}]*}' | head -n 1 || true)
  sel=0
  has() { printf '%s' "$ctx" | grep -Eq "$1"; }
  if has '"as4"[[:space:]]*:[[:space:]]*false'; then sel=$((sel | 1)); fi
  if has '"ipv4-unicast"'; then sel=$((sel | 2)); fi
  if has '"ipv6-unicast"'; then sel=$((sel | 4)); fi
  if has '"ext_msg"[[:space:]]*:[[:space:]]*true'; then sel=$((sel | 8)); fi
  name=$(printf '%s' "${file#"$vectors"/}" | tr '/' '_')
  name=${name%.json}
  # \xHH escapes for printf: the context byte, then the message.
  escaped=$(printf '%02x%s' "$sel" "$hex" | sed 's/../\\x&/g')
  for t in "${targets[@]}"; do
    mkdir -p "$here/corpus/$t"
    printf '%b' "$escaped" > "$here/corpus/$t/$name"
  done
  n=$((n + 1))
done < <(find "$vectors" -name '*.json' -print0 | sort -z)
echo "seed.sh: wrote $n seeds into each of: ${targets[*]} (fuzz/corpus/)"
