"""The paper's metrics: template match, NLC2CMD, exact match, validity, BLEU, diversity; several references each."""

from __future__ import annotations

import ast
import functools
import math
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations, zip_longest

import numpy as np

from cfusion import LANGS
from cfusion.data import _BASH_WRAPPERS, _COMMANDISH, _bash_parser

# --- bash: one analysis shared by template match, template accuracy and NLC2CMD ---

_EXEC_FLAGS = frozenset(["-exec", "-execdir", "-ok", "-okdir"])
_EXEC_ENDS = frozenset(["\\;", ";", "';'", '";"'])
# find's grouping and negation, escaped or not, are reserved tokens like `(` and `)`.
_RESERVED_WORDS = frozenset(["\\(", "\\)", "\\!", "!"])
_ASSIGNMENT = re.compile(r"[A-Za-z_]\w*\+?=")
# Numbers that follow a flag are its value (`-mtime -3`, `head -n -5`); right after a name they are flags (`ls -1`).
_DASH_NUMBER = re.compile(r"-\d[\w.]*")
# find's single-dash long options stay whole; anything else with one dash bundles one-letter flags (`-xzvf`).
_FIND_PRIMARIES = frozenset(
    "-name -iname -path -ipath -wholename -iwholename -regex -iregex -regextype -lname -ilname -type -xtype -size "
    "-empty -perm -user -group -uid -gid -nouser -nogroup -mtime -mmin -atime -amin -ctime -cmin -anewer -cnewer "
    "-used -samefile -inum -links -maxdepth -mindepth -depth -mount -xdev -follow -noleaf -daystart -readable "
    "-writable -executable -fstype -context -true -false -not -and -or -prune -quit -delete -print -print0 -printf "
    "-fprint -fprint0 -fprintf -ls -fls -exec -execdir -ok -okdir -help -version -ignore_readdir_race".split()
)
_TS_ARGS = frozenset(
    "word number string raw_string concatenation simple_expansion expansion arithmetic_expansion ansi_c_string "
    "translated_string variable_name".split()
)
_TS_FRAMES = frozenset(["command_substitution", "process_substitution", "subshell"])
_LEX = re.compile(
    r"(?P<space>\s+)|(?P<open>\$\(|<\(|>\(|\()|(?P<close>\))|(?P<tick>`)"
    r"|(?P<redir>\d*>&(?:\d+|-)|&>>?|\d*>>|\d*>\|?|<<<|<<-?|<&|<)|(?P<op>\|\||\|&|&&|;;|\||;|&)"
    r"""|(?P<word>(?:\\.|'[^']*'?|"(?:\\.|[^"\\])*"?|[^\s|&;<>()`'"\\])+)|(?P<other>.)"""
)


@dataclass
class _Cmd:
    name: str
    flags: list[str] = field(default_factory=list)


@dataclass
class _Frame:
    kind: str  # "top", "sub" ($(, <(, ( ... )), "tick" (backquotes) or "exec" (find -exec ... \;)
    cmd: _Cmd | None = None
    wrapper: frozenset[str] | None = None  # value-taking flags of a sudo/xargs/... still looking for its command
    take_value: bool = False
    prev_flag: bool = False
    skip_next: bool = False  # the next word is a redirection target


@dataclass(frozen=True)
class _Analysis:
    items: tuple[tuple[str, str, str], ...]  # (kind, text, owning utility): kind is util, flag, op or arg
    commands: tuple[tuple[str, tuple[str, ...]], ...]  # (utility, flags as written) in order of appearance


def _node_text(node) -> str:
    return node.text.decode("utf-8", "replace")


def _ts_nested(node, out: list) -> None:
    """Lexemes of the command substitutions inside an argument (`"today $(date)"`)."""
    for child in node.children:
        if child.type in _TS_FRAMES:
            _ts_lexemes(child, out)
        else:
            _ts_nested(child, out)


