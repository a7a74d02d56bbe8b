"""A local cfusion server: the installed models loaded once, answering `gen` and `explain` over a Unix socket.

Protocol, version 1: one UTF-8 JSON object a line each way; a connection may carry several requests in turn.

    request  {"v": 1, "op": "run", "argv": ["gen", "list txt files", "-k", "3"], "tty": false, "width": 100}
    reply    {"v": 1, "ok": true, "exit": 0, "stdout": "...", "stderr": "..."}
    request  {"v": 1, "op": "status"}   reply {"v": 1, "ok": true, "pid": ..., "served": ..., ...}
    request  {"v": 1, "op": "stop"}     reply {"v": 1, "ok": true}, then the server exits
    error    {"v": 1, "ok": false, "error": "one line"}   (malformed, oversized, busy, unsupported)

"run" runs the command line exactly as `cfusion` would in-process and returns what it would have printed and its
exit code, so a client only forwards its arguments and prints the reply. tty and width say how the client's stderr
renders (colour or not, columns). Limits are in protocol.py. This package imports neither torch nor rich: the
client side runs in every `cfusion gen` before anything heavy loads.
"""
