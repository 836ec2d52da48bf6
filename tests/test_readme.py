"""Every ``frigoris`` command the README shows runs as written, in order, in a fresh folder.

Commands come from the README's shell code blocks, from the examples column of its CLI table
and from inline code that is a whole command (it names a file, folder or value, and has no
UPPERCASE placeholder such as ``DEM``). They
run in the order they appear, in one temporary folder holding a link to ``examples/``, as a
new user pasting them would; each must exit 0 (``frigoris deploy`` may exit 3: no handoff is a
result).
"""

from __future__ import annotations

import re
import shlex

import pytest
from click.testing import CliRunner

from frigoris.rover.app.cli import main
from tests.conftest import REPO

README = REPO / "README.md"


def readme_commands(text: str) -> list[str]:
    """The runnable ``frigoris`` commands of the README, in order of appearance."""
    found: list[tuple[int, str]] = []
    for block in re.finditer(r"```(?:sh|bash|console)\n(.*?)```", text, flags=re.S):
        for line in block.group(1).splitlines():
            line = line.split(" #", 1)[0].strip()
            if line.startswith("frigoris "):
                found.append((block.start(), line))
    fenced = [(m.start(), m.end()) for m in re.finditer(r"```.*?```", text, flags=re.S)]
    for span in re.finditer(r"`(frigoris [^`]+)`", text):
        if any(a <= span.start() < b for a, b in fenced):
            continue
        cmd = span.group(1)
        words = shlex.split(cmd)
        placeholder = "..." in cmd or any(re.fullmatch(r"\[?[A-Z][A-Z_]*\]?", w) for w in words)
        # a whole command names a file, a folder or a value, not only the command's words
        complete = any(re.search(r"[/.=0-9]", w) for w in words[1:])
        if complete and not placeholder:
            found.append((span.start(), cmd))
    seen: set[str] = set()  # a command shown twice runs once (a second run refuses the folder)
    return [c for _, c in sorted(found) if not (c in seen or seen.add(c))]


COMMANDS = readme_commands(README.read_text())


def test_the_readme_shows_commands():
    assert len(COMMANDS) >= 10, COMMANDS
    assert any(c.startswith("frigoris demo") for c in COMMANDS)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("readme")
    (d / "examples").symlink_to(REPO / "examples", target_is_directory=True)
    return d


def _takes_quiet(args: list[str]) -> bool:
    cmd = main.get_command(None, args[0])
    if hasattr(cmd, "get_command"):  # a group: the subcommand
        cmd = cmd.get_command(None, args[1])
    return any("-q" in p.opts for p in cmd.params)


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS, ids=[f"{i:02d}" for i in range(len(COMMANDS))])
def test_readme_command_runs_as_written(folder, monkeypatch, command):
    monkeypatch.chdir(folder)
    args = shlex.split(command)[1:]
    if _takes_quiet(args) and "-q" not in args:
        args.append("-q")  # no progress bars in the test log
    res = CliRunner().invoke(main, args)
    allowed = {0, 3} if args[0] == "deploy" else {0}
    assert res.exit_code in allowed, f"{command}\n{res.output}"
