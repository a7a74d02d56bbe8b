"""`cfusion shell-init`: the printed snippets, then each one loaded into a real bash, zsh and fish under tmux. A fake
cfusion (known candidates, its argv logged, exit 4 or 1 on demand) makes the key's behaviour fast and exact; one test
per shell asks the real `cfusion gen --shell`. What the key must never do is run the line: every test checks that."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from conftest import CFUSION, cfusion

from cfusion.errors import UsageError
from cfusion.shell import DEFAULT_KEY, DEFAULT_RESTORE_KEY, parse_key, shells, snippet

SHELLS = ["bash", "zsh", "fish"]
PROMPT = "cf> "
KEY, RESTORE, UNDO = "M-m", "M-M", "C-_"  # the defaults, as tmux sends them; C-_ is undo in all three shells
# Each shell started bare, in emacs mode, its prompt set to PROMPT, the snippet loaded, then READY printed.
START = {
    "bash": ["bash", "--norc", "--noprofile"],
    "zsh": ["zsh", "-f"],
    "fish": ["fish"],  # with a fresh XDG_CONFIG_HOME: a new user's default bindings (--no-config loads fewer)
}
SETUP = {
    "bash": ["PS1='cf> '; PROMPT_COMMAND=", 'eval "$(cfusion shell-init bash {opts})"'],
    "zsh": ["bindkey -e; PS1='cf> '; RPS1=", 'eval "$(cfusion shell-init zsh {opts})"'],
    "fish": [
        "function fish_prompt; printf 'cf> '; end; function fish_right_prompt; end; set -g fish_greeting",
        "set -g fish_autosuggestion_enabled 0; cfusion shell-init fish {opts} | source",
    ],
}
# Prints the number of history entries (bash, zsh: the current command's number) into a file.
HISTORY = {"bash": "echo $HISTCMD > {file}", "zsh": "print $HISTCMD > {file}", "fish": "history | count > {file}"}
# The request: quotes, `$`, backticks, `;`, `!!`, a glob. Typed, never run: the files it would touch must not appear.
TRICKY = """say "hi" $HOME `touch {x}/BACKTICK`; echo 'a  b' $(touch {x}/DOLLAR) !! *.txt"""
NO_ANSWER = "cfusion: no confident answer: say which files"  # gen's message names cfusion: not once more
FAILED = "Error: no model is installed (hint: pip install cfusion)"

FAKE = r"""#!/bin/sh
# A fake `cfusion`: logs its arguments (unit-separated, one record a call), answers as the file `mode` says.
dir=$(dirname "$0")
{ for a in "$@"; do printf '%s\037' "$a"; done; printf '\036'; } >> "$dir/argv.log"
case $(cat "$dir/mode" 2>/dev/null) in
  none) echo "NO_ANSWER" >&2; exit 4 ;;
  slow) exec sleep 60 ;;
  fail) echo "3 candidate(s) in 1 ms" >&2; echo "FAILED" >&2; exit 1 ;;
  *) cat "$dir/candidates"; echo "3 candidate(s) in 1 ms (10 steps on cpu)" >&2 ;;
