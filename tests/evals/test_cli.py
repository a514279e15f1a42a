"""`python -m evals run`: the same pass rates as a run driven like the page (same suite, temperature 0, same
seed), the results file in the export format, exit codes for `--min-pass`, and bad input in words."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evals import cli, promptfoo
from evals.engine import Engine, Setting
from evals.runner import EvalRun
from offline_model.runner import OfflineServer
from storage import open_database, repository, session_factory

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = {
    "json": {"temperature": 0, "seed": 1, "response_format": {"type": "json_object"}},
    "plain": {"temperature": 0, "seed": 1},
    "json-cut": {"temperature": 0, "seed": 1, "response_format": {"type": "json_object"}, "max_tokens": 4},
}


def suite_yaml() -> str:
    lines = ["description: Twenty", "prompts: ['Tell me about {{topic}}']", "tests:"]
    for i in range(20):
        kind = "not-is-json" if i >= 15 else "is-json"
        lines += [
            f"  - description: T{i}",
            f"    vars: {{topic: topic {i}}}",
            f"    assert: [{{type: {kind}}}]",
        ]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def fast_model():
    with OfflineServer.start(host="127.0.0.1", port=0, tokens_per_second=0, ttft_ms=0) as server:
        yield server


@pytest.fixture
def env(monkeypatch, fast_model, tmp_path):
    monkeypatch.setenv("PRISM_API_BASE_URL", fast_model.base_url)
    monkeypatch.delenv("PRISM_API_KEY", raising=False)
    suite = tmp_path / "suite.yaml"
    suite.write_text(suite_yaml())
    return suite


def args_for(suite: Path, *extra: str, settings=SETTINGS) -> list[str]:
    out = ["run", str(suite), "--secrets", str(suite.parent / "none.toml")]
    for name, params in settings.items():
        out += ["--setting", f"{name}={json.dumps(params)}"]
    return out + list(extra)


def page_like_run(server, tmp_path) -> dict:
    """What the page does: the same EvalRun over the same settings."""
    make_session = session_factory(open_database(f"sqlite:///{tmp_path / 'page.db'}"))
    with make_session() as session:
        user_id = repository.ensure_user(session, "local").id
        session.commit()
    suite = promptfoo.load_yaml(suite_yaml())
    endpoint = cli.Endpoint(base_url=server.base_url, name="default")
    settings = [
        cli.parse_setting(f"{n}={json.dumps(p)}", endpoint, "gemini-2.5-flash") for n, p in SETTINGS.items()
    ]
    assert all(isinstance(s, Setting) for s in settings)
    run = EvalRun(suite, settings, engine=Engine(make_session, user_id))
    run.run()
    return run.record()


def test_cli_gives_the_page_s_pass_rates_and_writes_the_export_format(env, fast_model, tmp_path, capsys):
    out = tmp_path / "results.json"
    status = cli.main(args_for(env, "--out", str(out)))
    assert status == 0
    printed = capsys.readouterr().out
    assert "json " in printed and "15/20" in printed and "5/20" in printed
    assert "plain and json-cut are not distinguishable" in printed
    record = json.loads(out.read_text())
    page = page_like_run(fast_model, tmp_path)
    assert [(s["name"], s["passed"], s["counted"]) for s in record["stats"]] == [
        (s["name"], s["passed"], s["counted"]) for s in page["stats"]
    ]
    assert [c["passed"] for c in record["cells"]] == [c["passed"] for c in page["cells"]]
    assert set(record) == set(page)  # one format for the page's export and the file


@pytest.mark.parametrize(("min_pass", "expected"), [("0.2", 0), ("0.5", 1), ("0.75", 1)])
def test_min_pass_sets_the_exit_status(env, capsys, min_pass, expected):
    assert cli.main(args_for(env, "--min-pass", min_pass)) == expected
    if expected:
        assert "below --min-pass" in capsys.readouterr().err


def test_min_pass_met_by_every_setting_exits_zero(env):
    assert cli.main(args_for(env, "--min-pass", "0.75", settings={"json": SETTINGS["json"]})) == 0


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ("nameonly", "NAME=PARAMS_JSON"),
        ("a={not json", "not JSON"),
        ("a=[1]", "JSON object"),
        ('a={"temperature": 9}', "temperature must be a number from 0 to 2"),
        ('a={"colour": 1}', "Unknown parameter"),
    ],
)
def test_a_bad_setting_exits_2_in_plain_words(env, capsys, setting, said):
    assert cli.main(["run", str(env), "--setting", setting]) == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err


def test_a_malformed_suite_exits_2_naming_the_line(env, capsys):
    env.write_text("tests:\n  - vars: {q: a}\n    assert:\n      - {type: regex, value: '(x'}\n")
    assert cli.main(args_for(env)) == 2
    assert "line 4" in capsys.readouterr().err


def test_a_missing_suite_file_exits_2(tmp_path, capsys):
    assert cli.main(["run", str(tmp_path / "nope.yaml"), "--setting", "a={}"]) == 2
    assert "cannot be read" in capsys.readouterr().err


def test_cli_saves_the_run_when_given_a_database(env, tmp_path):
    url = f"sqlite:///{tmp_path / 'kept.db'}"
    assert cli.main(args_for(env, "--database", url, settings={"plain": SETTINGS["plain"]})) == 0
    from evals import saved
    from storage import evals as store

    make_session = session_factory(open_database(url))
    with make_session() as session:
        user = repository.ensure_user(session, "local")
        runs = store.list_runs(session, user)
        assert len(runs) == 1
        run_id = runs[0].id
    record = saved.open_record(make_session, user.id, run_id)
    assert record["stats"][0]["passed"] == 5 and record["run"]["status"] == "finished"


def test_python_m_evals_uses_its_own_offline_model_without_a_key(tmp_path):
    suite = tmp_path / "suite.yaml"
    suite.write_text(suite_yaml())
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PRISM_")}
    environ |= {"PRISM_OFFLINE_TOKENS_PER_SECOND": "0", "PRISM_OFFLINE_TTFT_MS": "0", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "evals",
            *args_for(suite, "--min-pass", "0.5", settings={"plain": SETTINGS["plain"]}),
        ],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "Offline model" in done.stderr
    assert "5/20" in done.stdout


def test_the_api_key_reaches_no_output_file_or_database(monkeypatch, tmp_path, capsys):
    key = "sk-prism-evals-test-4b9d2f7e1c3a5086"
    with OfflineServer.start(api_key=key, tokens_per_second=0, ttft_ms=0) as server:
        monkeypatch.setenv("PRISM_API_BASE_URL", server.base_url)
        monkeypatch.setenv("PRISM_API_KEY", key)
        suite = tmp_path / "suite.yaml"
        suite.write_text(suite_yaml())
        out, db = tmp_path / "results.json", tmp_path / "kept.db"
        settings = {"plain": SETTINGS["plain"]}
        assert (
            cli.main(args_for(suite, "--out", str(out), "--database", f"sqlite:///{db}", settings=settings))
            == 0
        )
        # A wrong key fails every cell in words, and the words do not hold the key either.
        monkeypatch.setenv("PRISM_API_KEY", key + "-wrong")
        wrong = tmp_path / "wrong.json"
        assert cli.main(args_for(suite, "--out", str(wrong), "--min-pass", "0.1", settings=settings)) == 1
    printed = capsys.readouterr()
    assert json.loads(out.read_text())["stats"][0]["counted"] == 20  # the key was used: requests went through
    errors = [c["error"] for c in json.loads(wrong.read_text())["cells"]]
    assert all(e and "401" in e for e in errors)
    for text in (out.read_text(), wrong.read_text(), printed.out, printed.err):
        assert key not in text
    for path in tmp_path.glob("kept.db*"):
        assert key.encode() not in path.read_bytes()


def test_an_image_named_in_the_suite_is_read_beside_it_and_sent(env, fast_model, tmp_path, capsys):
    from tests.evals.test_import import png

    folder = tmp_path / "suites"
    (folder / "shots").mkdir(parents=True)
    (folder / "shots" / "red.png").write_bytes(png())
    suite = folder / "colours.yaml"
    suite.write_text(
        "prompts: ['What colour is it? {{q}}']\ntests:\n  - vars: {q: look}\n    images: [shots/red.png]\n"
    )
    before = len(fast_model.received)
    assert cli.main(args_for(suite, settings={"plain": SETTINGS["plain"]})) == 0
    content = fast_model.received[before]["body"]["messages"][-1]["content"]
    assert any(
        p.get("type") == "image_url" and p["image_url"]["url"].startswith("data:image/png") for p in content
    )

    suite.write_text("prompts: ['{{q}}']\ntests:\n  - vars: {q: look}\n    images: [shots/gone.png]\n")
    assert cli.main(args_for(suite, settings={"plain": SETTINGS["plain"]})) == 2
    assert "the image 'shots/gone.png' was not found" in capsys.readouterr().err