def _ts_lexemes(node, out: list) -> None:
    kind = node.type
    if kind == "command":
        for child in node.children:
            if child.type == "command_name":
                out.append(("util", _node_text(child)))
            elif child.type == "variable_assignment":
                _ts_nested(child, out)
            elif child.type in _TS_FRAMES or child.type.endswith("_redirect"):
                _ts_lexemes(child, out)
            elif child.is_named:
                text = _node_text(child)
                # Only bare words can be flags or commands: a quoted "-x" is an argument.
                bare = child.type in ("word", "number") or (child.type == "concatenation" and text[:1] in "-{")
                out.append(("word" if bare else "arg", text))
                _ts_nested(child, out)
        out.append(("end", ""))
    elif kind in _TS_FRAMES:
        out.append(("open", _node_text(node.children[0])))
        for child in node.children[1:-1]:
            _ts_lexemes(child, out)
        out.append(("close", _node_text(node.children[-1])))
    elif kind.endswith("_redirect"):
        fd, op, dest = "", "", None
        for child in node.children:
            if child.type == "file_descriptor":
                fd = _node_text(child)
            elif not child.is_named:
                op = _node_text(child)
            elif dest is None and child.type not in ("heredoc_body", "heredoc_end"):
                dest = child
        if kind == "file_redirect" and dest is not None and re.fullmatch(r"\d+|-", _node_text(dest)):
            out.append(("redir", fd + op + _node_text(dest)))  # `2>&1` is one token
        else:
            out.append(("redir", fd + op))
            if dest is not None and kind != "heredoc_redirect":
                out.append(("arg", _node_text(dest)))
                _ts_nested(dest, out)
    elif kind in _TS_ARGS:
        out.append(("arg", _node_text(node)))
        _ts_nested(node, out)
    elif kind == "test_operator" or (node.child_count == 0 and not node.is_named):
        out.append(("op", _node_text(node)))
    elif kind == "variable_assignment":
        _ts_nested(node, out)
    elif kind not in ("comment", "heredoc_body"):
        for child in node.children:
            _ts_lexemes(child, out)


def _fallback_lexemes(cmd: str) -> list[tuple[str, str]]:
    """Lexemes from a plain scan, for input tree-sitter cannot parse: words, quotes, operators, nesting."""
    out, ticks = [], 0
    for m in _LEX.finditer(cmd):
        kind, text = m.lastgroup, m.group()
        if kind == "tick":
            kind, ticks = ("close", ticks - 1) if ticks else ("open", ticks + 1)
        elif kind in ("word", "other"):
            kind = "arg" if text[0] in "'\"$" else "word"
        if kind != "space":
            out.append((kind, text))
    return out


