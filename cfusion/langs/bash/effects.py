"""What a Bash command does that cannot be taken back, and whether the request asked for it.

A recalled command answers its own known request, and the consensus votes on templates: `display all the doc files`
can win `find . -name '*.doc' -exec rm {} \\;`, whose template agrees with the `find -name` commands around it. cfusion
never runs a candidate, but a user may. So `effects` names what a command does that cannot be undone (it deletes
files or data, it stops processes or the machine, it writes an archive over a file, or it edits files in place),
`asked` names which of those a request asks for in words, and the ranking lets a command answer first only when the
request asked for everything it does (Rules.safe, read by cfusion.pipeline.rank); `gen` flags the others it shows.
The other way round, a request that plainly asks to delete or kill (`demanded`) counts against a command that does not
(`missing`). All read words and parsed utilities, never run anything.

One more thing a request may ask of a command is who runs it: `run "createdb shop" as user postgres` asks for
`su - postgres -c "createdb shop"`, not `echo "createdb shop" | ssh user@host` (NL2Bash's nearest requests run commands
as a user on a host). `runs_as` names the user a request asks to act as, and `switches_to` says whether a command
switches to that user; the ranking lets such a command answer first whenever one is valid.
"""

from __future__ import annotations

import functools
import re

from cfusion.langs.bash.literals import user_names
from cfusion.langs.bash.syntax import template_tokens

DELETES, STOPS = "deletes files or data", "stops processes or the machine"
ARCHIVES = "writes an archive over the file it names"
EDITS = "edits files in place"
_DELETERS = frozenset("rm rmdir unlink shred srm wipe wipefs truncate".split())
_STOPPERS = frozenset("kill pkill killall skill xkill reboot shutdown halt poweroff".split())
_DELETING = re.compile(
    r"\bgit\s+(?:clean\b|reset\s+(?:\S+\s+)*--hard\b)|\bdd\b[^|;&]*\bof=|(?<![\w.-])mkfs(?:\.\w+)?\b"
)  # what the template does not show: git's subcommands, dd's output, mkfs.ext4's name
_ARCHIVING = re.compile(  # tar creating: `tar czf x.tgz ...`, `tar -cvf x.tar ...`, `tar --create ...`
    r"(?<![\w.-])tar\s+(?:[a-zA-Z]*c[a-zA-Z]*(?=\s|$)|(?:[^|;&]*\s)?(?:--create\b|-[a-zA-Z]*c[a-zA-Z]*(?=\s|$)))"
)
_IN_PLACE = re.compile(r"(?<![\w.-])(?:sed|perl|ruby)\s+(?:[^|;&]*\s)?(?:-[a-zA-Z]*i|--in-place)")  # sed -i, perl -pi
_RUNNERS = re.compile(r"(?<![\w.-])(?:parallel|timeout)\s([^|;&]*)")  # the command these run is their argument
_SHELL_C = re.compile(  # sh -c "rm -rf x", su - bob -c 'rm -rf x': the command text a shell runs
    r"(?<![\w.-])(?:(?:ba|z|da|k)?sh|su)\s+(?:[^|;&'\"]*\s)?-c\s+(?:\"([^\"]*)\"|'([^']*)')"
)
_ASKED = {
    DELETES: re.compile(
        r"\b(?:delet|remov|eras|wip|purg|clean|clear|destroy|shred|truncat|empt|rm\b|unlink|prun|discard|get rid|"
        r"format|overwrit|uninstall|drop)\w*",
        re.I,
    ),
    STOPS: re.compile(
        r"\b(?:kill|terminat|stop|quit|abort|interrupt|signal|sig\w+|reboot|restart|shut|halt|power)\w*",
        re.I,
    ),
    ARCHIVES: re.compile(
        r"\b(?:creat|compress|archiv|pack|bundl|back\s*up|backup|tar\b|tarball|zip|gzip|bzip|make|build|writ|sav|"
        r"overwrit|into|stor|add|append|updat)\w*",
        re.I,
    ),
    EDITS: re.compile(  # any word that may ask to change a file's text
        r"\b(?:replac|substitut|chang|edit|modif|convert|insert|add|append|prepend|delet|remov|fix|updat|renam|swap|"
        r"in[- ]?place|strip|comment|uncomment|set|translat|lower|upper|format|indent|clean|trim|sed|perl|writ|sav|"
        r"overwrit|put|join|merge|sort|revers|turn|make|transform|escap|unescap|correct|subs)\w*",
        re.I,
    ),
}
_NAMES = re.compile(r"\S*[./]\S*")  # file names and paths: `backup.tar.gz` asks for no backup


_DEMANDED = {  # the plain verbs: `delete`, `remove`, `kill` ask for the effect; `clean`, `empty`, `stop` may not
    DELETES: re.compile(r"\b(?:delet|remov|eras|wip)\w*", re.I),
    STOPS: re.compile(r"\b(?:kill|terminat)\w*", re.I),
}


