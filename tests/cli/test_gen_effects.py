"""`cfusion gen` shows, on stderr, each candidate's findings with the part responsible highlighted."""

import dataclasses

from cfusion import langs
from cfusion.cli.gen import findings_lines
from cfusion.pipeline.candidate import Candidate


def shown(request: str, *codes: str) -> list[Candidate]:
    rules = langs.get("bash").rules(request)
    out = []
    for code in codes:
        effects, unasked, findings = rules.effects(code)
        out.append(
            dataclasses.replace(Candidate(code, None, 0, True), effects=effects, unasked=unasked, findings=findings)
        )
    return out


def test_gen_shows_each_finding_under_its_candidate_with_the_part_highlighted():
    cands = shown("list the log files", "ls *.log", "find . -name '*.log' -exec rm {} \\;", "find . -name *.log")
    lines = findings_lines(cands)
    assert [t.plain for t in lines] == [
        "2. find . -name '*.log' -exec rm {} \\;",
        "   deletes or overwrites data (medium): deletes the files it names, not asked for",
        "3. find . -name *.log",
        "   worth a second look (low): the shell expands *.log before find sees it: quote it ('*.log')",
    ]
    code = cands[1].code
    (span,) = [s for s in lines[0].spans if s.style == "bold red"]
    assert (span.start - 3, span.end - 3) == (code.index("rm {}"), code.index("rm {}") + len("rm {}"))
    assert lines[1].style == "red" and lines[3].style == "yellow"


def test_a_finding_the_request_asked_for_is_shown_in_yellow():
    (cand,) = shown("delete the log files", "find . -name '*.log' -delete")
    head, line = findings_lines([cand])
    assert [s.style for s in head.spans] == ["bold yellow"] and line.style == "yellow"
    assert not line.plain.endswith("not asked for")
    assert cand.to_json()["findings"][0]["asked"] is True
