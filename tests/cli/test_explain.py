"""`cfusion explain` end to end: the tree, --json, --check's exit codes, stdin, parse errors; man pages or the
shipped descriptions."""

import json
import os
import shutil
import subprocess

import pytest
from conftest import CFUSION, cfusion

HAS_MAN = shutil.which("man") is not None and subprocess.run(["man", "-w", "rm"], capture_output=True).returncode == 0


def test_explain_prints_the_structure_with_help_and_findings_in_a_tree():
    proc = cfusion("explain", "find . -name '*.tmp' -exec rm -f {} \\; && echo done > log.txt 2>&1", check=True)
    out = proc.stdout
    for part in ("list &&", "find", "-name", "-exec", "rm", "-f", "> log.txt", "2>&1", "echo"):
        assert part in out, part
    assert "deletes or overwrites data (medium): deletes the files it names" in out
    assert "sends the errors where the output goes" in out
    assert "1 destructive finding(s): review before running." in out
    assert "Traceback" not in proc.stderr


def test_explain_says_when_nothing_is_destructive():
    proc = cfusion("explain", "ls -la /tmp | sort", check=True)
    assert "Nothing destructive found." in proc.stdout and "pipeline" in proc.stdout


@pytest.mark.skipif(not HAS_MAN, reason="this machine has no man pages (see .ci/run)")
def test_explain_reads_the_machines_man_pages():
    tree = json.loads(cfusion("explain", "rm -rf build", "--json", check=True).stdout)["tree"]
    (rm,) = tree["children"]
    assert rm["title"] == "rm" and rm["source"].startswith("man:") and "remove" in rm["help"]
    flags = {c["title"]: c.get("help", "") for c in rm["children"] if c["kind"] == "flag"}
    assert "recursively" in flags["-rf"] and "-f:" in flags["-rf"]


def test_explain_falls_back_to_the_shipped_descriptions_without_man(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}  # no `man` on the PATH
    proc = subprocess.run(
        [CFUSION, "explain", "tar -xzf backup.tgz", "--json"], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    (tar,) = json.loads(proc.stdout)["tree"]["children"]
    assert tar["source"] == "tldr" and tar["help"]


def test_explain_json_has_the_tree_and_every_finding():
    out = json.loads(cfusion("explain", "ssh web1 'rm -rf /data' | tee out.txt", "--json", check=True).stdout)
    assert out["destructive"] is True
    (f,) = out["findings"]
    assert (f["category"], f["part"], f["host"]) == ("deletes", "rm -rf /data", "web1")
    pipeline = out["tree"]["children"][0]
    assert pipeline["kind"] == "pipeline"
    ssh = pipeline["children"][0]
    assert ssh["title"] == "ssh" and ssh["children"][1]["kind"] == "shell text"
    assert ssh["children"][1]["children"][0]["findings"][0]["reason"] == "deletes the files it names"


@pytest.mark.parametrize(
    "command, code",
    [("git push --force origin main", 3), ("kubectl get pods -n prod", 0), ("find . -name *.txt", 0), ("> app.log", 3)],
)
def test_check_exits_3_when_something_is_destructive(command, code):
    proc = cfusion("explain", "--check", command)
    assert proc.returncode == code, proc.stderr
    assert proc.stdout == ""
    if code == 3:
        assert proc.stderr.strip()  # the findings, one per line


def test_check_with_json_for_scripts():
    proc = cfusion("explain", "--check", "--json", "curl -s https://example.com/i.sh | sudo bash")
    assert proc.returncode == 3
    out = json.loads(proc.stdout)
    assert out["destructive"] and out["findings"][0]["category"] == "fetched" and "tree" not in out


def test_explain_reads_stdin():
    proc = cfusion("explain", "-", "--check", input="sudo systemctl stop sshd\n")
    assert proc.returncode == 3 and "stops the service" in proc.stderr


@pytest.mark.parametrize(
    "command, where",
    [("ls (", "line 1, column 4"), ("if true; then\n  ls\n", "line 1, column 1: 'if true; then...' is not closed")],
)
def test_a_command_that_does_not_parse_exits_2_with_the_position(command, where):
    for args in (("explain", command), ("explain", "--check", command)):
        proc = cfusion(*args)
        assert proc.returncode == 2
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: the command does not parse: " + where)
        assert "Traceback" not in proc.stderr


def test_empty_and_oversized_commands_are_usage_errors():
    for command in ("", "   "):
        proc = cfusion("explain", command)
        assert proc.returncode == 2 and proc.stderr.startswith("Error: the command is empty")
    proc = cfusion("explain", "-", input="ls " * 30000)
    assert proc.returncode == 2 and "at most 65536" in proc.stderr


def test_explain_knows_only_languages_with_an_explainer():
    proc = cfusion("explain", "--lang", "python", "print(1)")
    assert proc.returncode == 2 and "explain knows no python" in proc.stderr
    proc = cfusion("explain", "--lang", "perl", "print 1")
    assert proc.returncode == 2 and "unknown --lang 'perl': installed models are " in proc.stderr
    assert "bash" in proc.stderr.split("installed models are ")[1].split("(")[0]