@functools.lru_cache(maxsize=65536)
def _analyse(cmd: str) -> _Analysis:
    tree = _bash_parser().parse(cmd.encode("utf-8", "surrogatepass"))
    if tree.root_node.has_error:
        lexemes = _fallback_lexemes(cmd)
    else:
        lexemes = []
        _ts_lexemes(tree.root_node, lexemes)
    items: list[tuple[str, str, str]] = []
    commands: list[_Cmd] = []
    stack = [_Frame("top")]

    def start(frame: _Frame, name: str) -> None:
        frame.cmd = _Cmd(name)
        commands.append(frame.cmd)
        items.append(("util", name, name))
        frame.wrapper = _BASH_WRAPPERS.get(name.rsplit("/", 1)[-1]) if not name.startswith("-") else None
        frame.take_value = frame.prev_flag = frame.skip_next = False

    def arg(frame: _Frame, text: str) -> None:
        items.append(("arg", text, ""))
        frame.prev_flag = frame.skip_next = frame.take_value = False

    def end_command() -> None:
        while stack[-1].kind == "exec":
            stack.pop()
        stack[-1].cmd, stack[-1].wrapper = None, None

    for kind, text in lexemes:
        frame = stack[-1]
        if kind == "open":
            items.append(("op", text, ""))
            stack.append(_Frame("tick" if text == "`" else "sub"))
        elif kind == "close":
            while len(stack) > 1 and stack[-1].kind == "exec":
                stack.pop()
            if len(stack) > 1:
                stack.pop()
            items.append(("op", text, ""))
        elif kind in ("op", "end"):
            end_command()
            if kind == "op":
                items.append(("op", text, ""))
        elif kind == "redir":
            items.append(("op", text, ""))
            frame.skip_next = not text[-1].isdigit() and text[-1] != "-"
        elif kind == "util":
            start(frame, text)
        elif frame.kind == "exec" and (text in _EXEC_ENDS or (text == "+" and items[-1][1] == "{}")):
            items.append(("op", "+" if text == "+" else "\\;", ""))
            stack.pop()
        elif kind == "arg" or frame.skip_next:
            if frame.wrapper is not None and not frame.take_value:
                frame.wrapper = None  # a quoted word or an expansion ends the search for the wrapped command
            arg(frame, text)
        elif text == "{}" or (frame.cmd is not None and text in _RESERVED_WORDS):
            items.append(("op", text, ""))
            frame.prev_flag = frame.take_value = False
        elif frame.cmd is None and not _ASSIGNMENT.match(text):  # `VAR=1 cmd` sets a variable first
            start(frame, text)
        elif frame.cmd is None or (frame.wrapper is not None and frame.take_value):
            arg(frame, text)
        elif frame.wrapper is not None and not text.startswith("-"):
            # `sudo -u root ls`, `xargs -0 rm`, `env X=1 cmd`: the first command-like word is the wrapped command.
            if _ASSIGNMENT.match(text):
                arg(frame, text)
            elif _COMMANDISH.fullmatch(text):
                start(frame, text)
            else:
                frame.wrapper = None  # a path or a pattern: this wrapper runs no command
                arg(frame, text)
        elif text.startswith("-") and text != "-" and not (frame.prev_flag and _DASH_NUMBER.fullmatch(text)):
            flag = text.split("=", 1)[0]
            items.append(("flag", flag, frame.cmd.name))
            frame.cmd.flags.append(flag)
            if frame.wrapper is not None:
                frame.take_value = flag in frame.wrapper and "=" not in text  # `--max-args=1` holds its value
            frame.prev_flag = True
            if flag in _EXEC_FLAGS:
                stack.append(_Frame("exec"))
        else:
            arg(frame, text)
    return _Analysis(tuple(items), tuple((c.name, tuple(c.flags)) for c in commands))


def bash_template_tokens(cmd: str) -> list[str]:
    """NL2Bash template of a command: utilities, flags (`=value` dropped) and reserved tokens, arguments left out.

    Commands after `sudo`, `xargs`, `env`, `time`, `nohup`, `find -exec` ... count as utilities; `{}`, the `\\;` or
    `+` that ends `-exec`, `|`, `;`, `&&`, `||`, redirections (`>`, `2>`, `2>&1`), `$(`, backquotes and `(`/`)`
    are reserved tokens. Input tree-sitter cannot parse is scanned word by word with the same rules; never raises.
    """
    return [text for kind, text, _ in _analyse(cmd).items if kind != "arg"]


def bash_utilities(cmd: str) -> list[str]:
    """The utilities a command runs, in order, without their paths (`/usr/bin/find` is find); never raises."""
    return [text.rsplit("/", 1)[-1] for kind, text, _ in _analyse(cmd).items if kind == "util"]


def bash_arguments(cmd: str) -> list[str]:
    """The arguments a command passes, as written (quotes kept), in order; utilities, flags and operators left out."""
    return [text for kind, text, _ in _analyse(cmd).items if kind == "arg"]


def _split_flag(utility: str, flag: str) -> list[str]:
    """One-letter flags bundled in one word (`-xzvf` is -x -z -v -f), as bashlint reads them for NLC2CMD."""
    if flag.startswith("--") or len(flag) <= 2:
        return [flag]
    if utility.rsplit("/", 1)[-1] == "find" and (flag in _FIND_PRIMARIES or flag.startswith("-newer")):
        return [flag]
    letters = re.match(r"-([A-Za-z]*)", flag).group(1)
    return ["-" + c for c in letters] if letters else [flag]


# --- template match and template accuracy ---


def _normalise_space(text: str) -> str:
    return " ".join(text.split())


def _check_refs(refs: list[str]) -> None:
    if not refs:
        raise ValueError("refs is empty: each request needs at least one reference")


@functools.lru_cache(maxsize=65536)
def _template_counts(cmd: str) -> tuple[tuple[str, int], ...]:
    return tuple(Counter(bash_template_tokens(cmd)).items()) if cmd.strip() else ()


