"""Everyday Bash requests outside the benchmark: does the top answer run an expected utility?

Three hand-written sets: EARLIER (20 requests, used since 2026-11-26 to choose between rerankers), LATER (40
requests, written on 2026-11-26 before the experiments on extra memory pairs, and used to choose EXTRA_PENALTY) and
LITERALS (40 requests that name files, paths, numbers or words, written on 2026-11-26 before carrying a request's
literals into recalled commands was built). A hit is a top answer whose first word is one of the expected utilities
and, for LITERALS, that contains each expected literal; arguments are not checked otherwise. Runs on the CPU.

    python benchmarks/everyday_bash.py [MODEL_FOLDER ...] [-v]     # default: the shipped model

Each folder answers with its own rank.json, at the GPU's settings (float32, 10 steps).
"""

import sys

import torch

from cfusion.core.bundle import installed_model, load_model
from cfusion.pipeline.generator import Generator, load_recall
from cfusion.pipeline.rank import RankWeights

EARLIER = [
    ("print the current date", {"date"}),
    ("find all txt files under the current directory", {"find"}),
    ("delete empty directories under /tmp", {"find"}),
    ("find all files modified in the last 7 days", {"find"}),
    ("count the lines in file.txt", {"wc", "cat"}),
    ("show disk usage of the home directory", {"du"}),
    ("kill all processes named firefox", {"kill", "pkill", "killall"}),
    ("list all files in the current directory sorted by size", {"ls"}),
    ("compress the folder logs into logs.tar.gz", {"tar"}),
    ("show the last 20 lines of /var/log/syslog", {"tail"}),
    ("search for the word error in all log files", {"grep", "find"}),
    ("print the current working directory", {"pwd", "echo"}),
    ("make the file run.sh executable", {"chmod"}),
    ("create a directory named backup", {"mkdir"}),
    ("show running processes", {"ps", "top"}),
    ("sort the lines of names.txt and remove duplicates", {"sort"}),
    ("rename file a.txt to b.txt", {"mv", "rename"}),
    ("show free memory", {"free", "cat", "vmstat"}),
    ("print the hostname", {"hostname", "echo", "uname"}),
    ("extract archive.tar.gz", {"tar"}),
]
LATER = [
    ("show free memory in megabytes", {"free"}),
    ("extract archive.tar.gz into the current directory", {"tar"}),
    ("list files including hidden ones", {"ls"}),
    ("copy the folder src to /backup recursively", {"cp", "rsync"}),
    ("find files larger than 100MB in /var", {"find"}),
    ("show the first 10 lines of data.csv", {"head"}),
    ("count the number of files in the current directory", {"ls", "find"}),
    ("replace foo with bar in file.txt", {"sed"}),
    ("download https://example.com/file.zip", {"wget", "curl"}),
    ("show my ip address", {"ip", "ifconfig", "hostname", "curl"}),
    ("print the environment variables", {"env", "printenv"}),
    ("change the owner of file.txt to alice", {"chown"}),
    ("show the size of each directory in the current folder", {"du"}),
    ("follow the log file app.log", {"tail"}),
    ("create an empty file named notes.txt", {"touch"}),
    ("delete all .tmp files under the current directory", {"find", "rm"}),
    ("list the open ports", {"netstat", "ss", "lsof"}),
    ("show the kernel version", {"uname"}),
    ("print lines of server.log that contain error, ignoring case", {"grep"}),
    ("unzip photos.zip", {"unzip"}),
    ("show how long the system has been running", {"uptime"}),
    ("find all python files that contain import os", {"grep", "find"}),
    ("print the number of lines, words and characters in essay.txt", {"wc"}),
    ("show the calendar of this month", {"cal"}),
    ("make a symbolic link named latest pointing to release-2", {"ln"}),
    ("print the current user name", {"whoami", "echo", "id"}),
    ("list all running docker containers", {"docker"}),
    ("show the differences between a.txt and b.txt", {"diff"}),
    ("schedule a job with crontab", {"crontab"}),
    ("print the path of the python3 executable", {"which", "type", "command"}),
    ("archive the directory photos into photos.zip", {"zip"}),
    ("show disk space usage of all mounted filesystems", {"df"}),
    ("remove the directory build and everything in it", {"rm"}),
    ("print the 5 largest files in the current directory", {"ls", "du", "find"}),
    ("show the git commit history", {"git"}),
    ("compute the md5 checksum of image.iso", {"md5sum", "md5"}),
    ("print unique lines of list.txt", {"sort", "uniq"}),
    ("move all jpg files to the pictures folder", {"mv", "find"}),
    ("show the last 50 lines of the system journal", {"journalctl", "tail"}),
    ("list users currently logged in", {"who", "w", "users"}),
]

