# bash completion for fwcert, fwwalk and fwextract (installed as completions/fwcert, completions/fwwalk and
# completions/fwextract: bash-completion loads the file named after the command).
#
# Subcommands, options and the values of options with a fixed set ("{table,json,csv,sarif}" or "(comma list): a, b"
# in --help) are read from the tool's own --help when Tab is pressed, so they follow the binary that is installed.
# Other options that take text complete file names (directories for fwextract -o), except those listed below.

# The --help of the command given as words (tool and subcommands).
_fwcert_help() { LC_ALL=C "$@" --help 2>/dev/null; }

# Subcommands listed in a --help text on stdin (indented two spaces under "Subcommands:").
_fwcert_subcommands() {
  awk '/^Subcommands:/ {on = 1; next} on && /^[^ ]/ {on = 0} on && /^  [a-z][a-z0-9-]*( |$)/ {print $1}'
}

# Options listed in a --help text on stdin: "  -j,--jobs INT   ..." gives -j and --jobs.
_fwcert_options() {
  sed -nE 's/^ {1,10}(-[[:alnum:]])?,?(--[[:alnum:]][[:alnum:]-]*)?([ {=].*)?$/\1 \2/p' | tr ' ' '\n' | grep -v '^$'
}

# The help line of option $1 in a --help text on stdin (empty for an option that is not listed).
_fwcert_option_line() {
  awk -v opt="$1" '/^ +-/ {
      split($1, names, ","); for (i in names) { sub(/[{=].*/, "", names[i]); if (names[i] == opt) { print; exit } } }'
}

_fwcert() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} cword=$COMP_CWORD
  # --opt=value: bash splits at '=' (COMP_WORDBREAKS), so the option is two words back.
  if [[ $cur == = ]]; then
    cur=""
  elif [[ $prev == = && $cword -ge 2 ]]; then
    prev=${COMP_WORDS[cword - 2]}
  fi
  local -a cmd=("${COMP_WORDS[0]}")
  local tool=${COMP_WORDS[0]##*/}
  local help subs i w
  help=$(_fwcert_help "${cmd[@]}")
  # The subcommand path typed so far: each word that names a subcommand of the path before it.
  for ((i = 1; i < cword; i++)); do
    w=${COMP_WORDS[i]}
    [[ $w == -* ]] && continue
    subs=$(_fwcert_subcommands <<<"$help")
    if [[ -n $subs ]] && grep -qxF -- "$w" <<<"$subs"; then
      cmd+=("$w")
      help=$(_fwcert_help "${cmd[@]}")
    fi
  done

  # The value of an option: its fixed set, the comma lists, nothing for a number, else a file name.
  if [[ $prev == -* ]]; then
    local line
    line=$(_fwcert_option_line "$prev" <<<"$help")
    if [[ -n $line && $line =~ ^\ +[^\ ]+\ +([A-Z]+) ]]; then
      local type=${BASH_REMATCH[1]} values=""
      if [[ $line =~ :\{([^}]*)\} ]]; then
        values=${BASH_REMATCH[1]//,/ }
      elif [[ $line =~ \(comma\ list[^\)]*\):\ ([a-z0-9, -]+)$ ]]; then
        # "... (comma list, repeatable): expired, not-yet-valid, ..." (--fail-on, --status)
        values=${BASH_REMATCH[1]//,/ }
      fi
      if [[ -n $values ]]; then
        # A comma list: complete the item after the last comma.
        local done_part=""
        [[ $cur == *,* ]] && done_part=${cur%,*},
        mapfile -t COMPREPLY < <(compgen -P "$done_part" -W "$values" -- "${cur##*,}")
        return
      fi
      case $type in INT | UINT | FLOAT | NUMBER) COMPREPLY=(); return ;; esac
      # Text that is not a file name: clocks, dates, shard numbers, offsets, passwords, signature types.
      case $prev in
        --now | --until | --expiring-before | --shard | --alarm | --cramfs-at | --pkcs12-password | -t | --type)
          COMPREPLY=()
          return
          ;;
      esac
      compopt -o filenames 2>/dev/null
      if [[ $tool == fwextract && ($prev == -o || $prev == --output) ]]; then
        mapfile -t COMPREPLY < <(compgen -d -- "$cur")
      else
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      fi
      return
    fi
  fi

  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_fwcert_options <<<"$help")" -- "$cur")
    return
  fi
  subs=$(_fwcert_subcommands <<<"$help")
  if [[ -n $subs ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$subs" -- "$cur")
    return
  fi
  compopt -o filenames 2>/dev/null
  mapfile -t COMPREPLY < <(compgen -f -- "$cur")
}

complete -F _fwcert fwcert fwwalk fwextract