esac
""".replace("NO_ANSWER", NO_ANSWER).replace("FAILED", FAILED)


def missing(shell: str) -> str | None:
    if shutil.which("tmux") is None:
        return "tmux is not installed (.ci/run installs it)"
    if shutil.which(shell) is None:
        return f"{shell} is not installed (.ci/run installs it)"
    return None


class Terminal:
    """One shell in a detached tmux session on a private socket: type, press keys, read the line the cursor is on."""

    def __init__(self, shell: str, home: Path, env: dict[str, str], opts: str = ""):
        self.shell = shell
        self.socket = f"cfusion-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.home = home
        base = {
            "HOME": str(home),
            "PATH": os.pathsep.join([str(Path(CFUSION).parent), os.environ.get("PATH", "/usr/bin:/bin")]),
            "TERM": "screen",
            "LANG": "C.UTF-8",
            "TMPDIR": str(home),
            "HISTFILE": str(home / "history"),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_RUNTIME_DIR": str(home / "run"),
        }
        for name in ("config", "data", "run"):
            (home / name).mkdir(mode=0o700, exist_ok=True)
        command = ["env", "-i", *(f"{k}={v}" for k, v in {**base, **env}.items()), *START[shell]]
        self.tmux("new-session", "-d", "-s", "t", "-x", "400", "-y", "50", "-c", str(home), shlex.join(command))
        self.socket_path = Path(self.tmux("display-message", "-p", "#{socket_path}").strip())
        try:
            for line in SETUP[shell]:
                self.type(line.format(opts=opts))
                self.press("Enter")
            self.type("echo READY")
            self.press("Enter")
            self.wait(lambda: "\nREADY" in self.screen() and self.line() == "", "the shell to start")
        except BaseException:
            self.close()
            raise

    def tmux(self, *args: str) -> str:
        proc = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args], capture_output=True, text=True)
        assert proc.returncode == 0, f"tmux {' '.join(args)}: {proc.stderr}"
        return proc.stdout

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", "t", "-l", text)

    def press(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "t", *keys)

    def screen(self, history: bool = False) -> str:
        return self.tmux("capture-pane", "-p", "-t", "t", *(["-S", "-"] if history else []))

    def cursor(self) -> tuple[int, int]:
        x, y = self.tmux("display-message", "-p", "-t", "t", "#{cursor_x} #{cursor_y}").split()
        return int(x), int(y)

    def line(self) -> str | None:
        """The command line's text (the row the cursor is on, after the prompt); None if no prompt is there."""
        row = self.screen().split("\n")[self.cursor()[1]]
        return row[len(PROMPT) :].rstrip() if row.startswith(PROMPT.rstrip()) else None

    def wait(self, ready, what: str, timeout: float = 10.0) -> None:
        end = time.monotonic() + timeout
        while not ready():
            if time.monotonic() > end:
                raise AssertionError(f"{self.shell}: waited {timeout:.0f} s for {what}; the screen:\n{self.screen()}")
            time.sleep(0.05)

    def wait_line(self, text: str, timeout: float = 10.0) -> None:
        """Waits until the line reads `text` with the cursor at its end."""
        self.wait(lambda: self.line() == text and self.cursor()[0] == len(PROMPT) + len(text), repr(text), timeout)

    def settle(self, seconds: float = 0.3) -> None:
        """Time for a key that should change nothing to have done its worst."""
        time.sleep(seconds)

    def run(self, command: str) -> None:
        """Clears the line, then runs `command` and waits for the next prompt."""
        self.press("C-e", "C-u")
        self.wait_line("")
        before = self.prompts()
        self.type(command)
        self.press("Enter")
        self.wait(lambda: self.prompts() > before and self.line() == "", f"`{command}`")

    def prompts(self) -> int:
        return sum(row.startswith(PROMPT.rstrip()) for row in self.screen(history=True).split("\n"))

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
        self.socket_path.unlink(missing_ok=True)  # tmux leaves it behind


class Fake:
    """The fake cfusion's folder: its script, the candidates it prints, its mode, the calls it logged."""

    def __init__(self, folder: Path):
        folder.mkdir()
        self.bin = folder / "cfusion"
        self.bin.write_text(FAKE)
        self.bin.chmod(0o755)
        self.folder = folder
        self.x = folder / "x"  # where the candidates would write if they ran
        self.x.mkdir()
        self.candidates = [
            f"touch {self.x}/MARKER",
            f"find {self.x} -type d -empty -delete  # cfusion: deletes files",
            f'echo "third" > {self.x}/OUT',
        ]
        (folder / "candidates").write_text("\n".join(self.candidates) + "\n")
        self.mode("ok")

    def mode(self, mode: str) -> None:
        (self.folder / "mode").write_text(mode)

    def calls(self) -> list[list[str]]:
        log = self.folder / "argv.log"
        text = log.read_text() if log.exists() else ""
        return [record.split("\x1f")[:-1] for record in text.split("\x1e")[:-1]]

    def nothing_ran(self) -> None:
        assert sorted(p.name for p in self.x.iterdir()) == [], "a candidate or the request was run"


