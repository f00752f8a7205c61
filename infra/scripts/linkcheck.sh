#!/usr/bin/env bash
# linkcheck.sh: every link target ](…) in README.md and docs/*.md must be a
# relative path to a file the repository tracks, and an #anchor a heading of
# that file (GitHub's slugs), so that the docs read the same in any clone.
# make lint runs it.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
root=$(pwd -P)
fail=0
n=0
for f in README.md docs/*.md; do
  dir=$(dirname "$f")
  while IFS= read -r t; do
    n=$((n + 1))
    case "$t" in
      http://* | https://* | /* | mailto:*) echo "linkcheck: $f -> $t leaves the repository"; fail=1; continue ;;
    esac
    p=${t%%#*}
    anchor=${t#*#}
    [ "$anchor" = "$t" ] && anchor=
    [ -n "$p" ] || p=$(basename "$f")
    full=$(realpath -m "$dir/$p")
    case "$full" in "$root"/*) ;; *) echo "linkcheck: $f -> $t leaves the repository"; fail=1; continue ;; esac
    if [ ! -f "$full" ]; then echo "linkcheck: $f -> $t: no such file"; fail=1; continue; fi
    if ! git ls-files --error-unmatch "$full" >/dev/null 2>&1; then echo "linkcheck: $f -> $t: not tracked by git"; fail=1; fi
    if [ -n "$anchor" ] && ! grep -E '^#+ ' "$full" | sed -E 's/^#+ //' | tr 'A-Z' 'a-z' |
      sed -E 's/[^a-z0-9 _-]//g; s/ /-/g' | grep -qx -- "$anchor"; then
      echo "linkcheck: $f -> $t: no such heading"
      fail=1
    fi
  done < <(grep -oE '\]\([^)]+\)' "$f" | sed -E 's/^\]\(//; s/\)$//')
done
echo "linkcheck: $n links in README.md and docs/, $([ $fail = 0 ] && echo 'all resolve' || echo FAILED)"
exit $fail
