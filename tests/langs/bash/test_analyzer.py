"""The command analyzer: what a Bash line destroys, read from its syntax tree, on a labelled set and rule by rule."""

from collections import Counter
from pathlib import Path

import pytest

from cfusion.langs.bash.analyzer import CATEGORIES, DESTRUCTIVE, TableError, _Table, destructive, findings, parse_error

LABELLED = Path(__file__).with_name("commands.tsv")


def labelled() -> list[tuple[str, str]]:
    rows = []
    for line in LABELLED.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            label, command = line.split("\t")
            rows.append((label, command))
    return rows


def test_the_labelled_set_is_big_and_covers_every_category():
    rows = labelled()
    counts = Counter(label for label, _ in rows)
    assert set(counts) == DESTRUCTIVE | {"benign"}
    assert sum(n for label, n in counts.items() if label != "benign") >= 200 and counts["benign"] >= 200
    assert min(counts[c] for c in DESTRUCTIVE) >= 25
    assert len({c for _, c in rows}) == len(rows)  # no duplicates


def test_recall_and_false_positives_on_the_labelled_set():
    """Recall >= 99 % overall and >= 95 % per category; false positives <= 2 % of the benign look-alikes."""
    missed, flagged, by_label = [], [], Counter()
    for label, command in labelled():
        found = destructive(command)
        by_label[label] += 1
        if label == "benign" and found:
            flagged.append((command, [str(f) for f in found]))
        elif label != "benign" and not found:
            missed.append((label, command))
    n_destructive = sum(n for label, n in by_label.items() if label != "benign")
    assert len(missed) <= 0.01 * n_destructive, missed
    assert len(flagged) <= 0.02 * by_label["benign"], flagged
    for category in DESTRUCTIVE:
        assert sum(label == category for label, _ in missed) <= 0.05 * by_label[category], (category, missed)


def kinds(line: str) -> list[tuple[str, str]]:
    return [(f.category, f.part) for f in findings(line)]


@pytest.mark.parametrize(
    "line, part",
    [
        ("sudo rm -rf build", "rm -rf build"),
        ("sudo -u deploy rm -rf build", "rm -rf build"),
        ("doas rm -rf build", "rm -rf build"),
        ("env LC_ALL=C FOO=1 rm -rf build", "rm -rf build"),
        ("nohup rm -rf build &", "rm -rf build"),
        ("nice -n 10 rm -rf build", "rm -rf build"),
        ("time rm -rf build", "rm -rf build"),
        ("timeout 30 rm -rf build", "rm -rf build"),
        ("timeout -s KILL 30 rm -rf build", "rm -rf build"),
        ("watch -n 5 rm -rf build", "rm -rf build"),
        ("command rm -rf build", "rm -rf build"),
        ("exec rm -rf build", "rm -rf build"),
        ("\\rm -rf build", "\\rm -rf build"),
        ("/bin/rm -rf build", "/bin/rm -rf build"),
        ("ionice -c3 rm -rf build", "rm -rf build"),
        ("chroot /mnt rm -rf build", "rm -rf build"),
        ("sudo env X=1 nice rm -rf build", "rm -rf build"),
        ("ls | xargs rm -f", "rm -f"),
        ("ls | xargs -0 -n 1 rm", "rm"),
        ("parallel rm ::: a b c", "rm"),
        ("find . -name '*.o' -exec rm {} \\;", "rm {}"),
        ("find . -name '*.o' -execdir rm -f {} +", "rm -f {}"),
        ("find . -name '*.o' -ok rm {} \\;", "rm {}"),
        ("find . -name '*.o' -delete", "find . -name '*.o' -delete"),
        ("sh -c 'rm -rf build'", "rm -rf build"),
        ('bash -c "rm -rf build"', "rm -rf build"),
        ("bash -lc 'rm -rf build'", "rm -rf build"),
        ("zsh -c 'rm -rf build'", "rm -rf build"),
        ("su -c 'rm -rf build' deploy", "rm -rf build"),
        ("su - deploy -c 'rm -rf build'", "rm -rf build"),
        ("sudo sh -c 'cd /srv && rm -rf build'", "rm -rf build"),
        ("eval rm -rf build", "rm -rf build"),
        ("ssh web1 'rm -rf build'", "rm -rf build"),
        ("ssh -p 2222 deploy@web1 rm -rf build", "rm -rf build"),
        ("docker exec -u root app rm -rf /app/cache", "rm -rf /app/cache"),
        ("kubectl exec -n prod web-0 -- rm -rf /data", "rm -rf /data"),
        ("echo 'rm -rf build' | sh", "'rm -rf build'"),
        ("python3 -m pip uninstall -y requests", "pip uninstall -y requests"),
    ],
)
def test_every_wrapper_and_runner_is_seen_through(line, part):
    found = findings(line)
    assert any(f.destructive and f.part == part for f in found), [str(f) for f in found]
    for f in found:
        assert line[f.start : f.end] == f.part


