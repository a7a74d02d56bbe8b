# cfusion for fish (3.1 or later), loaded by: cfusion shell-init fish | source   in ~/.config/fish/config.fish
#   @KEY_LABEL@  sends the line to `cfusion gen --shell` as the request and puts the best candidate in its place,
#            cursor at the end; pressed again on that candidate, it shows the next one (and wraps around).
#   @RESTORE_KEY_LABEL@  puts the request back; fish's undo (Ctrl-Z or Ctrl-_) does too.
# Nothing is ever run: the binding only edits the line, and Enter stays yours. A candidate that cfusion finds
# destructive ends in a comment that says so (`# cfusion: deletes files`). When cfusion has no confident answer, the
# line stays as typed and its message is printed above the prompt. The first request of a session starts cfusion's
# server, which takes a few seconds (Ctrl-C gives up); later ones are quick.
# CFUSION_BIN: the cfusion to run (default: cfusion on PATH); CFUSION_GEN_OPTS: more `cfusion gen` options, e.g.
# "-k 3". Both are read at each press. Other keys: cfusion shell-init fish --key ctrl-x,ctrl-t --restore-key alt-R
# The keys are bound in the default (emacs or vi normal) and insert modes.
# key notation: fish

set -g _cfusion_request ''  # the text the candidates answer
set -g _cfusion_inserted '' # the candidate last put on the line: pressing the key on it shows the next one
set -g _cfusion_candidates
set -g _cfusion_index 1
set -g _cfusion_files # this press's temporary files, while cfusion runs

function _cfusion_say
    # fish has no message line: print above the prompt, then redraw the prompt and the line
    printf '\n%s\n' (string replace -r '^(cfusion: )?' 'cfusion: ' -- $argv[1]) >&2
    commandline -f repaint
end

function _cfusion_put
    commandline -r -- $argv[1]
    commandline -C (string length -- $argv[1])
    set -g _cfusion_inserted $argv[1]
end

function _cfusion_complete
    set -l line (commandline | string collect)
    set -l n (count $_cfusion_candidates)
    if test -n "$_cfusion_inserted"; and test "$line" = "$_cfusion_inserted"; and test $n -gt 0
        set -g _cfusion_index (math $_cfusion_index % $n + 1)
        _cfusion_put $_cfusion_candidates[$_cfusion_index]
        return
    end
    if not string match -qr '\S' -- "$line"
        _cfusion_say "type a request first (what the command should do), then press @KEY_LABEL@"
        return
    end
    set -l bin cfusion
    set -q CFUSION_BIN[1]; and test -n "$CFUSION_BIN"; and set bin $CFUSION_BIN
    if not command -q -- $bin
        _cfusion_say "cannot find the command '$bin' (set CFUSION_BIN to the cfusion to run)"
        return
    end
    # Ctrl-C cancels this function before it can remove its files: the next press does.
    test -n "$_cfusion_files"; and command rm -f -- $_cfusion_files
    set -l tmp /tmp
    set -q TMPDIR[1]; and test -n "$TMPDIR"; and set tmp $TMPDIR
    set -l out (mktemp $tmp/cfusion-out.XXXXXX)
    and set -l err (mktemp $tmp/cfusion-err.XXXXXX)
    or begin
        _cfusion_say "cannot create a temporary file in $tmp"
        return
    end
    set -g _cfusion_files $out $err
    set -l opts (string split -n ' ' -- "$CFUSION_GEN_OPTS")
    # Files, not a pipe: the server that `--shell` leaves running must not hold this press open. The request is one
    # argument after `--`: fish never splits or expands a variable's value.
    command $bin gen --shell $opts -- $line >$out 2>$err </dev/null
    set -l rc $status
    set -l cands (string match -rv '^\s*$' <$out)
    set -l errs (string match -rv '^\s*$' <$err)
    command rm -f -- $out $err
    set -g _cfusion_files
    if test $rc -ne 0; or not set -q cands[1]
        set -l msg "no candidate"
        if set -q errs[1]
            set msg $errs[-1]
        else if test $rc -ne 0
            set msg "'$bin gen --shell' failed with exit status $rc"
        end
        _cfusion_say $msg
        return
    end
    set -g _cfusion_request $line
    set -g _cfusion_candidates $cands
    set -g _cfusion_index 1
    _cfusion_put $cands[1]
end

function _cfusion_restore
    set -l line (commandline | string collect)
    if test -n "$_cfusion_inserted"; and test "$line" = "$_cfusion_inserted"
        _cfusion_put $_cfusion_request
        set -g _cfusion_inserted ''
    else
        _cfusion_say "nothing to put back: @RESTORE_KEY_LABEL@ restores the request while its candidate is on the line"
    end
end

if status is-interactive
    # fish 4 names keys (alt-m, ctrl-x,ctrl-t); fish 3 reads escape sequences (\em, \cx\ct)
    set -l major (string match -r '^\d+' -- $version)
    for _cfusion_mode in default insert
        if test "$major" -ge 4
            bind -M $_cfusion_mode '@KEY_LABEL@' _cfusion_complete
            bind -M $_cfusion_mode '@RESTORE_KEY_LABEL@' _cfusion_restore
        else
            bind -M $_cfusion_mode @KEY@ _cfusion_complete
            bind -M $_cfusion_mode @RESTORE_KEY@ _cfusion_restore
        end
    end
    set -e _cfusion_mode
end