def template_vector(cmd: str) -> Counter:
    """Counts of a command's template tokens: what template_match compares (parsed once per process)."""
    return Counter(dict(_template_counts(cmd)))


def template_cosines(cmds: list[str]) -> np.ndarray:
    """All pairwise template matches of `cmds`, template_cosine's values as one (n, n) matrix product."""
    vecs = [template_vector(c) for c in cmds]
    vocab = {t: i for i, t in enumerate({t for v in vecs for t in v})}
    m = np.zeros((len(cmds), max(1, len(vocab))))
    for i, v in enumerate(vecs):
        for t, n in v.items():
            m[i, vocab[t]] = n
    norm = np.linalg.norm(m, axis=1)
    out = (m @ m.T) / np.maximum(np.outer(norm, norm), 1e-12)
    for i, c in enumerate(cmds):  # empty templates: template_cosine's special cases
        if not vecs[i] or not c.strip():
            for j, d in enumerate(cmds):
                out[i, j] = template_cosine(c, vecs[i], d, vecs[j])
                out[j, i] = template_cosine(d, vecs[j], c, vecs[i])
    return out


def template_cosine(pred: str, p: Counter, ref: str, r: Counter) -> float:
    """Template match of one prediction against one reference, from their template vectors."""
    if not pred.strip():
        return 0.0
    if not p or not r:
        return float(not p and not r and _normalise_space(pred) == _normalise_space(ref))
    dot = sum(n * r[t] for t, n in p.items())
    return dot / math.sqrt(sum(n * n for n in p.values()) * sum(n * n for n in r.values()))


def template_match(pred: str, refs: list[str]) -> float:
    """NL2Bash template match: cosine of the template-token count vectors, max over refs (in [0, 1])."""
    _check_refs(refs)
    p = template_vector(pred)
    return max(template_cosine(pred, p, ref, template_vector(ref)) for ref in refs)


def _arg_kind(text: str) -> str:
    """Argument kinds: _NUM (10, -3, +10M, 2.5), _VAR ($x, ${x}), _PATTERN (glob or regex characters),
    _PATH (has `/`, starts with `.` or `~`, or looks like name.ext), _STR (anything else); quotes are ignored."""
    s = text[1:-1] if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" else text
    if re.fullmatch(r"[-+]?\d+(?:\.\d+)?[A-Za-z%]{0,2}", s):
        return "_NUM"
    if s.startswith("$"):
        return "_VAR"
    if re.search(r"[*?\[\]^$|\\{}]", s):
        return "_PATTERN"
    if "/" in s or s[:1] in (".", "~") or re.fullmatch(r"[\w-]+\.[A-Za-z]\w{0,5}", s):
        return "_PATH"
    return "_STR"


@functools.lru_cache(maxsize=65536)
def _canonical_template(cmd: str) -> tuple:
    """Utilities and reserved tokens in order; after each, its flags (bundles split) and argument kinds, sorted."""
    segments: list[tuple[str, list[str]]] = [("", [])]
    for kind, text, owner in _analyse(cmd).items:
        if kind in ("util", "op"):
            segments.append((text, []))
        elif kind == "flag":
            segments[-1][1].extend(_split_flag(owner, text))
        else:
            segments[-1][1].append(_arg_kind(text))
    return tuple((head, tuple(sorted(tail))) for head, tail in segments if head or tail)


def template_accuracy(pred: str, refs: list[str]) -> float:
    """Strict template accuracy: 1.0 iff pred equals some ref once arguments are kinds and flag order is ignored."""
    _check_refs(refs)
    if not pred.strip():
        return 0.0
    mine = _canonical_template(pred)
    return float(any(mine == _canonical_template(ref) for ref in refs))


# --- NLC2CMD (NeurIPS 2020), after IBM/clai utils/metric/metric_utils.py ---


def _flag_set(command: tuple[str, tuple[str, ...]] | None) -> set[str]:
    return set() if command is None else {f for flag in command[1] for f in _split_flag(command[0], flag)}


