#!/usr/bin/env bash
# scripts/image and the Dockerfile stay in lockstep: scripts/image reads the Dockerfile's runtime
# stage, so the real Dockerfile must be readable, and each kind of drift must be refused with a
# message that names it (instead of an image that silently differs from `docker build`'s).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/partop-image-checks-XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
check() { # NAME EXPECTED_RC PATTERN DOCKERFILE
  local rc=0 out
  out=$("$root/scripts/image" --check "$4" 2>&1) || rc=$?
  if [[ $rc -eq $2 ]] && grep -qE -- "$3" <<<"$out"; then
    echo "ok: $1"
  else
    echo "FAILED: $1 (exit $rc, expected $2, output: $out)"
    failures=$((failures + 1))
  fi
}
variant() { # NAME SED-SCRIPT: the Dockerfile edited by SED-SCRIPT
  sed -e "$2" "$root/Dockerfile" >"$work/$1"
  echo "$work/$1"
}

check "the Dockerfile is reproduced, as user 65532:65532" 0 'user: 65532:65532' "$root/Dockerfile"
check "its binary is the one scripts/build makes" 0 'binary: build/operator/partop -> /usr/local/bin/partop' \
  "$root/Dockerfile"
check "the runtime packages are read" 0 'packages: .*libpqxx-6.4' "$root/Dockerfile"
check "an instruction scripts/image does not reproduce is refused" 1 "does not reproduce 'ENV'" \
  "$(variant env '$a ENV LANG=C.UTF-8')"
check "a named user is refused (runAsNonRoot needs a numeric one)" 1 "USER 'nobody'" \
  "$(variant user 's/^USER .*/USER nobody/')"
check "another base image is refused" 1 "runtime base 'debian:bookworm'" \
  "$(variant base 's/^FROM debian:bookworm-slim$/FROM debian:bookworm/')"
check "a COPY of something other than the build stage's file is refused" 1 "unsupported COPY" \
  "$(variant copy 's|^COPY --from=build .*|COPY partop /usr/local/bin/partop|')"
[[ $failures -eq 0 ]] || { echo "$failures image check(s) failed"; exit 1; }