@functools.lru_cache(maxsize=65536)
def effects(code: str) -> frozenset[str]:
    """What the Bash command does that cannot be undone: DELETES (rm, rmdir, shred, find's -delete, truncate, dd to
    a file or device, mkfs, git clean, git reset --hard), STOPS (kill, pkill, killall, reboot, shutdown ...), also
    where `sudo`, `xargs`, `find -exec`, `parallel`, `timeout`, `sh -c "..."` or `su -c "..."` runs them, ARCHIVES (tar
    creating an archive, which replaces a file of that name: `tar czf backup.tar.gz ...` for `extract
    backup.tar.gz`) and EDITS (`sed -i`, `perl -pi`: the file's old text is gone)."""
    utilities = {t.rsplit("/", 1)[-1] for t in template_tokens(code)}  # `/bin/rm` is rm
    utilities |= {w.rsplit("/", 1)[-1] for m in _RUNNERS.finditer(code) for w in m.group(1).split()}
    out = set().union(*(effects(m.group(1) or m.group(2)) for m in _SHELL_C.finditer(code)))
    if utilities & _DELETERS or "-delete" in utilities or _DELETING.search(code):
        out.add(DELETES)
    if utilities & _STOPPERS:
        out.add(STOPS)
    if _ARCHIVING.search(code):
        out.add(ARCHIVES)
    if _IN_PLACE.search(code):
        out.add(EDITS)
    return frozenset(out)


@functools.lru_cache(maxsize=4096)
def asked(request: str) -> frozenset[str]:
    """The effects a request asks for in words, file names and paths aside: `delete`, `remove`, `clean`, `empty` ...
    for DELETES; `kill`, `terminate`, `stop`, `reboot` ... for STOPS; `create`, `compress`, `archive`, `backup`,
    `into` ... for ARCHIVES; `replace`, `change`, `edit`, `insert`, `sort` ... for EDITS. Generous on purpose: a word
    that might ask is taken to."""
    return _said(_ASKED, request)


def unasked(code: str, request: str) -> frozenset[str]:
    """What the command does that cannot be undone and the request did not ask for."""
    return effects(code) - asked(request)


@functools.lru_cache(maxsize=4096)
def demanded(request: str) -> frozenset[str]:
    """The effects a request plainly asks for (`delete`, `remove`, `erase`, `wipe`; `kill`, `terminate`): stricter
    than `asked`, since a command that lacks one of these does not do what was asked; file names aside too."""
    return _said(_DEMANDED, request)


_RUN_AS = re.compile(
    r"\b(?:(?:as|switch(?:es|ing)? to|log ?in as|login of)\s+(?:the\s+)?user|switch(?:es|ing)? user to)\b", re.I
)
_REMOTE = re.compile(  # a request that names a host asks for ssh, whose user is the remote one; `this machine` does not
    r"\b(?:host\w*|server|remote|(?<!this )(?<!local )(?<!my )machine|domain|ssh)\b"
    r"|\w@\w|\b\d+\.\d+\.\d+\.\d+\b|\b[\w-]+\.(?:com|org|net|io)\b",
    re.I,
)
_SWITCHES = re.compile(  # su, runuser, `sudo -u bob`, `sudo -iu bob`, `sudo su bob`
    r"(?:^|[\s;|&(`])(?:su|runuser)(?=\s|$)|(?<![\w.-])sudo\s+(?:-\S+\s+)*(?:-[a-zA-Z]*u|su(?=\s|$))"
)


def runs_as(request: str) -> str | None:
    """The user a request asks to act as on this machine, as it names them (`run X as user postgres`, `switch to user
    jenkins`, `switch user to jenkins`, `login as user root`: adapt's literals of unit user), or None: it asks no such
    thing, names no user, or names a host (`ssh into example.org as user deploy`)."""
    if not _RUN_AS.search(request) or _REMOTE.search(request):
        return None
    return next(iter(user_names(request)), None)


def switches_to(code: str, user: str) -> bool:
    """Whether a Bash command switches to `user` (su, runuser, sudo -u, sudo su) and names them: `su - postgres -c
    "createdb shop"` for postgres, not `su - alice -c ls` nor `sudo chown postgres file`."""
    return bool(_SWITCHES.search(code)) and re.search(rf"(?<![\w$-]){re.escape(user)}(?![\w-])", code) is not None


def _said(patterns: dict[str, re.Pattern], request: str) -> frozenset[str]:
    """The effects whose pattern the request's words match, its file names and paths aside (_NAMES)."""
    words = _NAMES.sub(" ", request)
    return frozenset(effect for effect, pattern in patterns.items() if pattern.search(words))


def missing(code: str, request: str) -> frozenset[str]:
    """The effects the request plainly asks for that the command does not have: `find /tmp -type d -empty` for
    `delete empty directories under /tmp` lacks DELETES."""
    return demanded(request) - effects(code)
