"""What a Bash command does that cannot be undone, what a request asks for, and the ranking that keeps the two apart."""

import pytest

from cfusion.langs.bash.effects import (
    ARCHIVES,
    DELETES,
    EDITS,
    FETCHED,
    PERMISSIONS,
    STOPS,
    UNINSTALLS,
    WEAKENS,
    WRITES,
    asked,
    demanded,
    effects,
    missing,
    runs_as,
    switches_to,
    unasked,
)
from cfusion.pipeline.candidate import Candidate
from cfusion.pipeline.generator import answers
from cfusion.pipeline.rank import rank


@pytest.mark.parametrize(
    "code, want",
    [
        ("rm -rf build", {DELETES}),
        ("sudo /bin/rm old.log", {DELETES}),
        ("find . -name '*.tmp' -delete", {DELETES}),
        ("find . -name '*.tmp' -exec rm {} \\;", {DELETES}),
        ("find . -name '*.tmp' -print0 | xargs -0 /bin/rm -f", {DELETES}),
        ("rmdir empty", {DELETES}),
        ("shred -u secret.key", {DELETES}),
        ("truncate -s 0 app.log", {DELETES}),
        ("dd if=/dev/zero of=/dev/sdb bs=1M", {WRITES}),  # asked for by "write", "wipe", "zero" ...
        ("mkfs.ext4 /dev/sdb1", {DELETES}),
        ("git clean -fd", {DELETES}),
        ("git reset --soft HEAD~1 && git reset --hard origin/main", {DELETES}),
        ("kill -9 4242", {STOPS}),
        ("pkill firefox", {STOPS}),
        ("sudo reboot", {STOPS}),
        ("ps aux | grep x | awk '{print $2}' | xargs kill && rm x.pid", {DELETES, STOPS}),
        ("find . -name .svn | parallel rm -rf", {DELETES}),
        ("timeout 5 pkill -f job", {STOPS}),
        ("find . -exec sh -c 'rm -f \"$0\"' {} \\;", {DELETES}),
        ('bash -c "echo hi; rm -rf /tmp/x"', {DELETES}),
        ("su - bob -c 'rm -rf ~/cache'", {DELETES}),
        ('su -l bob -s /bin/bash -c "pkill job"', {STOPS}),
        ("tar czfP backup.tar.gz /path/to/catalog", {ARCHIVES}),  # writes over backup.tar.gz
        ("tar -cvf - data/* | gzip > logs.tar.gz", {ARCHIVES}),
        ("tar --create -f a.tar docs", {ARCHIVES}),
        ("sed -i 's/foo/bar/g' file.txt", {EDITS}),
        ("find . -name '*.txt' | xargs sed -i.bak -e 's/a/b/'", {EDITS}),
        ("perl -pi -e 's/a/b/' x.conf", {EDITS}),
        ("sed --in-place=.bak 's/a/b/' x.conf", {EDITS}),
        # reading, listing, copying, and words that only look like it
        ("tar xvf a.tar", set()),
        ("tar xf cfg.tar", set()),
        ("tar -xzf a.tgz -C /tmp", set()),
        ("tar -tvf a.tar", set()),
        ("find . -name '*.tmp'", set()),
        ("ls -l | grep rm", set()),
        ("echo rm -rf /", set()),
        ("find . | parallel gzip", set()),
        ("sh -c 'ls -l'", set()),
        ("su - bob -c 'ls -l'", set()),
        ("git reset HEAD~1", set()),
        ("dd if=/dev/sda bs=512 count=1 | xxd", set()),
        ("cp a.txt b.txt", set()),
        ("sed 's/foo/bar/g' file.txt", set()),
        ("sed -n '5,10p' input.txt", set()),
        ("perl -ne 'print if /x/' a.log", set()),
    ],
)
def test_effects_are_read_from_the_parsed_command(code, want):
    assert effects(code) == want