@pytest.fixture(params=SHELLS)
def term(request, tmp_path):
    """A shell with the default keys, its cfusion the fake."""
    reason = missing(request.param)
    if reason:
        pytest.skip(reason)
    fake = Fake(tmp_path / "fake")
    home = tmp_path / "home"
    home.mkdir()
    t = Terminal(request.param, home, {"CFUSION_BIN": str(fake.bin)})
    t.fake = fake
    yield t
    t.close()


def history_count(term: Terminal, name: str) -> int:
    file = term.home / name
    term.run(HISTORY[term.shell].format(file=file))
    return int(file.read_text().split()[0])


def test_the_key_puts_each_candidate_on_the_line_in_turn_and_runs_nothing(term):
    fake = term.fake
    before = history_count(term, "count1")
    request = TRICKY.format(x=fake.x)
    term.type(request)
    term.press(KEY)
    term.wait_line(fake.candidates[0])
    # The request reached cfusion as one literal argument; nothing was expanded, nothing ran.
    assert fake.calls() == [["gen", "--shell", "--", request]]
    fake.nothing_ran()
    term.press(KEY)
    term.wait_line(fake.candidates[1])  # the destructive one, its mark on the line
    term.press(KEY)
    term.wait_line(fake.candidates[2])
    term.press(KEY)
    term.wait_line(fake.candidates[0])  # round again
    assert len(fake.calls()) == 1, "cycling asked cfusion again"
    assert "candidate(s) in" not in term.screen(), "gen's progress line is shown although it answered"
    term.press(RESTORE)
    term.wait_line(request)
    term.press(KEY)  # the request is on the line again: a new request
    term.wait_line(fake.candidates[0])
    assert len(fake.calls()) == 2
    fake.nothing_ran()
    assert history_count(term, "count2") == before + 1, "the key added to the shell's history"


def test_the_shells_undo_puts_the_request_back(term):
    term.type("list the files")
    term.press(KEY)
    term.wait_line(term.fake.candidates[0])
    term.press(UNDO)
    term.wait_line("list the files")
    term.fake.nothing_ran()


def test_an_edited_candidate_is_a_new_request(term):
    fake = term.fake
    term.type("remove the logs")
    term.press(KEY)
    term.wait_line(fake.candidates[0])
    term.press("BSpace")
    term.press(KEY)
    term.wait_line(fake.candidates[0])
    assert [c[-1] for c in fake.calls()] == ["remove the logs", fake.candidates[0][:-1]]
    term.press("C-e", "C-u")
    term.wait_line("")
    term.press(RESTORE)  # nothing to put back: the line stays empty, a message says why
    term.wait(lambda: "nothing to put back" in term.screen(), "the restore key's message")
    term.wait_line("")  # fish prints the message, then redraws the prompt below it
    fake.nothing_ran()


def test_no_answer_or_an_error_leaves_the_line_as_typed_and_shows_the_message(term):
    fake = term.fake
    fake.mode("none")
    term.type("tidy up the disk")
    term.press(KEY)
    term.wait(lambda: NO_ANSWER in term.screen(), "the exit-4 message")
    assert "cfusion: cfusion:" not in term.screen()
    term.wait_line("tidy up the disk")
    fake.mode("fail")
    term.press(KEY)
    term.wait(lambda: "cfusion: " + FAILED in term.screen(), "the error message")
    term.wait_line("tidy up the disk")
    assert "candidate(s) in" not in term.screen(history=True), "more than gen's last stderr line is shown"
    assert len(fake.calls()) == 2
    fake.nothing_ran()


