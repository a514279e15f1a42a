"""Benchmark: an evaluation of 100 cases x 4 settings, and the evaluate page with its matrix on screen.

1. Wall time of 100 cases x 4 settings on the paced offline model (in its own process), against the
   slowest of the four settings run alone at the same concurrency per setting (goal <= 1.3x): the
   settings run side by side, as Compare's columns do, so four should take about as long as the
   slowest one. Everything goes the real way (evals.runner.EvalRun -> evals.engine ->
   turns.evaluation.CaseTurn, usage admitted and counted in SQLite).
2. The page's rerun cost with the finished 400-cell run open, against the same page with a 1-case x 4
   run open (goal <= 1.5x), measured under AppTest as the median of reruns of the two interleaved.

    .venv/bin/python bench/evaluate.py [--cases 100] [--concurrency 8] [--tokens 40] [--reruns 21]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from chat_client import Endpoint, Params  # noqa: E402
from evals import saved  # noqa: E402
from evals.engine import Engine, Setting  # noqa: E402
from evals.runner import EvalRun  # noqa: E402
from evals.suite import Assertion, Case, Suite  # noqa: E402
from storage import open_database, repository, session_factory  # noqa: E402


def suite_of(n: int) -> Suite:
    cases = tuple(
        Case(
            vars={"topic": f"topic {i}"},
            asserts=(Assertion("is-json"), Assertion("latency", threshold=60_000)),
        )
        for i in range(n)
    )
    return Suite(prompt="Tell me about {{topic}}", cases=cases, name=f"Bench {n}")


def settings_for(endpoint: Endpoint, tokens: int) -> list[Setting]:
    base = Params(model="gemini-2.5-flash", max_completion_tokens=tokens)
    return [
        Setting("t0", endpoint, base.replace(temperature=0.0, seed=1)),
        Setting("t1", endpoint, base.replace(temperature=1.0, seed=2)),
        Setting(
            "json", endpoint, base.replace(temperature=0.0, seed=3, response_format={"type": "json_object"})
        ),
        Setting("t2", endpoint, base.replace(temperature=2.0, seed=4)),
    ]


def timed(make_session, user_id, suite, settings, concurrency) -> tuple[float, EvalRun]:
    run = EvalRun(suite, settings, engine=Engine(make_session, user_id), concurrency=concurrency)
    started = time.perf_counter()
    run.run()
    return time.perf_counter() - started, run


def page_reruns(run_ids: list[int], reruns: int) -> list[float]:
    """Median rerun time of the evaluate page with each run open, the pages' reruns interleaved so a
    change in the machine's load (it is shared) weighs on every page alike."""
    from streamlit.testing.v1 import AppTest

    pages = []
    for run_id in run_ids:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
        at.switch_page("views/evaluate.py")
        at.query_params["eval"] = str(run_id)
        at.run().run()  # the first runs read the run and import the page's modules
        assert not at.exception, at.exception
        pages.append(at)
    times: list[list[float]] = [[] for _ in pages]
    for _ in range(reruns):
        for index, at in enumerate(pages):
            started = time.perf_counter()
            at.run()
            times[index].append(time.perf_counter() - started)
    return [statistics.median(t) for t in times]


@contextlib.contextmanager
def model_process(tokens_per_second: float, ttft_ms: int):
    """The offline model in its own process, as a real endpoint is: in this process it would share the
    interpreter (and its lock) with the 32 streams it serves, and measure that rather than the run."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "offline_model", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--tokens-per-second", str(tokens_per_second), "--ttft-ms", str(ttft_ms)]
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base_url = f"http://127.0.0.1:{port}/v1/"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base_url + "models", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or child.poll() is not None:
                    raise RuntimeError("the offline model did not start") from None
                time.sleep(0.1)
        yield base_url
    finally:
        child.terminate()
        child.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight per setting")
    parser.add_argument("--tokens", type=int, default=40, help="max completion tokens per reply")
    parser.add_argument("--tokens-per-second", type=float, default=50.0)
    parser.add_argument("--reruns", type=int, default=21)
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory() as folder,
        model_process(args.tokens_per_second, 100) as base_url,
    ):
        url = f"sqlite:///{folder}/bench.db"
        make_session = session_factory(open_database(url))
        with make_session() as session:
            user_id = repository.ensure_user(session, "local", display_name="You", role="admin").id
            session.commit()
        endpoint = Endpoint(base_url=base_url, name="offline")
        settings = settings_for(endpoint, args.tokens)
        suite = suite_of(args.cases)
        timed(make_session, user_id, suite_of(2), settings, args.concurrency)  # warm up

        alone = []
        for setting in settings:
            seconds, _ = timed(make_session, user_id, suite, [setting], args.concurrency)
            alone.append(seconds)
            print(f"{setting.name} alone: {seconds:.2f} s")
        together, run = timed(make_session, user_id, suite, settings, args.concurrency)
        cells = len(run.cells)
        assert all(c.state == "done" and not c.error for c in run.cells), "some cells failed"
        ratio = together / max(alone)
        print(
            f"offline model (own process) paced at {args.tokens_per_second:g} tokens/s, first token 100 ms, "
            f"at most {args.tokens} tokens per reply, {args.concurrency} in flight per setting"
        )
        print(f"{args.cases} cases x {len(settings)} settings ({cells} requests): {together:.2f} s")
        print(
            f"ratio to the slowest setting alone ({max(alone):.2f} s): {ratio:.2f}x (goal <= 1.3x) -> "
            f"{'OK' if ratio <= 1.3 else 'MISSED'}"
        )

        big = saved.save_record(make_session, user_id, run.record())
        _, small_run = timed(make_session, user_id, suite_of(1), settings, args.concurrency)
        small = saved.save_record(make_session, user_id, small_run.record())
        os.environ["PRISM_DATABASE_URL"] = url
        os.environ["PRISM_API_BASE_URL"] = base_url
        empty_s, full_s = page_reruns([small, big], args.reruns)
        page_ratio = full_s / empty_s
        print(f"page rerun, 4-cell run open: median {empty_s * 1000:.0f} ms over {args.reruns}")
        print(f"page rerun, {cells}-cell run open: median {full_s * 1000:.0f} ms over {args.reruns}")
        print(
            f"ratio {cells} cells / 4 cells: {page_ratio:.2f}x (goal <= 1.5x) -> "
            f"{'OK' if page_ratio <= 1.5 else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