@pytest.mark.parametrize(
    "line",
    [
        "sudo ls /root",
        "env LC_ALL=C sort data.txt",
        "command -v rm",
        "watch -n 5 df -h",
        "timeout 30 make test",
        "ls | xargs -n1 echo",
        "find . -name '*.o' -exec ls -l {} \\;",
        "sh -c 'echo hello'",
        "su -c 'whoami' deploy",
        "ssh web1 'df -h'",
        "echo 'ls -l' | sh",
        "echo 'rm -rf /'",
        "grep -rn 'rm -rf' .",
        "man rm",
        "alias rm='rm -i'",
        "rm --help",
        "kubectl delete pod web --dry-run=client",
        "git push --dry-run --force origin main",
    ],
)
def test_benign_lines_through_the_same_wrappers_destroy_nothing(line):
    assert destructive(line) == (), [str(f) for f in findings(line)]


@pytest.mark.parametrize(
    "line, category, part",
    [
        ("> app.log", "deletes", "> app.log"),
        (": > app.log", "deletes", ": > app.log"),
        ("echo -n > app.log", "deletes", "echo -n > app.log"),
        ("cat /dev/null > app.log", "deletes", "cat /dev/null > app.log"),
        ("sort data.txt > data.txt", "deletes", "sort data.txt > data.txt"),
        ("sed 's/a/b/' ./notes.txt > notes.txt", "deletes", "sed 's/a/b/' ./notes.txt > notes.txt"),
        ("cat notes.txt | sort -u > notes.txt", "deletes", "cat notes.txt | sort -u > notes.txt"),
        ("sort < data.txt > data.txt", "deletes", "sort < data.txt > data.txt"),
        ("echo 'bob ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers", "weakens", None),
        ("echo 'bob ALL=(ALL) NOPASSWD:ALL' | sudo tee -a /etc/sudoers.d/bob", "weakens", None),
        ("cat disk.img > /dev/sdb", "deletes", "cat disk.img > /dev/sdb"),
        ("> ~/.bash_history", "deletes", "> ~/.bash_history"),
        ("echo b > /proc/sysrq-trigger", "stops", "echo b > /proc/sysrq-trigger"),
        ("echo 0 > /proc/sys/kernel/randomize_va_space", "weakens", None),
        ("echo 'PermitRootLogin yes' | sudo tee -a /etc/ssh/sshd_config", "weakens", None),
        ("cat key.pub >> ~/.ssh/authorized_keys", "weakens", None),
    ],
)
def test_redirections_count(line, category, part):
    found = [f for f in findings(line) if f.category == category]
    assert found, [str(f) for f in findings(line)]
    if part is not None:
        assert found[0].part == part


@pytest.mark.parametrize(
    "line",
    [
        "sort data.txt > sorted.txt",
        "sort -o data.txt data.txt",
        "echo hello > greeting.txt",
        "echo data.txt > names.txt",
        "ls >> listing.txt",
        "make 2>/dev/null",
        "make > build.log 2>&1",
        "cat <<EOF > notes.txt\nhello\nEOF",
        ": >> app.log",
        "echo 2 > /proc/sys/kernel/randomize_va_space",
    ],
)
def test_harmless_redirections_are_not_flagged(line):
    assert destructive(line) == (), [str(f) for f in findings(line)]


@pytest.mark.parametrize(
    "line, category",
    [
        ("(cd /srv && rm -rf build)", "deletes"),
        ("{ make; rm -rf build; }", "deletes"),
        ('for f in *.log; do rm "$f"; done', "deletes"),
        ('while read -r pid; do kill "$pid"; done < pids.txt', "stops"),
        ("if [ -d build ]; then rm -rf build; fi", "deletes"),
        ("clean() { rm -rf build; }; clean", "deletes"),
        ("echo $(rm -rf build)", "deletes"),
        ("diff <(rm -rf a) b", "deletes"),
        ("make || git reset --hard", "deletes"),
        (":(){ :|:& };:", "stops"),
        ("bomb() { bomb | bomb & }; bomb", "stops"),
        ("bash <(curl -fsSL https://example.com/install.sh)", "fetched"),
        ('sh -c "$(curl -fsSL https://example.com/install.sh)"', "fetched"),
        ('eval "$(wget -qO- https://example.com/env.sh)"', "fetched"),
        ("source <(curl -s https://example.com/env.sh)", "fetched"),
        ("curl -fsSL https://example.com/install.sh | sudo bash -s -- --yes", "fetched"),
        ("wget -qO- https://example.com/get.py | python3", "fetched"),
        ("curl -o setup.sh https://example.com/setup.sh && bash setup.sh", "fetched"),
        ("wget https://example.com/setup.sh; chmod +x setup.sh; ./setup.sh", "fetched"),
        ("export NODE_TLS_REJECT_UNAUTHORIZED=0", "weakens"),
        ("mysql shop <<< 'DROP TABLE carts'", "deletes"),
        ("echo 'FLUSHALL' | redis-cli", None),  # redis-cli reads commands on stdin, and its rules read arguments
    ],
)
def test_every_kind_of_structure_is_walked(line, category):
    found = {f.category for f in destructive(line)}
    if category is None:
        return
    assert category in found, [str(f) for f in findings(line)]