def test_ctrl_c_stops_a_slow_answer_and_keeps_the_line(term):
    fake = term.fake
    fake.mode("slow")
    term.type("archive the photos")
    term.press(KEY)
    term.wait(lambda: len(fake.calls()) == 1, "cfusion to be asked")
    term.settle()
    term.press("C-c")
    if term.shell != "fish":  # fish cancels the binding's function on Ctrl-C: no message, but the line stays too
        term.wait(lambda: "cfusion: interrupted" in term.screen(), "the interruption's message")
    term.wait_line("archive the photos")
    fake.mode("ok")
    term.press(KEY)  # the shell is not blocked; fish removes the interrupted press's files now
    term.wait_line(fake.candidates[0])
    assert [p.name for p in term.home.iterdir() if p.name.startswith("cfusion-")] == [], "temporary files left"
    fake.nothing_ran()


def test_an_empty_line_asks_nothing(term):
    term.type("   ")
    term.press(KEY)
    term.wait(lambda: "type a request first" in term.screen(), "the empty line's message")
    term.wait(lambda: term.line() == "", "the prompt under the message")  # fish redraws it after the message
    assert term.fake.calls() == []


def test_a_missing_cfusion_is_named(term):
    term.run("CFUSION_BIN=/nonexistent/cfusion" if term.shell != "fish" else "set -gx CFUSION_BIN /nonexistent/cf")
    term.type("list files")
    term.press(KEY)
    term.wait(lambda: "cannot find the command '/nonexistent/cf" in term.screen(), "the missing-cfusion message")
    term.wait_line("list files")


@pytest.mark.parametrize("shell", SHELLS)
def test_other_keys_and_gen_options(shell, tmp_path):
    reason = missing(shell)
    if reason:
        pytest.skip(reason)
    fake = Fake(tmp_path / "fake")
    home = tmp_path / "home"
    home.mkdir()
    env = {"CFUSION_BIN": str(fake.bin), "CFUSION_RESTORE_KEY": "C-x C-r", "CFUSION_GEN_OPTS": "-k 3 --lang bash"}
    term = Terminal(shell, home, env, opts="--key ctrl-x,ctrl-t")
    try:
        term.type("count lines")
        term.press(KEY)  # the default key is not bound any more: the shell's own Alt-m (if any) ran instead
        term.settle()
        assert fake.calls() == []
        term.press("C-e", "C-u")
        term.type("count lines")
        term.press("C-x", "C-t")
        term.wait_line(fake.candidates[0])
        assert fake.calls() == [["gen", "--shell", "-k", "3", "--lang", "bash", "--", "count lines"]]
        term.press("C-x", "C-r")
        term.wait_line("count lines")
        fake.nothing_ran()
    finally:
        term.close()


# -- the real cfusion: slow (the model loads once, in the server that `gen --shell` starts) --------------------------


@pytest.fixture(scope="module")
def private_runtime(tmp_path_factory):
    """A runtime folder of the tests' own, so that the server `gen --shell` starts is theirs; stopped afterwards."""
    run = tmp_path_factory.mktemp("run")
    run.chmod(0o700)
    tag = uuid.uuid4().hex
    yield run, tag
    subprocess.run(
        [CFUSION, "serve", "--stop"],
        env={**{k: v for k, v in os.environ.items() if k != "CFUSION_RUNTIME_DIR"}, "XDG_RUNTIME_DIR": str(run)},
        capture_output=True,
    )
    _kill_tagged(tag)


def _kill_tagged(tag: str) -> None:
    """Ends the processes these tests started, found by the variable each one inherited, and no other."""
    needle = f"CFUSION_SHELL_TEST={tag}".encode()
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if needle in (proc / "environ").read_bytes().split(b"\0"):
                os.kill(int(proc.name), signal.SIGTERM)
        except (OSError, ValueError):
            continue


