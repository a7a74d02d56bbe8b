"""Everyday Bash requests outside the benchmark: does the top answer run an expected utility?

Two hand-written sets: EARLIER (20 requests, used since 2026-11-26 to choose between rerankers) and LATER (40
requests, written on 2026-11-26 before the experiments on extra memory pairs, and used to choose EXTRA_PENALTY). A hit
is a top answer whose first word is one of the expected utilities; arguments are not checked. Runs on the CPU.

    python benchmarks/everyday_bash.py [MODEL_FOLDER ...] [-v]     # default: the shipped model
"""

import sys
from pathlib import Path

import torch

import cfusion
from cfusion.bundle import load_model
from cfusion.generate import Generator
from cfusion.memory import Memory
from cfusion.rerank import Reranker

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


def main(folders: list[str], verbose: bool) -> None:
    torch.set_grad_enabled(False)
    for path in folders:
        net, tok, folder = load_model(path)
        memory = Memory.load(folder)
        reranker = Reranker.load(folder, net.minilm) if memory is not None else None
        gen = Generator(net, tok, memory=memory, reranker=reranker)
        for name, requests in (("earlier 20", EARLIER), ("later 40", LATER)):
            answers = gen.generate([r for r, _ in requests], "bash", k=5)
            hits = [bool(a) and a[0].code.split()[0] in want for a, (_, want) in zip(answers, requests)]
            print(f"{folder} | {name} | {sum(hits)} / {len(requests)}", flush=True)
            if verbose:
                for a, (r, _), hit in zip(answers, requests, hits):
                    print(f"    {'ok ' if hit else 'BAD'} {r} -> {a[0].code if a else None}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "-v"]
    main(args or [str(Path(cfusion.__file__).parent / "weights" / "bash")], "-v" in sys.argv)
