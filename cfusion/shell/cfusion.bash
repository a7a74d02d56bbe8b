# cfusion for bash (4.0 or later), loaded by: eval "$(cfusion shell-init bash)" in ~/.bashrc
#   @KEY_LABEL@  sends the line to `cfusion gen --shell` as the request and puts the best candidate in its place,
#            cursor at the end; pressed again on that candidate, it shows the next one (and wraps around).
#   @RESTORE_KEY_LABEL@  puts the request back; readline's undo (Ctrl-_ or Ctrl-X Ctrl-U) does too.
# Nothing is ever run: the binding only edits the line, and Enter stays yours. A candidate that cfusion finds
# destructive ends in a comment that says so (`# cfusion: deletes files`). When cfusion has no confident answer, the
# line stays as typed and its message is printed above the prompt. The first request of a session starts cfusion's
# server, which takes a few seconds (Ctrl-C gives up); later ones are quick.
# CFUSION_BIN: the cfusion to run (default: cfusion on PATH); CFUSION_GEN_OPTS: more `cfusion gen` options, e.g.
# "-k 3". Both are read at each press. Other keys: cfusion shell-init bash --key ctrl-x,ctrl-t --restore-key alt-R
# key notation: readline

_cfusion_request=''    # the text the candidates answer
_cfusion_inserted=''   # the candidate last put on the line: pressing the key on it shows the next one
_cfusion_candidates=()
_cfusion_index=0

_cfusion_say() {
  # bash redraws the prompt and the line below it; cfusion's own messages may name it already
  if [[ $1 == cfusion:* ]]; then printf '%s\n' "$1" >&2; else printf 'cfusion: %s\n' "$1" >&2; fi
}

_cfusion_put() {
  READLINE_LINE=$1
  _cfusion_inserted=$1
  # Past the end is clamped to the end, whether this bash counts READLINE_POINT in bytes or in characters.
  READLINE_POINT=$((${#1} * 4))
}

_cfusion_complete() {
  local n=${#_cfusion_candidates[@]}
  if [[ -n $_cfusion_inserted && $READLINE_LINE == "$_cfusion_inserted" ]] && ((n > 0)); then
    _cfusion_index=$(((_cfusion_index + 1) % n))
    _cfusion_put "${_cfusion_candidates[_cfusion_index]}"
    return
  fi
  if [[ -z ${READLINE_LINE//[[:space:]]/} ]]; then
    _cfusion_say "type a request first (what the command should do), then press @KEY_LABEL@"
    return
  fi
  local bin=${CFUSION_BIN:-cfusion}
  if ! type -P -- "$bin" >/dev/null; then
    _cfusion_say "cannot find the command '$bin' (set CFUSION_BIN to the cfusion to run)"
    return
  fi
  local out err rc line msg=''
  out=$(mktemp "${TMPDIR:-/tmp}/cfusion-out.XXXXXX") && err=$(mktemp "${TMPDIR:-/tmp}/cfusion-err.XXXXXX") || {
    _cfusion_say "cannot create a temporary file in ${TMPDIR:-/tmp}"
    return
  }
  local -a opts=() cands=()
  read -r -a opts <<<"${CFUSION_GEN_OPTS-}"
  # Ctrl-C stops cfusion but not this function, so the line survives (readline would drop it) and the files go.
  # When a signal ends cfusion, bash puts back the terminal modes it keeps for commands: readline's are saved here.
  local int_trap tty
  int_trap=$(trap -p INT)
  tty=$(stty -g 2>/dev/null)
  trap ':' INT
  # Files, not a pipe: the server that `--shell` leaves running must not hold this press open. The request is one
  # quoted argument after `--`: the shell never expands it, whatever it holds.
  "$bin" gen --shell "${opts[@]}" -- "$READLINE_LINE" >"$out" 2>"$err" </dev/null
  rc=$?
  if [[ -n $int_trap ]]; then eval "$int_trap"; else trap - INT; fi
  ((rc > 128)) && [[ -n $tty ]] && stty "$tty" 2>/dev/null
  while IFS= read -r line || [[ -n $line ]]; do
    [[ -n ${line//[[:space:]]/} ]] && cands+=("$line")
  done <"$out"
  while IFS= read -r line || [[ -n $line ]]; do
    [[ -n ${line//[[:space:]]/} ]] && msg=$line
  done <"$err"
  rm -f -- "$out" "$err"
  if ((rc != 0 || ${#cands[@]} == 0)); then
    if ((rc == 130)); then
      msg="interrupted"
    elif [[ -z $msg ]]; then
      if ((rc == 0)); then msg="no candidate"; else msg="'$bin gen --shell' failed with exit status $rc"; fi
    fi
    _cfusion_say "$msg"
    return
  fi
  _cfusion_request=$READLINE_LINE
  _cfusion_candidates=("${cands[@]}")
  _cfusion_index=0
  _cfusion_put "${cands[0]}"
}

_cfusion_restore() {
  if [[ -n $_cfusion_inserted && $READLINE_LINE == "$_cfusion_inserted" ]]; then
    _cfusion_put "$_cfusion_request"
    _cfusion_inserted=''
  else
    _cfusion_say "nothing to put back: @RESTORE_KEY_LABEL@ restores the request while its candidate is on the line"
  fi
}

if [[ $- == *i* ]]; then
  for _cfusion_map in emacs vi-insert vi-command; do
    bind -m "$_cfusion_map" -x '"@KEY@": _cfusion_complete'
    bind -m "$_cfusion_map" -x '"@RESTORE_KEY@": _cfusion_restore'
  done
  unset _cfusion_map
fi
