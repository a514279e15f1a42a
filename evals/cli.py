"""`python -m evals run SUITE --setting NAME=PARAMS_JSON ...`: a suite run from the command line, for CI.

Why it exists: a prompt change can be put behind CI only if the same evaluation the page runs can run
without a browser and fail the build. This is a thin shell over evals.runner (the same engine, the same
checks, the same results document as the page's JSON export).

What must stay true:
- It talks to the configured endpoint (settings.py: environment, then `.streamlit/secrets.toml`), and
  to its own in-process offline model when no base URL is set, started the way the app starts it.
- Exit status: 0 when every setting reaches `--min-pass` (or none is given), 1 when one falls below,
  2 when the command, the suite or a setting cannot be used (said in plain words on stderr, no
  traceback). The API key is never printed.
- Results are kept in a throwaway SQLite database unless `--database` names one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chat_client import Endpoint, Params, validate
from evals import promptfoo, saved
from evals.engine import Engine, Setting
from evals.runner import DEFAULT_CONCURRENCY, MAX_CONCURRENCY, MAX_REPEATS, MAX_SETTINGS, EvalRun
from evals.suite import SuiteError
from settings import Settings, load_settings
from storage import close_database, open_database, repository, session_factory
from turns import quota

OFFLINE_ENDPOINT_NAME = "Offline model"


class UsageProblem(Exception):
    """Something on the command line that cannot be used; the message says what."""


def parse_setting(spec: str, endpoint: Endpoint, default_model: str) -> Setting:
    """`NAME=PARAMS_JSON` as a setting; `system_prompt` may sit among the parameters."""
    name, sep, raw = spec.partition("=")
    if not sep or not name.strip():
        raise UsageProblem(
            f"--setting {spec!r}: write it as NAME=PARAMS_JSON, e.g. cold='{{\"temperature\": 0}}'."
        )
    try:
        data = json.loads(raw or "{}")
    except ValueError as exc:
        raise UsageProblem(
            f"--setting {name}: the parameters are not JSON ({exc.msg} at character {exc.pos})."
        ) from None
    if not isinstance(data, dict):
        raise UsageProblem(f"--setting {name}: the parameters must be a JSON object.")
    system_prompt = data.pop("system_prompt", "") or ""
    try:
        params = Params.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise UsageProblem(f"--setting {name}: {exc}") from None
    problems = validate(params)
    if problems:
        raise UsageProblem(f"--setting {name}: " + " ".join(p.message for p in problems))
    if params.model is None:
        params = params.replace(model=default_model)
    return Setting(name=name.strip(), endpoint=endpoint, params=params, system_prompt=str(system_prompt))


def _secrets(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageProblem(f"{path} cannot be read: {exc}") from None


def _offline_server():
    # The same pacing settings as the app's own offline model (components/resources.py).
    from offline_model.runner import OfflineServer

    tps = float(os.environ.get("PRISM_OFFLINE_TOKENS_PER_SECOND", "40"))
    ttft = int(os.environ.get("PRISM_OFFLINE_TTFT_MS", "250"))
    return OfflineServer.start(
        host="127.0.0.1", port=0, tokens_per_second=tps, ttft_ms=ttft, max_received=100
    )


def _fmt_ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def table(record: dict[str, Any]) -> str:
    """The per-setting figures as a plain-text table, then the notes and the wins."""
    head = ("setting", "passed", "rate", "95% interval", "errors", "mean ms", "p95 ms", "tokens", "cost $")
    rows = [head]
    for s in record["stats"]:
        rate = "-" if s["pass_rate"] is None else f"{s['pass_rate']:.0%}"
        rows.append(
            (
                s["name"],
                f"{s['passed']}/{s['counted']}",
                rate,
                f"{s['low']:.0%}-{s['high']:.0%}",
                str(s["errors"]),
                _fmt_ms(s["mean_latency_ms"]),
                _fmt_ms(s["p95_latency_ms"]),
                str(s["tokens"]),
                "-" if s["cost"] is None else f"{s['cost']:.6f}",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    cases = record["suite"].get("tests") or []
    label = lambda i: (cases[i].get("description") or f"Case {i + 1}") if i < len(cases) else f"Case {i + 1}"  # noqa: E731
    from evals.stats import wins_lines

    lines += ["", *record["notes"], *wins_lines(record["wins"], label)]
    return "\n".join(lines)


def run(args: argparse.Namespace, out=None) -> int:
    """The `run` command; returns the exit status."""
    try:
        data = Path(args.suite).read_bytes()
    except OSError as exc:
        raise UsageProblem(f"The suite {args.suite} cannot be read: {exc.strerror or exc}.") from None
    folder = Path(args.suite).resolve().parent

    def beside_the_suite(name: str) -> bytes | None:
        """An image file a case names, read relative to the suite file's folder."""
        try:
            return (folder / name).read_bytes()
        except OSError:
            return None

    suite = promptfoo.load(args.suite, data, prompt=args.prompt, image_files=beside_the_suite)
    problems = suite.problems()
    if problems:
        raise UsageProblem(" ".join(problems))
    if not args.setting:
        raise UsageProblem("Name at least one --setting NAME=PARAMS_JSON.")
    if len(args.setting) > MAX_SETTINGS:
        raise UsageProblem(f"At most {MAX_SETTINGS} settings at once.")
    if not 1 <= args.repeat <= MAX_REPEATS:
        raise UsageProblem(f"--repeat must be 1 to {MAX_REPEATS}.")
    if not 1 <= args.concurrency <= MAX_CONCURRENCY:
        raise UsageProblem(f"--concurrency must be 1 to {MAX_CONCURRENCY}.")
    if args.min_pass is not None and not 0 <= args.min_pass <= 1:
        raise UsageProblem("--min-pass is a share between 0 and 1, e.g. 0.9.")
    try:
        config: Settings = load_settings(os.environ, _secrets(Path(args.secrets)))
    except ValueError as exc:
        raise UsageProblem(f"Prism is not configured correctly: {exc}") from None

    server = _offline_server() if config.uses_offline_model else None
    scratch = tempfile.TemporaryDirectory(prefix="prism-evals-") if args.database is None else None
    url = args.database or f"sqlite:///{Path(scratch.name) / 'evals.db'}"
    try:
        if server is not None:
            endpoint = Endpoint(base_url=server.base_url, api_key=None, name=OFFLINE_ENDPOINT_NAME)
        else:
            endpoint = Endpoint(base_url=config.api_base_url, api_key=config.api_key, name="default")
        settings = [parse_setting(spec, endpoint, config.model) for spec in args.setting]
        names = [s.name for s in settings]
        if len(set(names)) != len(names):
            raise UsageProblem("Each --setting needs its own name.")
        grader = (
            parse_setting(f"grader={args.grader}", endpoint, config.model) if args.grader else settings[0]
        )
        for line in suite.unsupported():
            print(f"note: {line}", file=sys.stderr)
        make_session = session_factory(open_database(url))
        with make_session() as session:
            user_id = repository.ensure_user(session, "local", display_name="You", role="admin").id
            session.commit()
        engine = Engine(make_session, user_id, limits=quota.Limits.from_settings(config))
        evaluation = EvalRun(
            suite,
            settings,
            engine=engine,
            repeats=args.repeat,
            concurrency=args.concurrency,
            grader=grader,
            prices_for=lambda model: config.prices.get(model or config.model),
        )
        print(
            f"{suite.name}: {len(suite.cases)} case(s) x {len(settings)} setting(s) x {args.repeat} = "
            f"{evaluation.requests} request(s) to {endpoint.name}",
            file=sys.stderr,
        )
        evaluation.run()
        record = evaluation.record()
        if args.database is not None:
            saved.save_record(make_session, user_id, record)
    finally:
        if server is not None:
            server.stop()
        close_database(url)
        if scratch is not None:
            scratch.cleanup()

    print(table(record), file=out or sys.stdout)
    if args.out:
        Path(args.out).write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
    if args.min_pass is not None:
        below = [s for s in record["stats"] if s["pass_rate"] is None or s["pass_rate"] < args.min_pass]
        for s in below:
            rate = "nothing counted" if s["pass_rate"] is None else f"{s['pass_rate']:.0%}"
            print(f"{s['name']} is below --min-pass {args.min_pass:.0%}: {rate}", file=sys.stderr)
        if below:
            return 1
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m evals", description="Evaluate settings over a prompt suite."
    )
    commands = top.add_subparsers(dest="command", required=True)
    cmd = commands.add_parser("run", help="Run a suite (promptfoo YAML or CSV) over one or more settings.")
    cmd.add_argument("suite", help="The suite file: promptfoo YAML (tests:) or CSV (__expected columns).")
    cmd.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=PARAMS_JSON",
        help='A setting to evaluate, e.g. cold=\'{"temperature": 0, "seed": 1}\'. Repeat for more (up to 6).',
    )
    cmd.add_argument("--repeat", type=int, default=1, help="Send each case k times per setting (default 1).")
    cmd.add_argument("--out", help="Write the results JSON (the page's export format) here.")
    cmd.add_argument("--min-pass", type=float, help="Exit 1 when a setting's pass rate is below this share.")
    cmd.add_argument(
        "--prompt", help="The prompt template, e.g. 'Answer: {{question}}' (CSV suites have none)."
    )
    cmd.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help="Requests in flight at once per setting (default 8).",
    )
    cmd.add_argument(
        "--grader",
        metavar="PARAMS_JSON",
        help="Parameters of the llm-rubric grader (default: the first setting).",
    )
    cmd.add_argument("--database", help="Save the run in this database (default: a throwaway one).")
    cmd.add_argument("--secrets", default=".streamlit/secrets.toml", help=argparse.SUPPRESS)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return run(args)
    except (UsageProblem, SuiteError) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    except ValueError as problem:  # the runner's own checks (counts, a suite that cannot run)
        print(f"error: {problem}", file=sys.stderr)
        return 2