def _nlc2cmd_pair(pred: tuple | None, gold: tuple | None) -> float:
    """S_U * (1 + S_F) / 2 - (1 - S_U) for one aligned pair of utilities (None: padding)."""
    same = float(pred is not None and gold is not None and pred[0].lower() == gold[0].lower())
    fp, fg = _flag_set(pred), _flag_set(gold)
    s_f = 1.0 if not fp and not fg else (2 * len(fp & fg) - len(fp | fg)) / max(1, len(fp), len(fg))
    return same * (1 + s_f) / 2 - (1 - same)


def _nlc2cmd_command(pred: str, gold: str) -> float:
    """Mean over utility pairs aligned in order; the shorter side is padded, so a missing utility scores -1."""
    pairs = list(zip_longest(_analyse(pred).commands, _analyse(gold).commands))
    return sum(_nlc2cmd_pair(p, g) for p, g in pairs) / len(pairs) if pairs else 0.0


def nlc2cmd_score(preds: list[str], refs: list[str]) -> float:
    """NLC2CMD score of one request's predictions (the competition took up to 5), in [-1, 1].

    Each prediction scores its best reference (confidence 1); the request scores the max if any prediction is
    positive, else their mean. No prediction counts as one empty command, -1 when the reference has a utility.
    """
    _check_refs(refs)
    scores = [max(_nlc2cmd_command(p, r) for r in refs) for p in (preds or [""])]
    return max(scores) if max(scores) > 0 else sum(scores) / len(scores)


# --- exact match and validity ---


def _normalise(code: str, lang: str) -> str:
    """Whitespace runs become one space; CF is also case-insensitive and drops spaces around punctuation."""
    code = _normalise_space(code)
    if lang == "cf":
        code = re.sub(r"\s*([^\w\s])\s*", r"\1", code.lower())
    return code


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, got {lang!r}")


def exact_match(pred: str, refs: list[str], lang: str) -> float:
    """1.0 iff pred equals some ref after normalisation (see _normalise)."""
    _check_refs(refs)
    _check_lang(lang)
    mine = _normalise(pred, lang)
    return float(bool(mine) and any(mine == _normalise(ref, lang) for ref in refs))


def bash_valid(cmd: str) -> bool:
    """The tree-sitter-bash parse has no ERROR or MISSING node; empty input is invalid."""
    return bool(cmd.strip()) and not _bash_parser().parse(cmd.encode("utf-8", "surrogatepass")).root_node.has_error


def python_valid(code: str) -> bool:
    """`ast.parse` accepts the code (never executed); empty input is invalid."""
    if not code.strip():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escape sequences warn, yet parse
        try:
            ast.parse(code)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
    return True


_CF_STRING = re.compile(r'"(?:[^"]|"")*"|\'[^\']*\'')
_CF_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?%?")
_CF_REF = re.compile(
    r"(?:\$?[A-Za-z_][\w.]*!)?\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?(?![\w(\[])"
    r"|\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3}(?![\w(])|[A-Za-z]\[\d+\]"
)
_CF_NAME = re.compile(r"[^\W\d][\w.]*")
_CF_OP = re.compile(r"<>|<=|>=|==|!=|[=<>+\-*/^&]")


def _ws(s: str, i: int) -> int:
    while i < len(s) and s[i].isspace():
        i += 1
    return i


def _cf_expr(s: str, i: int) -> int | None:
    """End of `operand (op operand)*` from i, or None."""
    end = _cf_operand(s, i)
    while end is not None and (op := _CF_OP.match(s, _ws(s, end))):
        nxt = _cf_operand(s, op.end())
        if nxt is None:
            break  # the caller sees the dangling operator and rejects it
        end = nxt
    return end


def _cf_operand(s: str, i: int) -> int | None:
    i = _ws(s, i)
    while i < len(s) and s[i] in "+-":
        i = _ws(s, i + 1)
    if s.startswith("(", i):
        j = _cf_expr(s, i + 1)
        j = None if j is None else _ws(s, j)
        return j + 1 if j is not None and s.startswith(")", j) else None
    for pattern in (_CF_STRING, _CF_NUMBER, _CF_REF):
        if m := pattern.match(s, i):
            return m.end()
    if not (m := _CF_NAME.match(s, i)):
        return None
    j = _ws(s, m.end())
    return _cf_args(s, j + 1) if s.startswith("(", j) else m.end()


