"""Benchmark: does a 4-column comparison take about as long as one column? (goal <= 1.3x)

The offline model is paced at 50 tokens per second, so one reply of N tokens takes about N/50 s; if
the columns really stream concurrently, 4 columns take about as long as 1. Both are measured in the
same run, through the real path (turns.compare.CompareTurn on the turn engine: one asyncio loop, one
AsyncClient kept across turns, rows saved to a SQLite database as they grow), with temperature 0 so
every column writes the same reply.

    .venv/bin/python bench/compare.py [--rounds 3] [--tokens 200] [--columns 4]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chat_client import Endpoint, Params
from offline_model.runner import OfflineServer
from storage import open_database, repository, session_factory
from turns import compare
from turns.engine import Engine

# A prompt the offline model answers at length (about 100 tokens, 2 s at 50 tokens/s: a short reply
# rather than a long one, so fixed costs weigh more here than they would in real use). The seed makes
# every column and round write the same reply, so the runs compare like with like.
PROMPT = "Tell me about temperature"


def one_run(
    engine: Engine, make_session, user_id: int, endpoint: Endpoint, columns: int, tokens: int
) -> tuple[float, int]:
    """Wall time of one comparison with `columns` columns, and the tokens it streamed."""
    params = Params(model="gemini-2.5-flash", temperature=1.0, seed=1, max_completion_tokens=tokens)
    cols = [compare.Column(label=f"c{i}", endpoint=endpoint, params=params) for i in range(columns)]
    run_id = compare.create_run(make_session, user_id, prompt=PROMPT, columns=cols)
    turn = compare.CompareTurn(
        engine=engine,
        make_session=make_session,
        user_id=user_id,
        run_id=run_id,
        columns=cols,
        messages=[compare.first_messages("", [], PROMPT) for _ in cols],
        prompt=PROMPT,
    )
    started = time.perf_counter()
    turn.run()
    elapsed = time.perf_counter() - started
    assert all(s.status in (compare.COMPLETE, compare.LENGTH) for s in turn.samples), [
        s.status for s in turn.samples
    ]
    return elapsed, sum(s.usage.completion_tokens for s in turn.samples if s.usage)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=200, help="max completion tokens per reply")
    parser.add_argument("--columns", type=int, default=4)
    parser.add_argument("--tokens-per-second", type=float, default=50.0)
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory() as folder,
        OfflineServer.start(tokens_per_second=args.tokens_per_second) as server,
        Engine(httpx.AsyncClient(timeout=None)) as engine,
    ):
        make_session = session_factory(open_database(f"sqlite:///{folder}/bench.db"))
        with make_session() as session:
            user_id = repository.ensure_user(session, "bench").id
            session.commit()
        endpoint = Endpoint(base_url=server.base_url, name="offline")
        one_run(engine, make_session, user_id, endpoint, 1, 5)  # warm up: connections, imports, the database
        singles, multis = [], []
        for _ in range(args.rounds):
            t1, n1 = one_run(engine, make_session, user_id, endpoint, 1, args.tokens)
            tn, nn = one_run(engine, make_session, user_id, endpoint, args.columns, args.tokens)
            singles.append(t1)
            multis.append(tn)
        one, many = statistics.median(singles), statistics.median(multis)
        ratio = many / one
        print(
            f"offline model paced at {args.tokens_per_second:g} tokens/s, "
            f"at most {args.tokens} tokens per reply"
        )
        print(f"1 column : median {one:.3f} s over {args.rounds} rounds ({n1} tokens)")
        print(f"{args.columns} columns: median {many:.3f} s over {args.rounds} rounds ({nn} tokens in all)")
        print(
            f"ratio {args.columns} columns / 1 column: {ratio:.2f}x (goal <= 1.3x) -> "
            f"{'OK' if ratio <= 1.3 else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
