"""Carrying a request's literals into a recalled command: what is replaced, what is left, and that a literal never
becomes code."""

import shlex

import pytest

from cfusion.langs.bash.adapt import adapt, held
from cfusion.langs.bash.literals import literals, shape, skeleton, user_names
from cfusion.langs.bash.syntax import template_tokens as bash_template_tokens
from cfusion.langs.bash.syntax import valid as bash_valid


def test_literals_are_found_by_kind_in_order():
    assert literals('copy "my notes.txt" to /tmp/x, then wait 30s.') == [
        ("text", "my notes.txt"),
        ("file", "/tmp/x"),
        ("num", "30"),
    ]
    assert literals("find all .log files in ./build/ larger than 100MB") == [
        ("ext", ".log"),
        ("file", "./build/"),
        ("num", "100"),
    ]
    assert literals("create a directory named backup, e.g. at https://a.org/x") == [
        ("text", "backup"),
        ("url", "https://a.org/x"),
    ]
    assert literals("show running processes") == []
    assert literals("find all video files in the folder /home/<user>") == []  # a placeholder, not a path


@pytest.mark.parametrize(
    "request_, names",
    [
        ("find all python files under src", ["src"]),
        ("find all python files under src.", ["src"]),
        ("copy the folder src to /backup recursively", ["src"]),
        ("remove the directory build and everything in it", ["build"]),
        ("list the files in directory Musica", ["Musica"]),
        # what follows `directory` without naming one, a word after `current`, and requests that exclude
        ("copy the directory tree and its files", []),
        ("display all files in the current folder ending with x", []),
        ("display the files in the folder passed as argument", []),
        ("list the files in the folder starting with a", []),
        ("display all the files in the current folder excluding the directory aa", []),
        ("find all files under the current directory", []),
        ("find files under src and docs", []),
    ],
)
def test_a_folder_s_bare_name_is_a_literal(request_, names):
    assert [value for kind, value in literals(request_) if kind == "text"] == names


@pytest.mark.parametrize(
    "request_, users",
    [
        ('run command "createdb shop" as user postgres', ["postgres"]),
        ("find files owned by user www-data under /srv", ["www-data"]),
        ("switch to user jenkins.", ["jenkins"]),
        ("switch user to jenkins", ["jenkins"]),
        ('run "make" as user $USR in background', ["$USR"]),
        ('find the files of the user "olivier"', ["olivier"]),  # quoted after `user`
        # words after `user` that name no one
        ("change the owner to user and group", []),
        ("ask for user input before deleting", []),
        ("send a signal to user processes running now", []),
        ("the jenkins user access", []),
        ("add user to docker group", []),
        ("move the user to group wheel", []),
    ],
)
def test_a_user_s_name_is_a_literal(request_, users):
    assert user_names(request_) == users


