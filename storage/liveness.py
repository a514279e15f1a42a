"""Telling a reply whose writer crashed from one still streaming in another process.

A reply row has status "streaming" while some process grows it. If that process dies (SIGKILL, OOM,
a pulled plug) the row stays "streaming" forever unless a reader notices. Two signals, in order:

1. The writer's tag: start_reply records `host|pid-namespace|pid|process-start-time`. When a reader runs
   on the same host and in the same PID namespace, it can ask the kernel whether that exact process
   (pid *and* start time, so a reused pid does not count) still lives. Dead writer: interrupted, now.
2. A staleness window: grow_reply refreshes updated_at at least every second while text arrives. A
   streaming row untouched for STALE_AFTER is taken as interrupted whoever wrote it (another host, or
   a thread of a live process that died mid-stream).

A writer that is in fact alive and calls grow_reply again simply puts the row back to "streaming".
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from functools import cache

STALE_AFTER = timedelta(seconds=30)


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return "?"


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), or None when it does not exist."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except FileNotFoundError:
        return None
    except OSError:
        return "?"
    # Field 2 (comm) may hold spaces and parentheses: split after the last ')'.
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else "?"


def _tag_for(pid: int) -> str:
    return f"{socket.gethostname()}|{_pid_namespace()}|{pid}|{_start_time(pid) or '?'}"


def current_tag() -> str:
    """The writer tag of the calling process (safe across fork: the cache is keyed by pid)."""
    return _cached_tag(os.getpid())


@cache
def _cached_tag(pid: int) -> str:
    return _tag_for(pid)


def writer_is_dead(tag: str | None) -> bool:
    """True only when `tag` names a process on this host and PID namespace that no longer runs."""
    if not tag:
        return False
    parts = tag.split("|")
    if len(parts) != 4:
        return False
    host, ns, pid_text, start = parts
    if host != socket.gethostname() or ns != _pid_namespace() or ns == "?" or not pid_text.isdigit():
        return False
    now_start = _start_time(int(pid_text))
    if now_start is None:
        return True
    return start not in ("?", now_start) and now_start != "?"


def is_interrupted(tag: str | None, updated_at: datetime, now: datetime) -> bool:
    """Whether a row still marked "streaming" should be shown (and saved) as interrupted."""
    return writer_is_dead(tag) or now - updated_at > STALE_AFTER