def _cf_args(s: str, i: int) -> int | None:
    """End of `[arg (',' arg)*] ')'` from just after `(`; an arg is an expression or unquoted text."""
    if s.startswith(")", _ws(s, i)):
        return _ws(s, i) + 1
    while True:
        j = _cf_expr(s, i)
        j = None if j is None else _ws(s, j)
        if j is None or j >= len(s) or s[j] not in ",)":
            j = _cf_text(s, i, nested=False)
        if j is None or j >= len(s):
            return None
        if s[j] == ")":
            return j + 1
        i = j + 1


def _cf_text(s: str, i: int, nested: bool) -> int | None:
    """End of unquoted text (`In Progress`, `N/A`, `TELECON (ALL)`): no quotes, parentheses balanced."""
    start = i
    while i < len(s) and not (s[i] == ")" or (s[i] == "," and not nested)):
        if s[i] == '"' or (s[i] == "'" and not s[start:i].strip()):  # `client's name` is text, `'abc` is not
            return None
        if s[i] == "(":
            j = _cf_text(s, i + 1, nested=True)
            if j is None or j >= len(s):
                return None
            i = j
        i += 1
    return i if nested or s[start:i].strip() else None


def cf_valid(rule: str) -> bool:
    """The rule parses in this grammar of the CF rule language (as in CFRuleBenchmarks.json):

    rule    := expr                      (a call or an operator somewhere, not a lone value)
    expr    := operand (OP operand)*     OP: = <> <= >= == != < > + - * / ^ &
    operand := ('+' | '-')* ( '(' expr ')' | STRING | NUMBER | REF | NAME [ '(' [arg (',' arg)*] ')' ] )
    arg     := expr | TEXT
    STRING  := "..." ("" escapes a quote) | '...'       NUMBER := 12, 2.5, 1e3, 10%
    REF     := [Sheet!]$A$1[:$B$2] | A:C | c[1]           NAME := letters, digits, `_` and `.`
    TEXT    := unquoted text up to `,` or `)`, parentheses inside balanced (`In Progress`, `N/A`, `x (y)`)
    """
    s = rule.strip()
    end = _cf_expr(s, 0) if s else None
    return end is not None and _ws(s, end) == len(s) and ("(" in s or _CF_OP.search(s) is not None)


VALIDATORS = {"bash": bash_valid, "python": python_valid, "cf": cf_valid}


# --- BLEU ---


def bleu(preds: list[str], refs: list[list[str]]) -> float:
    """Corpus BLEU (0-100) by sacrebleu with its default '13a' tokenizer, which splits code punctuation from words.

    refs[i] holds the references of preds[i]; their number may vary per prediction.
    """
    import sacrebleu  # only BLEU needs it

    if len(preds) != len(refs):
        raise ValueError(f"got {len(preds)} predictions but {len(refs)} reference lists")
    if not preds:
        return 0.0
    for r in refs:
        _check_refs(r)
    streams = [[r[j] if j < len(r) else None for r in refs] for j in range(max(map(len, refs)))]
    return float(sacrebleu.corpus_bleu(preds, streams).score)


def codebleu(preds: list[str], refs: list[list[str]], lang: str = "python") -> float:
    """CodeBLEU (0-100, equal weights) by the codebleu package; refs[i] holds the references of preds[i].

    As in the reference implementation, a snippet shorter than n whitespace tokens still adds 1 to the n-gram
    precision's denominator, so even identical one-liners can score below 100.
    """
    from codebleu import calc_codebleu  # only CodeBLEU needs it

    if len(preds) != len(refs):
        raise ValueError(f"got {len(preds)} predictions but {len(refs)} reference lists")
    if not preds:
        return 0.0
    return 100 * float(calc_codebleu(refs, preds, lang=lang)["codebleu"])


# --- diversity of a top-k list ---