@pytest.mark.parametrize(
    "code, known, asked, want",
    [
        # the two requests' unshared literals pair up by kind and in order
        (
            "head -n 10 file.txt",
            "Show the first 10 lines of file.txt",
            "show the first 20 lines of data.csv",
            "head -n 20 data.csv",
        ),
        (
            "head -10 file.txt",
            "Show the first 10 lines of file.txt",
            "print the first 3 lines of a.log",
            "head -3 a.log",
        ),
        (
            "cp file.txt /tmp/dir",
            "copy file.txt to /tmp/dir",
            "copy config.yaml to /etc/myapp",
            "cp config.yaml /etc/myapp",
        ),
        (
            'find . -name "*.txt" -mtime -7',
            "find .txt files changed in the last 7 days",
            "find .log files changed in the last 2 days",
            'find . -name "*.log" -mtime -2',
        ),
        ("mkdir foo", 'create a directory named "foo"', "create a directory named backup", "mkdir backup"),
        (
            "find /tmp -size +10M",
            "find files larger than 10MB in /tmp",
            "find files larger than 50M in /srv",
            "find /srv -size +50M",
        ),
        (
            "curl http://x.org/a",
            "fetch http://x.org/a",
            "fetch https://example.org/data.json",
            "curl https://example.org/data.json",
        ),
        # values of one shape pair up when the two requests name them in another order
        ("alias ll='ls -l'", "Alias `ls -l` to `ll`", 'set alias "cdl" for command "cd /tmp"', "alias cdl='cd /tmp'"),
        # a plain word swapped for another in the same place, where it is a whole argument of the command
        (
            "chown alice file.txt",
            "change the owner of file.txt to alice",
            "change the owner of data.db to bob",
            "chown bob data.db",
        ),
        (
            "find / -user root",
            "find files owned by the user root",
            "find files owned by the user www",
            "find / -user www",
        ),
        # ... also past a noun of its kind that the request leaves out
        (
            "sudo chown root /home/bob",
            "change owner of the file /home/bob to user root",
            "change the owner of data.db to bob",
            "sudo chown bob data.db",
        ),
        ("find / -user root", "find files owned by user root", "find files owned by bob", "find / -user bob"),
        # ... but not past other words (`current` is no folder's name), nor when the request still names the known word
        ("find DIR -type f", "count files in a DIR folder", "count files in current folder", "find DIR -type f"),
        ("cp -r src_dir dest_dir", "copy src_dir to dest_dir", "copy src_dir preserving", "cp -r src_dir dest_dir"),
        (
            "find /prog -name core -delete",
            "delete all the core files in /prog",
            'delete all regular files named "core" in /prog',
            "find /prog -name core -delete",
        ),
        # a path or URL inside the request's is another one: the request's replaces it; a trailing `/` is the same
        (
            "wget https://example.com",
            "Download https://example.com",
            "download https://example.com/file.zip",
            "wget https://example.com/file.zip",
        ),
        (
            "find /home/me -type d",
            "find directories under /home/me",
            "find directories under /home/me/src",
            "find /home/me/src -type d",
        ),
        ("find /tmp/ -name x", "find x in /tmp/", "find x in /tmp", "find /tmp/ -name x"),
        # numbers of other units, and a glob for a name, are not carried
        (
            "find . -atime +30",
            "find files accessed more than 30 days ago",
            "find files accessed 48 hours ago",
            "find . -atime +30",
        ),
        ("find / -name 'my*'", "find files matching 'my*'", 'find files ending with "fits"', "find / -name 'my*'"),
        # a known request that names no file: the command's placeholder files take the request's, in order
        ("wc -l myfile.txt", "count the lines of a file", "count the lines in report.txt", "wc -l report.txt"),
        (
            "diff /tmp/a /tmp/b",
            "compare two files",
            "show the differences between old.conf and new.conf",
            "diff old.conf new.conf",
        ),
        # placeholder URLs and extensions of globs, when the known request names none
        (
            "curl https://example.com",
            "download a URL",
            "download https://example.org/data.json",
            "curl https://example.org/data.json",
        ),
        (
            'find . -name "*.bam" | xargs rm',
            "remove all bam files",
            "remove all .bak files",
            'find . -name "*.bak" | xargs rm',
        ),
        # the numbers the importers fill tldr placeholders with (pid 1234, port 8080) take the request's; other
        # numbers the known request does not name are the command's own (`-maxdepth 1`)
        ("kill -9 1234", "Kill a process forcefully", "kill the process with pid 4242", "kill -9 4242"),
        ("nc -l 8080", "Listen on a port", "listen on port 9000", "nc -l 9000"),
        (
            "find /etc -maxdepth 1 | tail",
            "list the last ten files in /etc",
            "show the last 10 files in /etc",
            "find /etc -maxdepth 1 | tail",
        ),
        ("sleep 10", "Wait a while", "wait 2 hours", "sleep 10"),
        # counts that differ: file names and paths pair apart where those agree (then find's `~` takes the folder)
        (
            "find ~ -name readme.txt",
            "find files named readme.txt in home",
            "find files named README.md under /home",
            "find /home -name README.md",
        ),
        # shared literals stay, and so does everything when the counts do not agree
        (
            "grep foo a.txt b.txt",
            "search foo in a.txt and b.txt",
            "search foo in a.txt and c.txt",
            "grep foo a.txt c.txt",
        ),
        ("cat a.txt b.txt", "join a.txt and b.txt", "join x.txt, y.txt and z.txt", "cat a.txt b.txt"),
        ("cat /dev/null > x.log", "empty the log", "empty data.log", "cat /dev/null > data.log"),
        ("ls -la", "list all files", "list all files in /etc", "ls -la"),
        # modes, quoted expressions and fixed places are no placeholders (the lone find's `/` takes the folder below)
        ("find / -perm /u=s", "find all SUID files", "find all SUID files in /home", "find /home -perm /u=s"),
        (
            "sed -i 's/a/b/g' a.txt",
            "replace a with b in the file",
            "replace a with b in x.txt",
            "sed -i 's/a/b/g' x.txt",
        ),
        # find's `.` becomes the one folder the request names, where the known request named none
        (
            "find . -size +50k",
            "Find files larger than 50k",
            "find files larger than 50k in /srv",
            "find /srv -size +50k",
        ),
        ("find . -name '*.py'", "find python files", "find python files under ~/src", "find ~/src -name '*.py'"),
        # and so does its `~`, where the known request said home in words
        ("find ~ -name x.md", "find x.md in my home folder", "find x.md under /home", "find /home -name x.md"),
        ("find ~/ -type d", "list the folders in your home", "list the folders in /srv/data", "find /srv/data -type d"),
        # find's sizes take the request's unit (a fraction, which find cannot read, stays as it was)
        ("find . -size +50k", "Find files over 50k", "find files over 50M in /srv", "find /srv -size +50M"),
        ("find / -size +1024M", "Find files over 1024 megabytes", "find files over 2 GB", "find / -size +2G"),
        ("find / -size +1024M", "Find files over 1024 megabytes", "find files over 2.5 GB", "find / -size +1024M"),
        # and its comparison: larger is +, smaller is -, a size alone keeps the command's
        ("find ~ -size -100M", "files under 100M", "files larger than 100MB in ~", "find ~ -size +100M"),
        ("find ~ -size 100M", "files of 100M", "files smaller than 100 MB", "find ~ -size -100M"),
        ("find ~ -size +100c", "files over 100 bytes", "files of 20M", "find ~ -size +20M"),
        # and its `/`, where the known request said the file system in words
        (
            "find / -atime 20",
            "files accessed 20 days ago in the file system",
            "files in /opt accessed 20 days ago",
            "find /opt -atime 20",
        ),
        ("find / -name x.txt", "find x.txt from root", "find x.txt", "find / -name x.txt"),
        ("find / -name x.txt", "find x.txt in the system", "find x.txt, errors to /dev/null", "find / -name x.txt"),
        # a file, two folders, two finds, or a known request with its own path: as it was
        ("find . -type f", "list files", "list files like /etc/app.conf", "find . -type f"),
        ("find . -size +5k", "find files over 5k in /tmp", "find files over 5k in /srv", "find . -size +5k"),
        ("find . -type f", "list files", "list files in /srv and /opt", "find . -type f"),
        ("find . -type f | xargs find", "list files", "list files in /srv", "find . -type f | xargs find"),
        # `x' quotes and an ALL_CAPS placeholder the known request names
        ("find ~ -name readme.txt", "Locate `readme.txt' files", "locate README.md files", "find ~ -name README.md"),
        (
            "find DIR_NAME -type f | wc -l",
            "Count files in a DIR_NAME folder",
            "count files in /tmp",
            "find /tmp -type f | wc -l",
        ),
        # a quoted word of the known request (NL2Bash quotes names without an extension) takes the one file name the
        # request names, where nothing else took it; a folder, or a quoted symbol, stays as it was
        (
            "sudo chmod 755 mksdcard",
            'Change permissions of "mksdcard" to 755',
            "change the permissions of secret.key to 600",
            "sudo chmod 600 secret.key",
        ),
        (
            "find // -name myfile -type f",
            'Find "myfile" under /',
            "find foo.txt under /",
            "find // -name foo.txt -type f",
        ),
        ("mkdir foo", 'create directory "foo"', "create directory /tmp/x", "mkdir foo"),
        # a folder's bare name (`the folder src`, `under src`) is a literal: it takes a known quoted name's place, or
        # find's `.` when the request searches in it; not where it is a destination or a quoted word
        ("find . -name '*.py'", "find python files", "find all python files under src", "find src -name '*.py'"),
        ("find . -type d", "list all folders", "list all folders in the directory build", "find build -type d"),
        (
            "cp -R SRCFOLDER DESTFOLDER/",
            "Recursively copies 'SRCFOLDER' to the 'DESTFOLDER/'",
            "copy the folder src to /backup recursively",
            "cp -R src /backup",
        ),
        (
            "tar -cvf - data/* | gzip > data.tar.gz",
            'Archive and compress all files in "data" directory into "data.tar.gz"',
            "compress the folder logs into logs.tar.gz",
            "tar -cvf - logs/* | gzip > logs.tar.gz",
        ),
        ("find . -name x.txt", "find x.txt", "find x.txt and move it to the folder old", "find . -name x.txt"),
        ("find foo -type d", "find folders in the folder foo", 'find the directory "mysql"', "find foo -type d"),
        # a user's name (`as user X`, `owned by user X`) takes a known user's place, or tldr's `alice`; tldr's command
        # (`"ls"`) takes the request's quoted one, in single quotes where it would expand in double ones; a user's
        # name takes only a user's place, and a name tldr left (`container_name`) no text with spaces
        (
            'su - alice -c "ls"',
            "Execute a command as another user",
            'run command "createdb shop" as user postgres',
            'su - postgres -c "createdb shop"',
        ),
        (
            'su - alice -c "ls"',
            "Execute a command as another user",
            'run command "my_daemon & echo $! > pid" as user joe',
            "su - joe -c 'my_daemon & echo $! > pid'",
        ),
        (
            'su - alice -c "ls"',
            "Execute a command as another user",
            'run command "createdb shop" as user $USR',
            'su - "$USR" -c "createdb shop"',
        ),
        (
            "find /tmp -user ian",
            "Search /tmp for files owned by user `ian'",
            "find files owned by user bob",
            "find /tmp -user bob",
        ),
        (
            "sudo crontab -u wwwrun -e",
            "Edit the cron job list for user 'wwwrun'",
            "edit the crontab of user bob",
            "sudo crontab -u bob -e",
        ),
        (
            "ssh remote_user@server.com",
            'SSH into server "server.com" as user "remote_user"',
            "ssh into example.org as user deploy",
            "ssh deploy@example.org",
        ),
        ("ssh remotehost", 'Log in to "remotehost"', "log in as user joe", "ssh remotehost"),
        (
            "docker exec -u alice container_name ls",
            "Run a command as a specific user",
            'run command "sh run.sh" as user jetty',
            "docker exec -u jetty container_name ls",
        ),
        (
            "find . -name test",
            'find files named "test"',
            'find files named "test-a" and move them to the folder t10',
            "find . -name test-a",
        ),
        # an archive or compressed file takes another format's place only where the command finds the format itself
        (
            "cat archive.tar | tar x",
            "Extract files from 'archive.tar'",
            "extract backup.tar.gz",
            "cat archive.tar | tar x",
        ),
        ("zcat file.tar.gz | tar x", 'Unzip and untar "file.tar.gz"', "extract b.tgz", "zcat b.tgz | tar x"),
        ("tar -xzvf a.tar.gz", 'Extract "a.tar.gz"', "extract b.tar.xz", "tar -xzvf a.tar.gz"),
        (
            "tar tvf source.tar",
            'List the contents of "source.tar"',
            "list the contents of b.tar.xz",
            "tar tvf b.tar.xz",
        ),
        ("xz -d file.xz", "Decompress file.xz", "decompress data.gz", "xz -d file.xz"),
        ("cp a.zip /backup", "Copy a.zip to /backup", "copy photos.tar.gz to /backup", "cp photos.tar.gz /backup"),
        # a placeholder in angle brackets takes the request's text, even where the known request names it
        (
            'find -name "<fileName>"',
            "Find <fileName> files/directories under current directory",
            'find files in the current directory having name "notes"',
            'find -name "notes"',
        ),
        # a name tldr left as its placeholder (`process_name`) takes the request's one name
        ('pkill "process_name"', "Kill processes that match", "kill all processes named firefox", 'pkill "firefox"'),
        ("docker stop container_name", "Stop a container", "stop the container called web", "docker stop web"),
        ('pkill "process_name"', "Kill all processes which match", "kill all processes", 'pkill "process_name"'),
        ("sort -t '_' -k2 a.txt", 'sort a.txt split at "_"', "sort b.txt split at dots", "sort -t '_' -k2 b.txt"),
    ],
)
def test_adapt_carries_the_request_literals(code, known, asked, want):
    assert adapt(code, known, asked) == want


