"""Run pytest for one mutant in a fork of a process that has its libraries imported already.

A mutant's test run used to spend most of its time importing numpy, scipy, numba, pandas,
OR-Tools and rasterio (about 3 s of a 4 s run). ``serve`` imports those third-party libraries
once, *never frigoris nor the tests*, and waits on a Unix socket; ``run`` (the test command
cosmic-ray calls per mutant) asks it to fork: the child imports the package and the tests
afresh from the tree on disk (so it sees the mutant cosmic-ray just wrote), runs pytest with the
given arguments, and its exit status becomes the command's. Nothing of one mutant's run reaches
the next: each runs in its own forked process, which exits afterwards.

A child that runs longer than the timeout is ended by ``SIGALRM`` (a mutant can loop forever),
so its mutant counts as killed, as cosmic-ray counts its own timeouts.

Usage (``tests/mutation/mutate.py`` does this)::

    python tests/mutation/forkrun.py serve SOCKET TIMEOUT_S &
    python tests/mutation/forkrun.py run SOCKET -x -q tests/...
"""

from __future__ import annotations

import gc
import json
import os
import signal
import socket
import struct
import sys

LIBRARIES = (
    "numpy",
    "scipy",
    "scipy.ndimage",
    "scipy.spatial",
    "scipy.sparse",
    "scipy.interpolate",
    "scipy.optimize",
    "scipy.signal",
    "scipy.stats",
    "numba",
    "pandas",
    "pyproj",
    "rasterio",
    "shapely",
    "skimage",
    "ortools.sat.python.cp_model",
    "ortools.constraint_solver.pywrapcp",
    "matplotlib",
    "matplotlib.pyplot",
    "PIL.Image",
    "pytest",
)
"""Imported once by the server (those installed; none of them is the code under test)."""


def _send(conn: socket.socket, obj) -> None:
    data = json.dumps(obj).encode()
    conn.sendall(struct.pack("!I", len(data)) + data)


def _recv(conn: socket.socket):
    head = b""
    while len(head) < 4:
        chunk = conn.recv(4 - len(head))
        if not chunk:
            raise ConnectionError("closed")
        head += chunk
    (n,) = struct.unpack("!I", head)
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return json.loads(data)


def serve(path: str, timeout_s: float) -> None:
    """Import the libraries, then fork one pytest run per request on the socket ``path``."""
    import importlib

    sys.path[0] = os.getcwd()  # as ``python -m pytest`` run from the tree
    for name in LIBRARIES:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    leaked = [m for m in sys.modules if m.split(".")[0] in ("frigoris", "tests")]
    if leaked:
        raise SystemExit(f"the server imported code under test: {', '.join(leaked)}")
    # pytest collects garbage at its end; the libraries' objects, frozen, are not looked at
    gc.freeze()
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(4)
    while True:
        conn, _ = srv.accept()
        with conn:
            try:
                req = _recv(conn)
            except ConnectionError:
                continue
            log = req["log"]
            pid = os.fork()
            if pid == 0:  # the child: import the tree afresh and test it
                srv.close()
                conn.close()
                signal.signal(signal.SIGALRM, signal.SIG_DFL)
                signal.alarm(max(1, int(timeout_s)))
                fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                os.dup2(fd, 1)
                os.dup2(fd, 2)
                sys.dont_write_bytecode = True
                os.chdir(req["cwd"])
                import pytest

                try:
                    # hypothesis's plugin only prints statistics, and importing it costs 2 s
                    code = int(pytest.main(["-p", "no:hypothesispytest", *req["args"]]))
                except BaseException:  # noqa: BLE001 - any crash is a failing run
                    code = 3
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
            _, status = os.waitpid(pid, 0)
            code = os.waitstatus_to_exitcode(status)
            try:
                _send(conn, {"code": code if code >= 0 else 128 - code})
            except OSError:
                pass  # the client was stopped (cosmic-ray's own timeout)


def run(path: str, args: list[str]) -> int:
    """Ask the server at ``path`` for one pytest run; print its output; return its status."""
    log = f"{path}.{os.getpid()}.log"
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    with conn:
        _send(conn, {"args": args, "cwd": os.getcwd(), "log": log})
        code = _recv(conn)["code"]
    try:
        with open(log) as f:
            sys.stdout.write(f.read())
        os.unlink(log)
    except OSError:
        pass
    return code


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], float(sys.argv[3]))
    elif sys.argv[1] == "run":
        sys.exit(run(sys.argv[2], sys.argv[3:]))
    else:
        raise SystemExit("usage: forkrun.py serve SOCKET TIMEOUT_S | run SOCKET PYTEST_ARGS...")
