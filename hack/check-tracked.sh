#!/usr/bin/env bash
# Fails, naming each file, when the git repository of the current directory tracks an executable
# binary (ELF, Mach-O, PE, or a file with the executable bit that is not a #! script) or a file
# larger than TRACKED_MAX_BYTES (default 1 MiB). Binaries belong in releases and build output in
# .gitignore: one committed 46 MB build made every clone 46 MB heavier, forever.
#
# Usage: hack/check-tracked.sh [ALLOWED...]
# Each ALLOWED is a path or a glob (matched against the whole path, `*` crosses `/`) exempt from
# both checks; `make lint` passes the Makefile's TRACKED_ALLOW. Sizes and modes come from the
# index (what would be committed), content from the working tree.
set -euo pipefail
export LC_ALL=C
max=${TRACKED_MAX_BYTES:-1048576}

allowed() {
  local p
  for p in "${allow[@]}"; do
    # shellcheck disable=SC2053 # $p is a glob on purpose
    [[ $1 == $p ]] && return 0
  done
  return 1
}

# kind FILE: sets what to the kind of executable FILE is, or empty (no subshell: it runs per file).
kind() {
  local head=""
  what=""
  [[ -f $1 && ! -L $1 ]] || return 0
  # read stops at the first NUL; none of the magics below contains one.
  IFS= read -r -d '' -n 4 head <"$1" || true
  case $head in
    $'\x7fELF') what="an ELF executable" ;;
    $'\xcf\xfa\xed\xfe' | $'\xce\xfa\xed\xfe' | $'\xfe\xed\xfa\xcf' | $'\xfe\xed\xfa\xce') what="a Mach-O executable" ;;
    $'\xca\xfe\xba\xbe') what="a Mach-O universal binary (or Java class)" ;;
    MZ*) what="a PE (Windows) executable" ;;
  esac
}

allow=("$@")
bad=0
# ls-files -s: "<mode> <object> <stage>\t<path>"; cat-file adds the size: "<size> <mode> <path>".
while read -r size mode path; do
  [[ $size =~ ^[0-9]+$ ]] || continue # "missing": an intent-to-add entry has no object yet
  allowed "$path" && continue
  kind "$path"
  if [[ -z $what && $mode == 100755 ]]; then
    first=""
    [[ -f $path ]] && { IFS= read -r -n 2 first <"$path" || true; }
    [[ $first == '#!' ]] || what="executable (mode 755) but not a #! script"
  fi
  if [[ -n $what ]]; then
    echo "tracked file $path is $what: remove it (git rm --cached), or add it to TRACKED_ALLOW in the Makefile" >&2
    bad=1
  fi
  if ((size > max)); then
    echo "tracked file $path is $size bytes (limit $max): remove it, or add it to TRACKED_ALLOW in the Makefile" >&2
    bad=1
  fi
done < <(git -c core.quotePath=false ls-files -s |
  awk -F '\t' '{ split($1, m, " "); if (m[1] != "160000") print m[2] " " m[1] " " $2 }' |
  git cat-file --batch-check='%(objectsize) %(rest)')
exit "$bad"