def test_utilities_and_flags_never_change():
    # "-n" would be a flag, "pwd" a utility: the template must stay, so these pairs are not carried over
    assert adapt("sort -r names.txt", 'sort "names.txt" in reverse', 'sort "-n" in reverse') == "sort -r names.txt"
    assert adapt("cd /tmp && ls", 'run "ls" in /tmp', 'run "pwd" in /tmp') == "cd /tmp && ls"
    assert adapt("echo hi | sort", 'print "hi" sorted', 'print "sort" sorted') == "echo sort | sort"  # an argument
    code = "find . -name foo -exec rm {} \\;"
    out = adapt(code, 'delete the files named "foo"', 'delete the files named "bar"')
    assert out == "find . -name bar -exec rm {} \\;" and bash_template_tokens(out) == bash_template_tokens(code)


@pytest.mark.parametrize(
    ("code", "asked", "want"),
    [
        ("tail server.log", "show the last 100 lines of server.log", "tail -n 100 server.log"),
        ("tail -f app.log", "follow the last 50 lines of app.log", "tail -n 50 -f app.log"),
        ("sudo head /var/log/x", "print the first 3 lines of /var/log/x", "sudo head -n 3 /var/log/x"),
        ("du -a | sort -n -r | head", "list the 5 largest files", "du -a | sort -n -r | head -n 5"),
        # a count already given, their default 10, two heads and tails, or no count of lines asked: as it was
        ("tail -n 20 server.log", "show the last 100 lines of server.log", "tail -n 20 server.log"),
        ("head -5 f", "show the first 3 lines of f", "head -5 f"),
        ("head -c 20 f", "show the first 3 lines of f", "head -c 20 f"),
        ("tail server.log", "show the last 10 lines of server.log", "tail server.log"),
        ("cat f | head | tail", "show the first 3 lines of f", "cat f | head | tail"),
        ("sort -n f | tail -n1", "show the last 5 lines of f", "sort -n f | tail -n1"),
        ("ls -t | head", "list files of the last 3 days", "ls -t | head"),
        ("ls -t | head", "files of the last 18 to 24 months", "ls -t | head"),
        ("tail server.log", "show the end of server.log", "tail server.log"),
    ],
)
def test_a_count_asked_for_joins_head_or_tail(code, asked, want):
    assert adapt(code, "show a file", asked) == want


