"""The mutation-testing driver: its targets exist, its filters and its survivor table parse."""

from __future__ import annotations

import pathlib
import textwrap

import pytest

from tests.mutation import mutate


@pytest.mark.parametrize("name", list(mutate.TARGETS))
def test_every_target_names_code_and_tests_that_exist(name):
    target = mutate.TARGETS[name]
    module = mutate.REPO / target.module
    ranges = mutate.scope_lines(module, target.scope)  # raises on a renamed function
    assert len(ranges) == len(target.scope)
    for test in target.tests:
        assert (mutate.REPO / test).is_file(), test


def test_checker_targets_record_their_rules():
    for name in ("traverse", "deploy", "sequence_check"):
        t = mutate.TARGETS[name]
        module = mutate.REPO / t.module
        assert len(mutate.rule_statements(module, mutate.scope_lines(module, t.scope))) >= 7


@pytest.mark.parametrize(
    "operator, kept",
    [
        ("core/ReplaceBinaryOperator_Add_Sub", True),
        ("core/ReplaceBinaryOperator_Add_Mul", False),
        ("core/ReplaceBinaryOperator_Mul_Div", True),
        ("core/ReplaceBinaryOperator_Mul_BitXor", False),
        ("core/ReplaceBinaryOperator_FloorDiv_Div", True),
        ("core/ReplaceComparisonOperator_Lt_LtE", True),
        ("core/ReplaceComparisonOperator_Lt_Gt", False),
        ("core/ReplaceComparisonOperator_NotEq_Eq", True),
        ("core/ReplaceComparisonOperator_Is_IsNot", True),
        ("core/NumberReplacer", True),
        ("core/AddNot", True),
        ("core/ReplaceAndWithOr", True),
    ],
)
def test_operators_are_thinned_to_counterparts(operator, kept):
    assert mutate.kept_operator(operator) is kept


def test_scope_and_rule_statements_of_a_small_module(tmp_path):
    src = textwrap.dedent(
        """\
        class A:
            def check(self):
                out = []
                out.append("one")
                return out

        def other():
            reasons = []
            reasons.append(
                "two"
            )
            ignored = []
            ignored.append(3)
            return reasons
        """
    )
    path = tmp_path / "m.py"
    path.write_text(src)
    assert mutate.scope_lines(path, ("A.check", "other")) == [(2, 5), (7, 14)]
    assert mutate.rule_statements(path, [(2, 5)]) == [(4, 4)]
    assert mutate.rule_statements(path, [(7, 14)]) == [(9, 11)]
    with pytest.raises(SystemExit, match="no definition named nope"):
        mutate.scope_lines(path, ("nope",))


def test_the_survivor_table_is_read_with_escaped_pipes(tmp_path, monkeypatch):
    table = tmp_path / "s.md"
    table.write_text(
        "| module | function | original | mutant | why |\n"
        "|---|---|---|---|---|\n"
        "| planners/x.py | f | `a \\| b` | `a & b` | booleans: the same |\n"
        "not a row\n"
    )
    monkeypatch.setattr(mutate, "SURVIVORS", pathlib.Path(table))
    assert mutate.explained() == {("planners/x.py", "a | b", "a & b"): "booleans: the same"}


def test_the_survivor_file_kept_with_the_tests_parses():
    rows = mutate.explained()
    assert all(module.endswith(".py") and why for (module, _, _), why in rows.items())


def test_the_fork_server_sees_each_edit_and_reports_each_verdict(tmp_path):
    """A module edited between two runs (as cosmic-ray writes a mutant) is imported afresh by
    the fork; a failing test gives a non-zero status, a passing one zero, a hung one is ended."""
    import subprocess
    import sys
    import time

    (tmp_path / "mod.py").write_text("VALUE = 1\n")
    (tmp_path / "test_mod.py").write_text(
        "import time\nimport mod\n\n\ndef test_value():\n    if mod.VALUE == 3:\n"
        "        time.sleep(60)\n    assert mod.VALUE == 1\n"
    )
    forkrun = mutate.REPO / "tests" / "mutation" / "forkrun.py"
    sock = tmp_path / "s.sock"
    server = subprocess.Popen([sys.executable, str(forkrun), "serve", str(sock), "2"], cwd=tmp_path)
    try:
        t0 = time.perf_counter()
        while not sock.exists():
            assert server.poll() is None and time.perf_counter() - t0 < 120
            time.sleep(0.1)

        def run() -> int:
            args = [sys.executable, str(forkrun), "run", str(sock), "-q", "-p", "no:cacheprovider"]
            return subprocess.run(
                args + ["test_mod.py"], cwd=tmp_path, capture_output=True
            ).returncode

        assert run() == 0
        (tmp_path / "mod.py").write_text("VALUE = 2\n")  # same size: only the text differs
        assert run() == 1
        (tmp_path / "mod.py").write_text("VALUE = 1\n")
        assert run() == 0
        (tmp_path / "mod.py").write_text("VALUE = 3\n")  # hangs: SIGALRM after 2 s
        assert run() != 0
    finally:
        server.terminate()
        server.wait()