@pytest.mark.parametrize(
    "request_, want",
    [
        ("delete empty directories under /tmp", {DELETES, EDITS, UNINSTALLS}),  # deleting lines is editing too
        ("remove the file old.log", {DELETES, EDITS, UNINSTALLS}),
        ("clean up the logs folder", {DELETES, EDITS}),
        ("kill all processes named firefox", {STOPS}),
        ("terminate the process with pid 42 and delete its pid file", {DELETES, STOPS, EDITS, UNINSTALLS}),
        ("display all the doc files in the current folder", set()),
        ("list the processes named firefox", set()),
        ("find files ending with .txt", set()),
        ("compress the folder logs into logs.tar.gz", {ARCHIVES}),
        ("extract backup.tar.gz", set()),  # a file's name asks for nothing
        ("run cleanup.sh", set()),
        ("replace foo with bar in file.txt", {EDITS}),
        ("print lines of file.txt that contain foo", set()),
        ("give everyone write permission on shared/", {PERMISSIONS, WEAKENS, ARCHIVES, EDITS}),  # "write"
        ("turn the firewall off", {WEAKENS, STOPS, EDITS}),  # "turn"
        ("download the install script and run it", {FETCHED}),
        ("uninstall nginx", {UNINSTALLS, DELETES}),
    ],
)
def test_a_request_asks_for_what_it_names_in_words(request_, want):
    """Generous on purpose: a request asks for at least `want` (nothing at all when `want` is empty), and for
    deleting or stopping exactly when `want` says so."""
    found = asked(request_)
    assert want <= found and (found & {DELETES, STOPS}) == (want & {DELETES, STOPS})
    if not want:
        assert found == set()


def test_unasked_is_what_the_command_does_beyond_the_request():
    assert unasked("find . -name '*.doc' -exec rm {} \\;", "display all the doc files") == {DELETES}
    assert unasked("find . -name '*.doc' -exec rm {} \\;", "delete all the doc files") == set()
    assert unasked("kill -9 42 && rm x.pid", "kill process 42") == {DELETES}


def test_what_a_request_plainly_demands_and_a_command_lacks():
    assert demanded("delete empty directories under /tmp") == {DELETES}
    assert demanded("find empty directories and clean them up") == set()  # `asked`, generous, takes these
    assert demanded("terminate process 42") == {STOPS}
    assert demanded("open delete_me.txt") == asked("open delete_me.txt") == set()  # a file's name demands nothing
    assert missing("find /tmp -type d -empty", "delete empty directories under /tmp") == {DELETES}
    assert missing("find /tmp -type d -empty -delete", "delete empty directories under /tmp") == set()
    assert missing("ls", "list files") == set()


def test_a_command_that_lacks_what_the_request_demands_loses_a_close_call():
    pool = [recalled("find /tmp -type d -empty", 0.85, "find empty directories under /tmp")]
    pool.append(recalled("find . -type d -empty -delete", 0.80, "delete empty directories"))
    top = answers(pool, "delete empty directories under /tmp", "bash", 2)
    assert [c.code for c in top] == ["find /tmp -type d -empty -delete", "find /tmp -type d -empty"]
    assert top[0].fits == 1.0 and top[1].fits == 0.0  # both hold /tmp; one lacks the deletion asked for
    assert answers(pool, "find empty directories under /tmp", "bash", 1)[0].code == "find /tmp -type d -empty"


def recalled(code: str, sim: float, known: str = "k") -> Candidate:
    return Candidate(code, None, 0, True, similarity=sim, known=known)


