"""eicontract.cli: the pytest command line a run builds, `faults`, and the loopback-only `serve`."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest

import eicontract
from eicontract import cli
from eicontract.clauses import CLAUSES
from eicontract.pytest.options import OPTIONS
from eicontract.server import FAULTS
from eicontract.server.config import DEFAULT_API_KEY

SECRET = "ei_" + "cL1sEcret" * 5


def run_args(*argv: str) -> argparse.Namespace:
    return cli.parser().parse_args(["run", *argv])


def flag_value(argv: Sequence[str], flag: str) -> list[str]:
    """Every value given to `flag` (as `flag value`) on a command line."""
    return [argv[i + 1] for i, word in enumerate(argv[:-1]) if word == flag]


# --- run: the pytest command line --------------------------------------------------------------------


def test_run_arguments_carry_every_option_as_a_plugin_flag() -> None:
    args = run_args("--target", "https://studio.example/v1", "--project-id", "12", "--sample-id", "5",
                    "--block-id", "7", "--profile", "thorough", "--seed", "42", "--strictness", "strict",
                    "--error-style", "body", "--clause", "PAGE-LIMIT", "--clause", "FILTER-SOUND",
                    "--server-fault", "page-overlap", "--server-fault", "negative-500", "--report-dir", "out/r")
    argv = cli.pytest_arguments(args)
    assert flag_value(argv, "--ei-target") == ["https://studio.example/v1"]
    assert flag_value(argv, "--ei-project-id") == ["12"]
    assert flag_value(argv, "--ei-sample-id") == ["5"]
    assert flag_value(argv, "--ei-block-id") == ["7"]
    assert flag_value(argv, "--ei-profile") == ["thorough"]
    assert flag_value(argv, "--ei-seed") == ["42"]
    assert flag_value(argv, "--ei-strictness") == ["strict"]
    assert flag_value(argv, "--ei-error-style") == ["body"]
    assert flag_value(argv, "--ei-clause") == ["PAGE-LIMIT", "FILTER-SOUND"]
    assert flag_value(argv, "--ei-server-fault") == ["page-overlap", "negative-500"]
    assert flag_value(argv, "--ei-report-dir") == ["out/r"]
    assert "--junitxml=out/r/junit.xml" in argv
    assert flag_value(argv, "-m") == ["contract"]


def test_run_arguments_carry_the_safety_limits_and_the_recording_folder() -> None:
    limits = {"--max-requests": "500", "--rps": "2", "--run-deadline": "120", "--request-timeout": "3",
              "--connect-timeout": "1.5", "--job-deadline": "60", "--max-listing": "5000", "--record": "rec/night"}
    argv = cli.pytest_arguments(run_args(*[word for pair in limits.items() for word in pair]))
    for flag, value in limits.items():
        assert flag_value(argv, "--ei-" + flag[2:]) == [value]
        assert flag not in argv  # the old spelling is the CLI's only


def test_run_arguments_point_at_the_suite_inside_the_package_not_at_a_checkout() -> None:
    argv = cli.pytest_arguments(run_args())
    package = Path(eicontract.__file__).resolve().parent
    assert argv[0] == str(package / "suite")
    assert flag_value(argv, "--rootdir") == [str(package.parent)]
    assert flag_value(argv, "-c") == [str(package / "pytest" / "gate.ini")]
    assert (package / "pytest" / "gate.ini").is_file()
    assert not any("pyproject.toml" in word or "/tests/" in word for word in argv)


def test_run_flags_are_the_option_table_and_nothing_else() -> None:
    """One declaration: every plugin option is a `run` flag with the same help, and vice versa."""
    run = next(a for a in cli.parser()._subparsers._group_actions[0].choices.values()  # type: ignore[union-attr]
               if a.prog.endswith(" run"))
    flags = {s: a for a in run._actions for s in a.option_strings if s.startswith("--")}
    assert {o.flag for o in OPTIONS} == set(flags) - {"--help"}
    for option in OPTIONS:
        assert flags[option.flag].help == option.full_help


def test_unset_options_are_left_to_the_plugin_defaults() -> None:
    argv = cli.pytest_arguments(run_args())
    for flag in ("--target", "--project-id", "--sample-id", "--block-id", "--profile", "--seed", "--strictness",
                 "--error-style", "--clause", "--server-fault", "-k", "-n"):
        assert flag not in argv, flag
        assert "--ei-" + flag[2:] not in argv, flag


def test_the_key_never_goes_on_the_pytest_command_line() -> None:
    args = run_args("--target", "https://studio.example/v1", "--api-key", SECRET, "--project-id", "1")
    argv = cli.pytest_arguments(args)
    assert "--api-key" not in argv
    assert not any(SECRET in word for word in argv)


def test_keyword_workers_and_arguments_after_the_separator_are_passed_on() -> None:
    argv = cli.pytest_arguments(run_args("-k", "paging and not slow", "-n", "2", "--", "-x", "--tb=short"))
    assert flag_value(argv, "-k") == ["paging and not slow"]
    assert flag_value(argv, "-n") == ["2"]
    assert argv[-2:] == ["-x", "--tb=short"]
    assert "--" not in argv


def test_cmd_run_hands_the_key_over_in_the_environment_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("EI_API_KEY", raising=False)  # cmd_run sets it; monkeypatch removes it again
    seen_argv: list[str] = []
    seen_env: list[str | None] = []

    def fake_main(argv: list[str]) -> int:
        seen_argv.extend(argv)
        seen_env.append(os.environ.get("EI_API_KEY"))
        return 0

    monkeypatch.setattr(pytest, "main", fake_main)
    code = cli.main(["run", "--target", "https://studio.example/v1", "--project-id", "1", "--api-key", SECRET])
    assert code == cli.EXIT_OK
    assert seen_env == [SECRET]
    assert seen_argv and not any(SECRET in word for word in seen_argv)
    err = capsys.readouterr().err
    assert "EI_API_KEY" in err and SECRET not in err


@pytest.mark.parametrize(
    ("pytest_code", "gate_code"),
    [(0, cli.EXIT_OK), (1, cli.EXIT_VIOLATION), (2, cli.EXIT_HARNESS), (3, cli.EXIT_HARNESS), (4, cli.EXIT_HARNESS),
     (5, cli.EXIT_HARNESS)],
)
def test_cmd_run_maps_pytest_exit_codes_onto_the_gates(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], pytest_code: int, gate_code: int
) -> None:
    monkeypatch.setattr(pytest, "main", lambda argv: pytest_code)
    assert cli.main(["run"]) == gate_code
    out, err = capsys.readouterr()
    if gate_code == cli.EXIT_HARNESS:
        assert "could not run" in err
    else:
        assert "reports in reports/" in out


# --- faults -------------------------------------------------------------------------------------------


def test_faults_json_lists_name_clause_and_description(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["faults", "--json"]) == cli.EXIT_OK
    rows = json.loads(capsys.readouterr().out)
    assert isinstance(rows, list) and rows
    assert all(set(row) == {"name", "clause", "description"} for row in rows)
    assert [row["name"] for row in rows] == list(FAULTS)
    assert all(row["clause"] in CLAUSES for row in rows)
    assert all(row["description"] for row in rows)


def test_faults_without_json_prints_one_line_per_fault(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["faults"]) == cli.EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(FAULTS)
    assert all(line.split()[0] in FAULTS for line in lines)


# --- serve: loopback only -------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com"])
def test_serve_refuses_a_host_that_is_not_loopback(host: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["serve", "--host", host])
    assert exit_info.value.code == 2
    assert "loopback" in capsys.readouterr().err


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_serve_accepts_a_loopback_host(host: str) -> None:
    args = cli.parser().parse_args(["serve", "--host", host, "--port", "0"])
    assert args.host == host


def test_an_unknown_command_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["deploy"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


# --- run: options refused before the run starts ------------------------------------------------------


def _refused(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """`eicontract run argv` ends with exit 2 and one line, without starting pytest."""
    started: list[list[str]] = []
    monkeypatch.setattr(pytest, "main", lambda args: started.append(args) or 0)
    code = cli.main(["run", *argv])
    out, err = capsys.readouterr()
    assert (code, started) == (cli.EXIT_HARNESS, []), err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("eicontract run: "), lines
    assert "Traceback" not in out + err
    return lines[0]


def test_a_report_dir_that_is_a_file_is_refused_before_the_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "out").write_text("not a folder")
    assert "is a file" in _refused(monkeypatch, capsys, "--report-dir", str(tmp_path / "out"))
    assert "which is a file" in _refused(monkeypatch, capsys, "--report-dir", str(tmp_path / "out" / "reports"))


def test_a_report_dir_that_cannot_be_written_is_refused_before_the_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def no_space(**kwargs: object) -> object:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "TemporaryFile", no_space)
    assert "cannot write" in _refused(monkeypatch, capsys, "--report-dir", str(tmp_path / "new" / "reports"))


@pytest.mark.parametrize(("argv", "name"), [
    (("--clause", "PAGE-LIMIT,PAGE-LIMITS"), "PAGE-LIMITS"),
    (("--server-fault", "limit-plus-one", "--server-fault", "no-such-fault"), "no-such-fault"),
    (("--server-variant", "inclusive-bounds-typo"), "inclusive-bounds-typo"),
], ids=["clause", "fault", "variant"])
def test_unknown_names_are_refused_before_the_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: tuple[str, ...],
    name: str
) -> None:
    line = _refused(monkeypatch, capsys, "--report-dir", str(tmp_path), *argv)
    assert "unknown" in line and name in line
    assert "PAGE-LIMIT," not in line and "limit-plus-one," not in line  # only the unknown ones are named


# whitespace AROUND the key (a trailing newline from a file) is stripped with a warning, not refused
# (tests/harness/test_hostile_target.py); inside it, no header can carry it
@pytest.mark.parametrize("key", [SECRET[:5] + "\n" + SECRET[5:], SECRET + "é", SECRET[:5] + "\t" + SECRET[5:]],
                         ids=["newline", "non-ascii", "tab"])
def test_a_key_that_is_not_printable_ascii_is_refused_without_showing_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, key: str
) -> None:
    monkeypatch.setenv("EI_API_KEY", key)
    line = _refused(monkeypatch, capsys, "--report-dir", str(tmp_path))
    assert "printable ASCII" in line and SECRET not in line


def test_workers_without_pytest_xdist_are_refused_with_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "xdist" else real(name, *a))
    assert "eicontract[xdist]" in _refused(monkeypatch, capsys, "--report-dir", str(tmp_path), "-n", "2")


def test_good_options_start_the_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    started: list[list[str]] = []
    monkeypatch.setattr(pytest, "main", lambda args: started.append(args) or 0)
    monkeypatch.setenv("EI_API_KEY", SECRET)
    argv = ["run", "--report-dir", str(tmp_path / "r"), "--clause", "PAGE-LIMIT", "--server-fault", "limit-plus-one"]
    assert cli.main(argv) == cli.EXIT_OK
    assert len(started) == 1


def test_a_report_dir_that_is_a_file_ends_the_installed_command_at_once(tmp_path: Path) -> None:
    (tmp_path / "reports").write_text("a file")
    env = {k: v for k, v in os.environ.items() if not k.startswith("EI_")}
    done = subprocess.run([sys.executable, "-m", "eicontract", "run", "--report-dir", "reports"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == cli.EXIT_HARNESS
    assert done.stderr.strip().splitlines() == ["eicontract run: --report-dir reports is a file, not a folder"]
    assert done.stdout == ""


# --- serve: which key it accepts ---------------------------------------------------------------------


@pytest.mark.parametrize(("argv", "env", "said"), [
    ((), None, "x-api-key: the default local key"),
    ((), SECRET, "x-api-key: from EI_API_KEY"),
    (("--api-key", SECRET), None, "x-api-key: from --api-key"),
], ids=["default", "environment", "flag"])
def test_serve_says_which_key_it_accepts_never_the_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], env: str | None,
    said: str
) -> None:
    import eicontract.server

    served: list[str] = []
    monkeypatch.setattr(eicontract.server, "serve_forever", lambda config: served.append(config.api_key))
    if env is None:
        monkeypatch.delenv("EI_API_KEY", raising=False)
    else:
        monkeypatch.setenv("EI_API_KEY", env)
    assert cli.main(["serve", "--port", "0", *argv]) == cli.EXIT_OK
    err = capsys.readouterr().err
    assert said in err
    assert SECRET not in err and DEFAULT_API_KEY not in err
    assert served == [SECRET if (env or argv) else DEFAULT_API_KEY]


def test_serve_refuses_a_key_that_is_not_printable_ascii(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EI_API_KEY", SECRET + "\n")
    assert cli.main(["serve", "--port", "0"]) == cli.EXIT_HARNESS
    err = capsys.readouterr().err
    assert "printable ASCII" in err and SECRET not in err


def test_the_embedded_server_without_its_extra_is_refused_with_the_extra_to_install() -> None:
    from eicontract.pytest.preflight import SERVER_MODULES, server_problem

    assert server_problem(embedded=False, find_spec=lambda name: None) is None  # a live target needs none
    assert server_problem(embedded=True) is None  # this venv has the extra
    line = server_problem(embedded=True, find_spec=lambda name: None if name == "uvicorn" else object())
    assert line is not None and "uvicorn" in line and "eicontract[server]" in line and "--target" in line
    assert "starlette" in SERVER_MODULES and "orjson" in SERVER_MODULES


def test_run_and_serve_refuse_at_once_without_the_server_extra(monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str],
                                                               tmp_path: Path) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "starlette" else real(name, *a))
    line = _refused(monkeypatch, capsys, "--report-dir", str(tmp_path))
    assert "eicontract[server]" in line
    assert cli.main(["serve", "--port", "0"]) == cli.EXIT_HARNESS
    assert "eicontract[server]" in capsys.readouterr().err