EVIL = ["$(rm -rf ~)", "a; reboot", "`id`", "x' && echo 'y", "a b\nc", "$HOME/$(id)"]


@pytest.mark.parametrize("evil", EVIL)
def test_a_literal_never_becomes_code(evil):
    """A value that is not a plain word is quoted so that the shell reads it as one argument, never runs it."""
    out = adapt("grep hello file.txt", 'search for "hello" in file.txt', f'search for "{evil}" in file.txt')
    assert bash_valid(out)
    words = shlex.split(out)
    assert words[0] == "grep" and words[-1] == "file.txt"
    assert words[1] == evil  # carried as one argument
    inside = adapt('grep "hello" f', 'search for "hello" in f', f'search for "{evil}" in f')
    assert shlex.split(inside)[1] in ("hello", evil)  # in double quotes only if nothing expands, else in single ones


def _runs(code: str) -> list[str]:
    """What the shell would run or expand in code: its commands, substitutions and expansions, as tree-sitter reads
    them (text kept for commands: a new command is a new text)."""
    kinds = ("command_name", "command_substitution", "process_substitution", "expansion", "simple_expansion")
    import tree_sitter_bash
    from tree_sitter import Language, Parser

    out, stack = [], [Parser(Language(tree_sitter_bash.language())).parse(code.encode()).root_node]
    while stack:
        node = stack.pop()
        if node.type in kinds:
            out.append(node.type if node.type != "command_name" else node.text.decode())
        stack.extend(node.children)
    return sorted(out)


