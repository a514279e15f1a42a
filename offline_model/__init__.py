"""Prism's offline model: an OpenAI-compatible Chat Completions server that talks like Gemini 2.5 Flash.

It is the app's default when no key is configured, the server every test and benchmark talks to, and a
way to show what each parameter does without spending tokens. It samples for real from a smoothed
4-gram model built from ``corpus.txt`` at start-up, answers what that text covers, and says plainly
when a question is outside it.

What must stay true: it never imports streamlit or chat_client (two independent implementations of the
protocol keep each other honest). Start it in-process with ``offline_model.runner.OfflineServer`` or
from the shell with ``python -m offline_model`` (``--help`` documents every switch and fault).

Modules, from the wire inward:
- ``runner``      OfflineServer: uvicorn in a thread on a loopback port, the ``received`` log.
- ``__main__``    the command line.
- ``server``      Starlette routes; renders a planned reply as JSON or SSE in Gemini's or OpenAI's shapes,
                  with pacing and the stream faults.
- ``errors``      error bodies in both dialects (Gemini's list with RetryInfo, OpenAI's object).
- ``faults``      the fault switches (header or ``[[fault:...]]`` marker).
- ``validation``  the provider's refusals, and the request read into a ChatRequest.
- ``images``      decodes image parts with Pillow and describes them.
- ``replies``     plans a reply: tool call, JSON, tool result, or sampled text; thinking; usage.
- ``retrieval``   which corpus passages a conversation is about, and whether any covers it.
- ``instructions`` the reply lengths it follows ("one sentence", "in detail", ...).
- ``structured``  JSON values that fit a schema.
- ``writing``     answer tokens with honest logprob entries; max_tokens and stop.
- ``sampling``    temperature, top_p, penalties, seed: one token at a time.
- ``ngram``       the smoothed 4-gram model and its topic mixture.
- ``tokenizer``   the stated tokenizer usage counts come from.
"""