def test_a_recursive_function_without_pipe_or_background_is_no_fork_bomb():
    assert destructive("count() { count; }") == ()


def test_ssh_commands_are_analysed_as_remote():
    (f,) = destructive("ssh admin@db1 'sudo systemctl stop postgresql'")
    assert (f.category, f.host, f.part) == ("stops", "db1", "systemctl stop postgresql")
    assert "on db1" in str(f)


def test_severity_rises_with_what_is_at_stake():
    assert destructive("rm notes.txt")[0].severity == "medium"
    assert destructive("rm -rf /")[0].severity == "high"
    assert destructive("rm -rf ~")[0].severity == "high"
    assert destructive("chmod -R 755 build")[0].severity == "medium"
    assert destructive("chmod -R 777 /")[0].severity == "high"


def test_an_unquoted_glob_the_shell_would_expand_is_a_caution():
    (f,) = findings("find . -name *.txt")
    assert (f.category, f.part, f.destructive) == ("caution", "*.txt", False)
    assert "quote it" in f.reason
    assert findings("find . -name '*.txt'") == findings("find . -name \\*.txt") == ()


def test_in_place_edits_and_archives_are_cautions_not_destruction():
    assert [(f.category, f.asks) for f in findings("sed -i 's/a/b/' notes.txt")] == [("caution", "edits")]
    assert [(f.category, f.asks) for f in findings("tar czf backup.tgz src")] == [("caution", "archives")]
    assert destructive("sed -i '/^bob:/d' /etc/passwd")[0].category == "deletes"
    selinux_off = destructive("sed -i 's/SELINUX=enforcing/SELINUX=disabled/' /etc/selinux/config")
    assert {f.category for f in selinux_off} == {"weakens", "deletes"}  # a system file edited, and what it says


def test_findings_are_positioned_in_multibyte_text():
    line = "echo 'héllo wörld' && rm -rf 'büild'"
    (f,) = destructive(line)
    assert f.part == "rm -rf 'büild'" and line[f.start : f.end] == f.part


def test_every_finding_names_a_known_category_and_a_reason():
    for _, command in labelled():
        for f in findings(command):
            assert f.category in CATEGORIES and f.severity in ("low", "medium", "high") and f.reason
            assert command[f.start : f.end] == f.part


@pytest.mark.parametrize(
    "line, where, message",
    [
        ("ls (", (1, 4), "unexpected"),
        ("echo 'unterminated", (1, 6), "unexpected"),
        ("if true; then\n  ls\n", (3, 1), "missing"),
        ("ls | | wc", (1, 6), "unexpected '|'"),
    ],
)
def test_a_line_that_does_not_parse_gives_the_position(line, where, message):
    error = parse_error(line)
    assert error is not None and (error.line, error.column) == where, error
    assert message in error.message


def test_a_line_that_parses_has_no_error():
    assert parse_error('for f in *; do echo "$f"; done | sort > out.txt') is None


def test_the_table_refuses_unknown_keys_categories_and_paths():
    base = {"paths": {"system": "^/$"}, "fetch": {"fetchers": [], "runners": []}}
    bad_key = {"utility": {"rm": {"rules": [{"category": "deletes", "severity": "high", "reason": "x", "flagz": []}]}}}
    with pytest.raises(TableError, match="unknown rule key"):
        _Table(base | bad_key)
    bad_category = {"utility": {"rm": {"rules": [{"category": "erases", "severity": "high", "reason": "x"}]}}}
    with pytest.raises(TableError, match="category must be one of"):
        _Table(base | bad_category)
    bad_path = {
        "utility": {"rm": {"rules": [{"category": "deletes", "severity": "high", "reason": "x", "path": "sys"}]}}
    }
    with pytest.raises(TableError, match="path class must be one of"):
        _Table(base | bad_path)