def test_a_command_that_does_what_was_not_asked_never_answers_first():
    def pool():  # the destructive command is the nearest and agrees with the samples' template
        return [
            recalled("find . -name '*.doc' -exec rm {} \\;", 0.9),
            recalled("find . -name '*.doc'", 0.7),
            recalled("ls *.doc", 0.6),
            Candidate("find . -name x -exec rm {} \\;", -0.1, 5, True),
        ]

    request = "display all the doc files"
    assert rank(pool(), "bash")[0].code.endswith("rm {} \\;")  # the consensus alone picks it
    top = answers(pool(), request, "bash", 4)
    assert top[0].code == "find . -name '*.doc'" and top[0].effects == ()
    assert [c.unasked for c in top[-2:]] == [(DELETES,), (DELETES,)]  # shown after the others, flagged
    asked_for = answers(pool(), "delete all the doc files", "bash", 4)
    assert asked_for[0].code.endswith("rm {} \\;") and asked_for[0].effects == (DELETES,) and not asked_for[0].unasked
    # a near-identical known request with a destructive command does not answer a request that did not ask
    twin = [recalled("rm -f *.doc", 0.99, "display the doc files"), recalled("ls *.doc", 0.6)]
    assert answers(twin, request, "bash", 2)[0].code == "ls *.doc"
    # an archive written over the file the request asks to extract
    over = [recalled("tar czfP backup.tar.gz /path/to/catalog", 0.8), recalled("tar -xzvf backup.tar.gz", 0.7)]
    assert rank(list(over), "bash")[0].code.startswith("tar czfP")
    assert answers(over, "extract backup.tar.gz", "bash", 1)[0].code == "tar -xzvf backup.tar.gz"
    # when nothing else is valid, the destructive command is still shown, flagged
    alone = [recalled("rm -f *.doc", 0.8), Candidate("ls (", -1.0, 1, False)]
    assert answers(alone, request, "bash", 2)[0].unasked == (DELETES,)
    assert answers(alone, request, "bash", 2)[0].to_json()["unasked"] == [DELETES]


@pytest.mark.parametrize(
    "request_, want",
    [
        ('run command "createdb shop" as user postgres', "postgres"),
        ("switch to user jenkins", "jenkins"),
        ("switch user to jenkins", "jenkins"),
        ("login as user root", "root"),
        ('run a shell as the user "olivier"', "olivier"),
        ("ssh into example.org as user deploy", None),  # a host: ssh's user is the remote one
        ("run ls as user bob on this machine", "bob"),
        ("run ls as user bob on the build machine", None),
        ('run "uptime" on server "web1" as user "admin"', None),
        ("find all files owned by user bob", None),  # asks about a user, not to act as one
        ("change the owner of data.csv to user bob", None),
        ("run ls as the superuser", None),  # no user named: sudo is as good as su
    ],
)
def test_the_user_a_request_asks_to_act_as(request_, want):
    assert runs_as(request_) == want


def test_a_command_switches_to_the_user_it_names():
    assert switches_to('su - postgres -c "createdb shop"', "postgres")
    assert switches_to("sudo -u postgres psql", "postgres") and switches_to("sudo -iu bob", "bob")
    assert switches_to("sudo su bob", "bob") and switches_to("runuser -l bob -c id", "bob")
    assert not switches_to('su - alice -c "ls"', "postgres")  # another user
    assert not switches_to("sudo chown postgres data", "postgres")  # names the user, runs as root
    assert not switches_to('echo "createdb shop" | ssh postgres@host', "postgres")
    assert not switches_to("su - postgresql", "postgres")  # a whole word


def test_a_request_to_act_as_a_user_is_answered_by_a_command_that_switches_to_them():
    """NL2Bash's nearest requests run a command as a user on a host (ssh), and the samples and the reranker agree with
    them; tldr's `su` command holds the request's user and command once they are carried in, and answers first."""
    request = 'run command "createdb shop" as user postgres'
    pool = [
        recalled('echo "command" | ssh user@host', 0.62, 'Run "command" on server "host" as user "user"'),
        recalled("ssh root@something 'ls -l'", 0.60, 'Execute "ls -l" on host "something" as user "root"'),
        recalled('su - alice -c "ls"', 0.56, "Execute a command as another user"),
        recalled("sudo chown postgres data", 0.5, "Change the owner of data to postgres"),
        Candidate("echo command | ssh host", -0.2, 5, True),
    ]
    for c, rerank in zip(pool, [1.0, 0.5, -3.0, -2.0]):
        c.rerank = rerank
    assert "ssh" in rank([Candidate(**vars(c)) for c in pool], "bash")[0].code  # the consensus alone
    top = answers(pool, request, "bash", 3)
    assert top[0].code == 'su - postgres -c "createdb shop"' and top[0].adapted_from == 'su - alice -c "ls"'
    assert all("su " not in c.code for c in top[1:])
    # no command that switches to the user: the ranking is the consensus's
    assert "ssh" in answers(pool[:2] + pool[3:], request, "bash", 1)[0].code
    # a request that names a host keeps ssh
    assert "ssh" in answers(pool, 'run "createdb shop" on host db1 as user postgres', "bash", 1)[0].code
