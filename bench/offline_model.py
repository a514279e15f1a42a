"""Benchmark: how fast the offline model streams, and how fast it starts.

Goal: the offline model is never the bottleneck of a test or benchmark: at least 20,000
tokens per second streamed at full speed on one core, and start-up under 0.5 s.

The server runs in its own process (``python -m offline_model``, one event loop, so one core); this
process only reads raw bytes and counts what the server reports in usage. Two figures per run: tokens
per wall-clock second as this client saw them, and tokens per CPU-second the server process spent
(from /proc), which is what "on one core" means and does not move when other work shares the machine.
Start-up is measured in fresh interpreters: building the n-gram model from corpus.txt, and
``OfflineServer.start()`` until the server answers HTTP (wall and CPU time).

Run: ``.venv/bin/python bench/offline_model.py``
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
MODEL = "gemini-2.5-flash"

# A long reply: an array of 400 sampled sentences, several thousand tokens in one stream.
LONG = {
    "model": MODEL,
    "messages": [{"role": "user", "content": "List what Prism can do."}],
    "stream": True,
    "reasoning_effort": "none",
    "response_format": {
        "type": "json_schema",
        "json_schema": {
            "name": "list",
            "schema": {"type": "array", "items": {"type": "string"}, "minItems": 400, "maxItems": 400},
        },
    },
}
CHAT = {
    "model": MODEL,
    "messages": [{"role": "user", "content": "What does the temperature do?"}],
    "stream": True,
}


def start_cli() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "offline_model", "--port", "0"], cwd=ROOT, stderr=subprocess.PIPE, text=True
    )
    banner = proc.stderr.readline()
    port = int(banner.split("http://127.0.0.1:")[1].split("/")[0])
    return proc, f"http://127.0.0.1:{port}/v1/"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stream_once(client: httpx.Client, payload: dict) -> tuple[int, float, float]:
    """(completion tokens, seconds to first byte of body, total seconds) for one streamed request."""
    t0 = time.perf_counter()
    first = None
    tail = b""
    with client.stream("POST", "chat/completions", json=payload) as r:
        for piece in r.iter_raw():
            if first is None:
                first = time.perf_counter() - t0
            tail = (tail + piece)[-4096:]
    total = time.perf_counter() - t0
    events = [e[6:] for e in tail.split(b"\n\n") if e.startswith(b"data: {")]
    usage = orjson.loads(events[-1])["usage"]
    return usage["completion_tokens"], first or total, total


def fresh(code: str) -> tuple[float, float]:
    """Run ``code`` in a fresh interpreter; it prints wall and CPU seconds."""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    wall, cpu = out.stdout.split()
    return float(wall), float(cpu)


TIMED = (
    "import time; t=time.perf_counter(); c=time.process_time(); {body};"
    " print(time.perf_counter()-t, time.process_time()-c)"
)
BUILD = "from offline_model.ngram import NgramModel, corpus_paragraphs; NgramModel(corpus_paragraphs())"


def report_startup() -> None:
    build = [fresh(TIMED.format(body=BUILD)) for _ in range(5)]
    imports = [fresh(TIMED.format(body="from offline_model.runner import OfflineServer")) for _ in range(5)]
    warm = [
        fresh(
            "from offline_model.runner import OfflineServer; " + TIMED.format(body="s=OfflineServer.start()")
        )
        for _ in range(5)
    ]
    for label, runs in (
        ("model build from corpus.txt", build),
        ("imports (uvicorn, starlette: streamlit has them)", imports),
        ("OfflineServer.start() once imported", warm),
    ):
        wall = statistics.median(r[0] for r in runs) * 1000
        cpu = statistics.median(r[1] for r in runs) * 1000
        print(f"{label:50s} {wall:7.1f} ms wall, {cpu:7.1f} ms CPU (median of 5)")


def report_stream(client: httpx.Client, pid: int, label: str, payload: dict, count: int) -> None:
    stream_once(client, payload)  # warm the caches
    cpu0 = cpu_seconds(pid)
    runs = [stream_once(client, payload) for _ in range(count)]
    cpu = cpu_seconds(pid) - cpu0
    tokens = sum(r[0] for r in runs)
    wall = sum(r[2] for r in runs)
    first = statistics.median(r[1] for r in runs) * 1000
    print(
        f"{label:50s} {tokens / cpu:9,.0f} tokens per server CPU-second, {tokens / wall:9,.0f} tokens/s wall"
        f" ({count} runs of ~{tokens // count} tokens, first byte after {first:.1f} ms)"
    )


def main() -> None:
    report_startup()
    proc, base_url = start_cli()
    try:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            report_stream(client, proc.pid, "long stream (JSON array of 400 strings)", LONG, 5)
            report_stream(client, proc.pid, "chat replies (thinking on by default)", CHAT, 200)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
