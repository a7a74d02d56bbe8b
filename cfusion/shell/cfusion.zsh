# cfusion for zsh, loaded by: eval "$(cfusion shell-init zsh)" in ~/.zshrc
#   @KEY_LABEL@  sends the line to `cfusion gen --shell` as the request and puts the best candidate in its place,
#            cursor at the end; pressed again on that candidate, it shows the next one (and wraps around).
#   @RESTORE_KEY_LABEL@  puts the request back; zle's undo (Ctrl-_ or Ctrl-X u) does too.
# Nothing is ever run: the widgets only edit the line, and Enter stays yours. A candidate that cfusion finds
# destructive ends in a comment that says so (`# cfusion: deletes files`). When cfusion has no confident answer, the
# line stays as typed and its message shows under it. The first request of a session starts cfusion's server, which
# takes a few seconds (Ctrl-C gives up); later ones are quick.
# CFUSION_BIN: the cfusion to run (default: cfusion on PATH); CFUSION_GEN_OPTS: more `cfusion gen` options, e.g.
# "-k 3". Both are read at each press. Other keys: cfusion shell-init zsh --key ctrl-x,ctrl-t --restore-key alt-R
# The widgets bind in the emacs, viins and vicmd keymaps, so `bindkey -e` or `bindkey -v` may come before or after.
# key notation: zle

typeset -g _cfusion_request=''   # the text the candidates answer
typeset -g _cfusion_inserted=''  # the candidate last put on the line: pressing the key on it shows the next one
typeset -ga _cfusion_candidates=()
typeset -gi _cfusion_index=1

_cfusion_say() {
  # under the line until the next key; cfusion's own messages may name it already
  if [[ $1 == cfusion:* ]]; then zle -M "$1"; else zle -M "cfusion: $1"; fi
}

_cfusion_put() {
  BUFFER=$1
  CURSOR=$#BUFFER
  _cfusion_inserted=$1
}

_cfusion_complete() {
  emulate -L zsh  # the user's options (ksharrays, shwordsplit, ...) must not change how this reads
  setopt extendedglob
  local n=$#_cfusion_candidates
  if [[ -n $_cfusion_inserted && $BUFFER == "$_cfusion_inserted" ]] && ((n > 0)); then
    _cfusion_index=$((_cfusion_index % n + 1))
    _cfusion_put "$_cfusion_candidates[_cfusion_index]"
    return 0
  fi
  if [[ -z ${BUFFER//[[:space:]]/} ]]; then
    _cfusion_say "type a request first (what the command should do), then press @KEY_LABEL@"
    return 0
  fi
  local bin=${CFUSION_BIN:-cfusion}
  if ! (($+commands[$bin])) && [[ $bin != */* || ! -x $bin || -d $bin ]]; then
    _cfusion_say "cannot find the command '$bin' (set CFUSION_BIN to the cfusion to run)"
    return 0
  fi
  local out err rc msg
  out=$(mktemp "${TMPDIR:-/tmp}/cfusion-out.XXXXXX") && err=$(mktemp "${TMPDIR:-/tmp}/cfusion-err.XXXXXX") || {
    _cfusion_say "cannot create a temporary file in ${TMPDIR:-/tmp}"
    return 0
  }
  # Ctrl-C stops cfusion but not this widget, so the line survives (zle would drop it) and the files go; the trap
  # ends with the widget (emulate -L sets localtraps).
  trap ':' INT
  # Files, not a pipe: the server that `--shell` leaves running must not hold this press open. The request is one
  # quoted argument after `--`: the shell never expands it, whatever it holds.
  "$bin" gen --shell ${=CFUSION_GEN_OPTS} -- "$BUFFER" >$out 2>$err </dev/null
  rc=$?
  local -a cands errs
  cands=(${(f)"$(<$out)"})
  cands=(${cands:#[[:space:]]#})
  errs=(${(f)"$(<$err)"})
  errs=(${errs:#[[:space:]]#})
  rm -f -- $out $err
  if ((rc != 0 || $#cands == 0)); then
    msg=${errs[-1]-}
    if ((rc == 130)); then
      msg="interrupted"
      zle reset-prompt  # the terminal moved to a new row on Ctrl-C: draw the prompt and the line there
    elif [[ -z $msg ]]; then
      if ((rc == 0)); then msg="no candidate"; else msg="'$bin gen --shell' failed with exit status $rc"; fi
    fi
    _cfusion_say "$msg"
    return 0
  fi
  _cfusion_request=$BUFFER
  _cfusion_candidates=("${cands[@]}")
  _cfusion_index=1
  _cfusion_put "$cands[1]"
}

_cfusion_restore() {
  emulate -L zsh
  if [[ -n $_cfusion_inserted && $BUFFER == "$_cfusion_inserted" ]]; then
    _cfusion_put "$_cfusion_request"
    _cfusion_inserted=''
  else
    _cfusion_say "nothing to put back: @RESTORE_KEY_LABEL@ restores the request while its candidate is on the line"
  fi
}

if [[ -o interactive ]]; then
  zle -N _cfusion_complete
  zle -N _cfusion_restore
  () {
    local map
    for map in emacs viins vicmd; do
      bindkey -M $map '@KEY@' _cfusion_complete
      bindkey -M $map '@RESTORE_KEY@' _cfusion_restore
    done
  }
fi