@pytest.mark.parametrize("evil", EVIL)
@pytest.mark.parametrize(
    "code",
    [
        "grep hello f",
        'grep "hello" f',
        "grep 'hello' f",
        """echo "say 'hello' now" """,  # single quotes inside double ones quote nothing
        """echo 'say "hello" now'""",  # double quotes inside single ones neither
        'sh -c "grep hello f"',
        'echo "$(grep "hello" f)"',
        "echo `grep hello f`",
    ],
)
def test_a_literal_runs_nothing_in_any_quoting(code, evil):
    """Wherever the replaced word stands (bare, quoted, inside another string, inside a substitution), the adapted
    command runs and expands what the recalled one did, and nothing of the request's value."""
    out = adapt(code, 'search for "hello" in f', f'search for "{evil}" in f')
    assert _runs(out) == _runs(code)


def test_the_skeleton_keeps_what_a_request_asks_and_drops_what_it_quotes():
    assert skeleton("set alias \"gs\" for command 'git status'") == 'set alias "x" for command "x"'
    assert skeleton("search for `TODO` in “notes”") == 'search for "x" in "x"'
    assert skeleton("find files named a.txt under /tmp") == "find files named a.txt under /tmp"  # only quoted text
    kept = 'the ".sh" files in "/usr" or "notes.txt", the "*.js" ones, "10" or \'https://x.org/a\''
    assert skeleton(kept) == kept  # quoted files, paths, extensions, numbers and URLs say what is asked
    assert skeleton('files named "fileA_" or "man"') == 'files named "x" or "x"'
    assert skeleton("it's the user's file") == "it's the user's file"  # apostrophes quote nothing