def distinct_ngrams(cands: list[str], n: int) -> float:
    """Distinct n-grams over all n-grams of the candidates' whitespace tokens (0.0 when there are none)."""
    grams = [tuple(toks[i : i + n]) for toks in (c.split() for c in cands) for i in range(len(toks) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def _levenshtein(a: str, b: str) -> int:
    """Character edit distance, bit-parallel (Myers 1999, Hyyrö's form): one big-int step per character of a."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    peq: dict[str, int] = {}
    for i, ch in enumerate(b):
        peq[ch] = peq.get(ch, 0) | (1 << i)
    mask, high = (1 << len(b)) - 1, 1 << (len(b) - 1)
    pv, mv, dist = mask, 0, len(b)
    for ch in a:
        eq = peq.get(ch, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | ~(xh | pv)
        mh = pv & xh
        dist += 1 if ph & high else -1 if mh & high else 0
        ph = (ph << 1) | 1  # row 0 of the DP table counts up: a global, not a substring, distance
        mh <<= 1
        pv = (mh | ~(xv | ph)) & mask
        mv = ph & xv & mask
    return dist


def pairwise_edit_distance(cands: list[str]) -> float:
    """Mean over candidate pairs of the character edit distance over the longer length; 0.0 under 2 candidates."""
    pairs = list(combinations(cands, 2))
    if not pairs:
        return 0.0
    return sum(_levenshtein(a, b) / max(len(a), len(b), 1) for a, b in pairs) / len(pairs)


# --- the aggregate `cfusion eval` prints ---


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _at_k(per_cand: list[list[float]], k: int) -> float:
    """Mean over requests of the best of the first k candidates (0 for a request without candidates)."""
    return _mean([max(scores[:k], default=0.0) for scores in per_cand])


def score_topk(
    preds: list[list[str]], refs: list[list[str]], lang: str, ks: tuple[int, ...] = (1, 3, 5)
) -> dict[str, float]:
    """Metrics of ranked candidates (preds[i], best first) against references refs[i], averaged over requests.

    Accuracy-type values are percent (0-100) as the paper reports them: template_match@k, template_accuracy@k and
    exact@k (best of the first k), valid@1 (top-1 parses), valid_all (all candidates), bleu@1 and codebleu@1
    (python, corpus scores of the top-1). nlc2cmd@k is in [-1, 1] as the competition reports it. Diversity over
    each request's full candidate list, in [0, 1] as the paper reports it: distinct_1..4 and edit_distance, averaged
    over the requests with at least two candidates (and, for distinct_n, at least one n-gram).
    """
    _check_lang(lang)
    if len(preds) != len(refs):
        raise ValueError(f"got {len(preds)} prediction lists but {len(refs)} reference lists")
    for r in refs:
        _check_refs(r)
    top = max(ks)
    out: dict[str, float] = {}
    per_metric = {"exact": lambda p, r: exact_match(p, r, lang)}
    if lang == "bash":
        per_metric = {"template_match": template_match, "template_accuracy": template_accuracy, **per_metric}
    for name, metric in per_metric.items():
        scores = [[metric(p, r) for p in ps[:top]] for ps, r in zip(preds, refs)]
        out.update({f"{name}@{k}": 100 * _at_k(scores, k) for k in ks})
    if lang == "bash":
        out.update({f"nlc2cmd@{k}": _mean([nlc2cmd_score(ps[:k], r) for ps, r in zip(preds, refs)]) for k in ks})
    if lang == "python":
        top1 = [ps[0] if ps else "" for ps in preds]
        out["bleu@1"] = bleu(top1, refs)
        try:
            out["codebleu@1"] = codebleu(top1, refs)
        except ImportError as err:  # an environment installed before codebleu became a dependency
            warnings.warn(f"codebleu@1 left out: {err}; pip install codebleu tree-sitter-python", stacklevel=2)
    valid = VALIDATORS[lang]
    out["valid@1"] = 100 * _mean([float(bool(ps) and valid(ps[0])) for ps in preds])
    out["valid_all"] = 100 * _mean([float(valid(p)) for ps in preds for p in ps])
    # Diversity is a property of a list: requests with fewer than two candidates, or with no n-gram of that order,
    # have none, and averaging them in as 0 would score short commands as undiverse.
    lists = [ps for ps in preds if len(ps) >= 2]
    for n in range(1, 5):
        out[f"distinct_{n}"] = _mean([distinct_ngrams(ps, n) for ps in lists if any(len(c.split()) >= n for c in ps)])
    out["edit_distance"] = _mean([pairwise_edit_distance(ps) for ps in lists])
    return out