@pytest.mark.slow
@pytest.mark.parametrize("shell", SHELLS)
def test_the_real_cfusion_answers_a_request(shell, tmp_path, private_runtime):
    reason = missing(shell)
    if reason:
        pytest.skip(reason)
    run, tag = private_runtime
    home = tmp_path / "home"
    home.mkdir()
    term = Terminal(shell, home, {"XDG_RUNTIME_DIR": str(run), "CFUSION_SHELL_TEST": tag})
    try:
        request = "create an empty file named marker.txt"
        term.type(request)
        term.wait_line(request)
        messages = term.screen(history=True).count("cfusion: ")
        term.press(KEY)

        def answered() -> bool:  # a candidate drawn whole, cursor at its end; or a message
            line = term.line()
            drawn = line not in (request, None) and term.cursor()[0] == len(PROMPT) + len(line)
            return drawn or term.screen(history=True).count("cfusion: ") > messages

        term.wait(answered, "cfusion's first candidate or its message", timeout=90)
        term.settle()  # bash and fish redraw the line after the binding: read it once it has settled
        candidate = term.line()
        assert candidate not in (request, None), term.screen()
        assert "cfusion: " not in term.screen().replace(candidate, ""), term.screen()
        term.wait_line(candidate)
        assert not (home / "marker.txt").exists(), "the candidate was run"
        term.press(RESTORE)
        term.wait_line(request)
    finally:
        term.close()


# -- the printed snippets -----------------------------------------------------------------------------------------


def test_there_is_a_snippet_for_each_shell():
    assert shells() == sorted(SHELLS)


@pytest.mark.parametrize("shell", SHELLS)
def test_the_printed_snippet_parses_and_binds_the_keys(shell):
    proc = cfusion("shell-init", shell, check=True)
    text = proc.stdout
    assert text == snippet(shell) and not re.search(r"@[A-Z_]+@", text)
    if shutil.which(shell):
        check = subprocess.run([shell, "-n"], input=text, capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
    written = {"bash": ("\\em", "\\eM"), "zsh": ("^[m", "^[M"), "fish": ("\\em", "\\eM")}[shell]
    assert all(w in text for w in written) and DEFAULT_KEY in text and DEFAULT_RESTORE_KEY in text


@pytest.mark.parametrize(
    "key, bash, zsh, fish",
    [
        ("alt-m", "\\em", "^[m", "\\em"),
        ("ctrl-x,ctrl-t", "\\C-x\\C-t", "^X^T", "\\cx\\ct"),
        ("C-x C-T", "\\C-x\\C-t", "^X^T", "\\cx\\ct"),
        ("M-#", "\\e#", "^[#", "\\e\\#"),
        ("ctrl-alt-g", "\\e\\C-g", "^[^G", "\\e\\cg"),
        ("\\C-x\\C-g", "\\C-x\\C-g", "\\C-x\\C-g", "\\C-x\\C-g"),  # a shell's own notation passes as written
    ],
)
def test_keys_are_written_in_each_shells_notation(key, bash, zsh, fish):
    for shell, written in (("bash", f'"{bash}": _cfusion_complete'), ("zsh", f"'{zsh}' _cfusion_complete")):
        assert written in snippet(shell, key), shell
    assert f" {fish} _cfusion_complete" in snippet("fish", key)


@pytest.mark.parametrize("key", ["m", "ctrl-", "alt-'", "shift-x", "ctrl-1", "alt-m; rm -rf ~", "\\e'"])
def test_a_key_that_cannot_be_bound_is_a_usage_error(key):
    with pytest.raises(UsageError, match="not one this command can bind"):
        parse_key(key)
    proc = cfusion("shell-init", "bash", "--key", key)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("Error: key") and "Traceback" not in proc.stderr


def test_an_unknown_shell_is_a_usage_error_naming_the_shells():
    proc = cfusion("shell-init", "tcsh")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == "Error: shell must be one of bash, fish, zsh, got 'tcsh'"


def test_the_two_keys_must_differ():
    proc = cfusion("shell-init", "zsh", "--key", "M-m", "--restore-key", "alt-m")
    assert proc.returncode == 2 and "must differ" in proc.stderr
