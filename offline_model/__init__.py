"""Prism's offline model: an OpenAI-compatible Chat Completions server that talks like Gemini 2.5 Flash.

It is the app's default when no key is configured, the server every test and benchmark talks to, and a
way to show what each parameter does without spending tokens (design.md section 3). It samples for real
from a trigram model built from ``corpus.txt`` at start-up.

What must stay true: it never imports streamlit or chat_client (two independent implementations of the
protocol keep each other honest). Start it in-process with ``offline_model.runner.OfflineServer`` or
from the shell with ``python -m offline_model``.
"""
