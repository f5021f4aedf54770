#!/usr/bin/env bash
# What help2man reads in place of TOOL --help: the tool's own --help, then the --help of every subcommand at every
# depth, so that fwcert(1) documents every subcommand from the binary itself and stays in step with it. Each
# subcommand becomes a section of its own ("*fwcert scan*" is help2man's mark for a custom section) and adds its usage
# line to the synopsis; the footer every subcommand repeats from the top-level help is left out; headings help2man
# would take for its own sections (Options:, Examples:, ...) are named after the subcommand; "-h,--help" gets a space
# after the comma so that help2man sets both spellings in bold; in a list of subcommands, each keeps the first
# paragraph of its description.
# Usage: combined-help.sh TOOL --help|--version   (help2man runs it with one of the two)
set -euo pipefail
tool=$1
case "${2:-}" in
  --version) exec "$tool" --version ;;
  --help) ;;
  *) echo "usage: combined-help.sh TOOL --help|--version" >&2; exit 2 ;;
esac
name=$(basename "$tool")

# The names listed under "Subcommands:" (indented two spaces; their descriptions are indented further).
subcommands() {
  awk '/^Subcommands:/ {on = 1; next} on && /^[^ ]/ {on = 0} on && /^  [a-z][a-z0-9-]*( |$)/ {print $1}'
}

# Every subcommand path ("scan", "catalog", "catalog add", ...), parents before their children.
paths=()
walk() {  # walk PREFIX...
  local sub
  for sub in $("$tool" "$@" --help | subcommands); do
    paths+=("${*:+$* }$sub")
    # shellcheck disable=SC2086  # the path is words on purpose
    walk "$@" $sub
  done
}
walk

top=$("$tool" --help)
mapfile -t top_lines <<<"$top"

# The usage line of each subcommand, as help2man's "or:" continuation of the top-level usage.
synopsis=""
for p in "${paths[@]}"; do
  # shellcheck disable=SC2086
  usage=$("$tool" $p --help | sed -n 's/^Usage: //p' | head -n 1)
  synopsis+="   or: $usage"$'\n'
done

# In a "Subcommands:" list, each subcommand keeps the first paragraph of its description (its section has the rest).
brief_subcommands() {
  awk '/^Subcommands:/ {on = 1; skip = 0; print; next}
       on && /^[^ ]/ {on = 0; skip = 0}
       on && /^  [a-z]/ {skip = 0}
       on && /^ +$/ {skip = 1}
       !skip {print}'
}
space_options() { sed -E 's/^( {1,10}-[[:alnum:]]),(--[^ ]+( [^ ]+)*)   /\1, \2  /'; }

# The top-level help, the subcommands' usage lines right after its own. Its "Examples:" paragraph goes last: help2man
# starts its EXAMPLES section there, and would put everything after it (positionals, exit status) in that section.
examples=$(awk '/^Examples: *$/ {on = 1} on && /^$/ {on = 0} on {print}' <<<"$top")
in_examples=0
while IFS= read -r line; do
  [[ $line =~ ^Examples:\ *$ ]] && in_examples=1
  [[ -z $line ]] && in_examples=0
  ((in_examples)) && continue
  printf '%s\n' "$line"
  if [[ $line == Usage:* ]]; then printf '%s' "$synopsis"; fi
done <<<"$top" | brief_subcommands | space_options

for p in "${paths[@]}"; do
  # shellcheck disable=SC2086
  mapfile -t lines < <("$tool" $p --help)
  # Leave out the trailing lines it shares with the top-level help (the common footer).
  i=${#lines[@]}
  j=${#top_lines[@]}
  while ((i > 0 && j > 0)) && [[ ${lines[i - 1]} == "${top_lines[j - 1]}" ]]; do
    i=$((i - 1))
    j=$((j - 1))
  done
  printf '\n*%s %s*\n' "$name" "$p"
  for ((k = 0; k < i; k++)); do
    line=${lines[k]}
    if [[ $line =~ ^(Options|Environment|Files|Examples):\ *$ ]]; then
      line="${BASH_REMATCH[1]} of $name $p:"
    elif [[ $line == Usage:* ]]; then
      line=$'\n'"$line"$'\n'
    fi
    printf '%s\n' "$line"
  done | brief_subcommands | space_options
done

if [[ -n $examples ]]; then printf '\n%s\n' "$examples" | space_options; fi