def test_a_request_s_shape_is_what_it_asks_of_any_arguments():
    assert shape("show the first 20 lines of data.csv") == shape("Show the first 10 lines of 'file.txt'.")
    assert shape("show the first 20 lines of data.csv") == "show first num_ lines of file_"
    assert shape("find all .log files under /var") == shape("Find all *.log files under path/")
    assert shape('set alias "gs" for command "git status"') == "set alias text_ for command text_"
    assert shape("show the last 20 lines of data.csv") != shape("show the first 20 lines of data.csv")
    assert shape("delete the file old.log") != shape("delete the file")  # a literal's kind is no word


def coverage(code: str, known: str, request: str) -> float:
    return held(adapt(code, known, request), request)


def test_coverage_is_the_share_of_the_request_literals_a_command_holds_once_carried_in():
    assert coverage("kill -9 1234", "kill the process with pid 1234", "kill the process with pid 4242") == 1.0
    assert coverage("source /etc/app", "load /etc/app", "copy config.yaml to /etc/myapp") == 0.5  # /etc/myapp only
    assert coverage("cp x.txt /tmp", "copy x.txt to /tmp", "copy config.yaml to /etc/myapp") == 1.0
    assert coverage("ls -la", "list all files", "copy config.yaml to /etc/myapp") == 0.0
    assert coverage("ls -la", "list all files", "list all files") == 0.0  # the request names none
