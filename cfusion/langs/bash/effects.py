"""What a Bash command does that cannot be undone, and whether the request asked for it.

A recalled command answers its own known request, and the consensus votes on templates: `display all the doc files`
can win `find . -name '*.doc' -exec rm {} \\;`, whose template agrees with the `find -name` commands around it. cfusion
never runs a candidate, but a user may. So `effects` names what a command does that cannot be undone (the analyzer's
destructive findings, cfusion.langs.bash.analyzer, plus the in-place edits and archive writes it marks for caution),
`asked` names which of those a request asks for in words, and the ranking lets a command answer first only when the
request asked for everything it does (Rules.safe, read by cfusion.pipeline.rank); `gen` shows the others' findings.
The other way round, a request that plainly asks to delete or kill (`demanded`) counts against a command that does not
(`missing`). All read words and parsed commands, never run anything.

One more thing a request may ask of a command is who runs it: `run "createdb shop" as user postgres` asks for
`su - postgres -c "createdb shop"`, not `echo "createdb shop" | ssh user@host` (NL2Bash's nearest requests run commands
as a user on a host). `runs_as` names the user a request asks to act as, and `switches_to` says whether a command
switches to that user; the ranking lets such a command answer first whenever one is valid.
"""

from __future__ import annotations

import functools
import re

from cfusion.langs.bash.analyzer import CATEGORIES, Finding, findings
from cfusion.langs.bash.literals import user_names

DELETES, STOPS = CATEGORIES["deletes"], CATEGORIES["stops"]
PERMISSIONS, WEAKENS = CATEGORIES["permissions"], CATEGORIES["weakens"]
FETCHED, UNINSTALLS = CATEGORIES["fetched"], CATEGORIES["uninstalls"]
ARCHIVES = "writes an archive over the file it names"
EDITS = "edits files in place"
MOVES = "moves files away"
WRITES = "writes over a disk or a system file"
SYNCS = "deletes at the destination what the source lacks"
# A finding's `asks` -> the effect it is, as shown and as a request asks for it.
EFFECTS = {
    "deletes": DELETES,
    "stops": STOPS,
    "permissions": PERMISSIONS,
    "weakens": WEAKENS,
    "fetched": FETCHED,
    "uninstalls": UNINSTALLS,
    "archives": ARCHIVES,
    "edits": EDITS,
    "moves": MOVES,
    "writes": WRITES,
    "syncs": SYNCS,
}
_ASKED = {
    DELETES: re.compile(
        r"\b(?:delet|remov|eras|wip|purg|clean|clear|destroy|shred|truncat|empt|rm\b|unlink|prun|discard|get rid|"
        r"format|overwrit|uninstall|drop|reset|force|flush)\w*",
        re.I,
    ),
    STOPS: re.compile(
        r"\b(?:kill|terminat|stop|quit|abort|interrupt|signal|sig\w+|reboot|restart|shut|halt|power|end\b|down\b|clos|"
        r"disabl|drain|suspend|hibernat|disconnect|off\b)\w*",
        re.I,
    ),
    PERMISSIONS: re.compile(
        r"\b(?:permission|perm\b|perms\b|chmod|chown|chgrp|owner|own\b|owned|mode|access|writabl|executabl|readabl|"
        r"world|everyone|group|acl|setuid|suid|sticky|[0-7]?[0-7]{3}\b)\w*",
        re.I,
    ),
    WEAKENS: re.compile(
        r"\b(?:firewall|iptables|ufw|nft|selinux|apparmor|enforc|password|passwd|passwordless|sudo|root|secur|ssl|tls|"
        r"certificat|verif|disabl|allow|accept|flush|setuid|suid|setgid|sgid|sticki|stick|insecur|trust|ssh|key|"
        r"known.?host|check|aslr|random|permission|chmod)\w*",
        re.I,
    ),
    FETCHED: re.compile(
        r"\b(?:download|install|fetch|curl|wget|url|https?|script|remote|internet|web|online|bootstrap|setup|pipe)\w*",
        re.I,
    ),
    UNINSTALLS: re.compile(r"\b(?:uninstall|remov|purg|delet|eras|get rid|drop|packag)\w*", re.I),
    MOVES: re.compile(r"\b(?:mov|renam|relocat|transfer|put|trash|archiv|rm\b|remov|delet)\w*", re.I),
    WRITES: re.compile(
        r"\b(?:writ|over\b|overwrit|copy|cop(?:y|ie)|flash|image|burn|dump|sav|stor|put|redirect|output|into|clon|"
        r"restor|set|fill|zero|wip|eras)\w*",
        re.I,
    ),
    SYNCS: re.compile(r"\b(?:sync|mirror|archiv|back\s*up|backup|copy|cop(?:y|ie)|clon|replicat|updat|mov)\w*", re.I),
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


def effects(code: str) -> frozenset[str]:
    """What the Bash command does that cannot be undone: the effect of each of the analyzer's findings that a request
    may ask for (DELETES, STOPS, PERMISSIONS, WEAKENS, FETCHED, UNINSTALLS; ARCHIVES for `tar c`, which writes over a
    file of that name; EDITS for `sed -i`, `perl -pi`), wherever in the line it runs (sudo, xargs, find -exec, sh -c
    ...). An unquoted glob is a finding but no effect."""
    return frozenset(EFFECTS[f.asks] for f in findings(code) if f.asks is not None)


def effect(finding: Finding) -> str | None:
    """The effect a finding is, or None for a caution that is none (an unquoted glob)."""
    return EFFECTS.get(finding.asks) if finding.asks is not None else None


@functools.lru_cache(maxsize=4096)
def asked(request: str) -> frozenset[str]:
    """The effects a request asks for in words, file names and paths aside: `delete`, `remove`, `clean`, `empty` ...
    for DELETES; `kill`, `terminate`, `stop`, `reboot` ... for STOPS; `permission`, `owner`, `executable` ... for
    PERMISSIONS; `firewall`, `password`, `disable` ... for WEAKENS; `download`, `install`, `script` ... for FETCHED;
    `uninstall`, `remove` ... for UNINSTALLS; `create`, `compress`, `archive`, `backup`, `into` ... for ARCHIVES;
    `replace`, `change`, `edit`, `insert`, `sort` ... for EDITS. Generous on purpose: a word that might ask is taken
    to. A request that asks to delete asks for what also loses data: MOVES, WRITES and SYNCS."""
    found = _said(_ASKED, request)
    return found | {MOVES, WRITES, SYNCS} if DELETES in found else found


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