LITERALS = [
    ("show the first 20 lines of data.csv", {"head"}, ["20", "data.csv"]),
    ("count the lines in report.txt", {"wc", "cat"}, ["report.txt"]),
    ("make deploy.sh executable", {"chmod"}, ["deploy.sh"]),
    ("rename draft.txt to final.txt", {"mv"}, ["draft.txt", "final.txt"]),
    ("copy config.yaml to /etc/myapp", {"cp"}, ["config.yaml", "/etc/myapp"]),
    ("delete the file old.log", {"rm"}, ["old.log"]),
    ("show the last 100 lines of server.log", {"tail"}, ["100", "server.log"]),
    ("search for the word timeout in app.log", {"grep"}, ["timeout", "app.log"]),
    ("find all files named README.md under /home", {"find"}, ["README.md", "/home"]),
    ("find files modified in the last 3 days", {"find"}, ["3"]),
    ("create a directory called projects", {"mkdir"}, ["projects"]),
    ("change the permissions of secret.key to 600", {"chmod"}, ["600", "secret.key"]),
    ("show disk usage of /var/log", {"du"}, ["/var/log"]),
    ("kill the process with pid 4242", {"kill"}, ["4242"]),
    ("extract backup.tar.gz", {"tar"}, ["backup.tar.gz"]),
    ("compress the directory docs into docs.tar.gz", {"tar"}, ["docs", "docs.tar.gz"]),
    ("sort the lines of names.txt", {"sort"}, ["names.txt"]),
    ("print the contents of notes.txt", {"cat", "less", "more"}, ["notes.txt"]),
    ("count the words in essay.txt", {"wc", "cat"}, ["essay.txt"]),
    ("find all .log files under /var", {"find"}, [".log", "/var"]),
    ("delete all files with the extension .bak in the current directory", {"find", "rm"}, [".bak"]),
    ("show the differences between old.conf and new.conf", {"diff"}, ["old.conf", "new.conf"]),
    ("change the owner of data.db to bob", {"chown"}, ["data.db", "bob"]),
    ("create a symbolic link named current pointing to /opt/app-2.1", {"ln"}, ["current", "/opt/app-2.1"]),
    ("download the file at https://example.org/data.json", {"wget", "curl"}, ["https://example.org/data.json"]),
    ("replace all occurrences of http with https in links.txt", {"sed"}, ["https", "links.txt"]),
    ("find files larger than 50M in /srv", {"find"}, ["50", "/srv"]),
    ("list the contents of /etc", {"ls"}, ["/etc"]),
    ("go to the directory /usr/local/bin", {"cd"}, ["/usr/local/bin"]),
    ("print lines 5 to 10 of input.txt", {"sed", "head", "awk", "tail"}, ["input.txt"]),
    ("remove the empty directory tmpdir", {"rmdir", "rm"}, ["tmpdir"]),
    ("show the md5 checksum of image.iso", {"md5sum", "md5"}, ["image.iso"]),
    ("wait 30 seconds", {"sleep"}, ["30"]),
    ("print hello world", {"echo", "printf"}, ["hello world"]),
    ("count the files in /tmp", {"ls", "find"}, ["/tmp"]),
    ("print the first column of data.tsv", {"cut", "awk"}, ["data.tsv"]),
    ("find all python files under src", {"find"}, ["src"]),
    ("show the size of movie.mp4", {"du", "ls", "stat"}, ["movie.mp4"]),
    ("append the line done to log.txt", {"echo"}, ["log.txt"]),
    ("copy all .jpg files from /media/camera to ~/pictures", {"cp", "find"}, ["/media/camera", "~/pictures"]),
]


def hit(answer: str, utilities: set[str], literals: list[str] = ()) -> bool:
    """The answer's first word is an expected utility and it contains every expected literal (case-insensitive)."""
    words = answer.split()
    return bool(words) and words[0] in utilities and all(x.lower() in answer.lower() for x in literals)


def main(folders: list[str], verbose: bool) -> None:
    torch.set_grad_enabled(False)
    for path in folders:
        net, tok, folder = load_model(path)
        memory, reranker, sketch = load_recall(folder, net.minilm)
        gen = Generator(net, tok, memory=memory, reranker=reranker, sketch=sketch, weights=RankWeights.load(folder))
        for name, requests in (("earlier 20", EARLIER), ("later 40", LATER), ("literals 40", LITERALS)):
            answers = gen.generate([r for r, *_ in requests], "bash", k=5)
            tops = [a[0].code if a else "" for a in answers]
            hits = [hit(top, *want) for top, (_, *want) in zip(tops, requests)]
            line = f"{folder} | {name} | {sum(hits)} / {len(requests)}"
            if name.startswith("literals"):
                utility = sum(hit(top, want) for top, (_, want, _) in zip(tops, requests))
                line += f" (expected utility alone: {utility})"
            print(line, flush=True)
            if verbose:
                for top, (r, *_), ok in zip(tops, requests, hits):
                    print(f"    {'ok ' if ok else 'BAD'} {r} -> {top}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "-v"]
    main(args or [str(installed_model("bash"))], "-v" in sys.argv)
