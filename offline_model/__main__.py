"""``python -m offline_model``: run the offline model as a standalone server. ``--help`` documents it all."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Prism's offline model: a real HTTP server that speaks the OpenAI-compatible Chat Completions protocol
the way Gemini 2.5 Flash does, and samples replies from a small 4-gram language model (interpolated
Witten-Bell backoff over a Kneser-Ney continuation unigram, so every token has a probability) built at
start-up from Prism's own help text (offline_model/corpus.txt). No key, no network. Each stream chunk
carries one token.

What it knows, and what it follows
  It knows only Prism's help text. The conversation (last message, system prompt, earlier turns,
  weighted in that order) picks the most relevant passages, and the reply is sampled from a model
  focused on them, so "explain top p" is answered about top_p. A question the passages do not cover
  (less than half its word weight in one passage: greetings, arithmetic, geography, other languages)
  gets a first sentence saying plainly that this is Prism's offline model, that it cannot answer that
  offline, and how to reach Gemini; then it says what it can explain.
  The only instructions it follows are reply lengths, in the system prompt or the last message:
    "one sentence", "a single sentence", "one line"      one sentence
    "N sentences"                                         N sentences
    "in N words", "under N words", "N words or less"      at most N words
    "brief", "short", "concise", "terse", "succinct"      two sentences
    "in detail", "detailed", "in depth", "at length"      at least five sentences
  Without one, the reply is one paragraph; a paragraph ends at its first sentence end after 120
  tokens, and at 180 tokens whatever comes (a hot sample rarely draws its end).
  Nothing else in a system prompt is obeyed (a persona, a language, a format); its words only steer
  which passages the reply is about.

Endpoints
  GET  /v1/models             the models it answers to: gemini-2.5-flash, gemini-2.5-flash-lite
  POST /v1/chat/completions   streaming (SSE, "stream": true) and not

Parameters, all honoured for real
  temperature (0..2, default 1)   0 is greedy and repeatable; higher flattens the distribution
  top_p (0..1, default 0.95)      nucleus: keeps the most likely tokens up to that probability mass
  seed                            same seed + same request = same reply; choices use seed/index
  frequency_penalty, presence_penalty (-2..2)
                                  subtract count*f + (count>0)*p from the logit of repeated tokens
  max_completion_tokens / max_tokens (>= 1)
                                  cuts the answer with finish_reason "length" (default cap 8192)
  stop (string or up to 5)        ends the reply just before the stop string, finish_reason "stop"
  n (1..8)                        n choices, each with its own index
  logprobs, top_logprobs (0..20, only with logprobs)
                                  the model's natural-log probabilities after the penalties and the
                                  no-repeat rule, before temperature and top_p (which act on sampling
                                  only, so temperature 0 still reports true logprobs); exactly
                                  top_logprobs alternatives, sorted, the sampled token among them
                                  (in last place when it is not among the most likely). Forced text
                                  (the declining sentence, JSON punctuation) is certain: logprob 0.0
  response_format                 json_object: a valid JSON object; json_schema: an instance of the schema
  tools, tool_choice              a tool call when tool_choice is "required" or names a function, or the
                                  user names a tool; after a tool message, an answer using the result
  reasoning_effort (none|low|medium|high) or extra_body.google.thinking_config.thinking_budget
                                  (-1 dynamic, the default; 0 off; up to 24576): reasoning_tokens in usage,
                                  min(budget, budget/64 + prompt tokens), dynamic 64 + prompt tokens,
                                  at most 2048 (none 0, low 1024, medium 8192, high 24576 budget).
                                  Sending both is a 400. The thinking is simulated: only the count
                                  and the summary exist.
  extra_body.google.thinking_config.include_thoughts
                                  streams a thought summary first: <thought>...</thought> inline in
                                  delta.content, thought deltas flagged extra_content.google.thought
  extra_body.google.cached_content ("cachedContents/NAME")
                                  adds a cached prefix of 1024..4095 tokens (fixed per NAME) to
                                  prompt_tokens and reports it as cached_tokens
  Images (image_url data: URLs, user messages) are decoded with Pillow; the reply states size, mode and
  main colours. An undecodable image is a 400 naming the message and the part.

Validation is the provider's: unknown top-level fields, out-of-range values, bad roles, empty messages,
more than 5 stop strings, top_logprobs without logprobs: 400 naming the field, in Gemini's list-shaped
error body (google.rpc.BadRequest fieldViolations). An unknown model is a 404.

Usage, by a stated tokenizer: a token is a match of \\s*\\w+|\\s*[^\\w\\s]|\\s+ . prompt_tokens = per
message 1 + its text tokens + 258 per image + its tool-call tokens (+ the cached prefix).
completion_tokens = sampled answer tokens + tool-call name and argument tokens. Gemini dialect:
total = prompt + completion + reasoning. --strict-openai: completion includes reasoning and
total = prompt + completion.

Wire dialect (default: Gemini's quirks, as its OpenAI-compatible endpoint shows them)
  role on every chunk; usage on the final content chunk; ids without "chatcmpl-"; no
  system_fingerprint; tool calls whole in one delta without "index", stream finishing "stop";
  errors as a JSON list with RetryInfo and no Retry-After header.
  --strict-openai: role once per choice, a separate finish chunk, usage only with
  stream_options.include_usage on a last chunk with "choices": [], index on tool calls with arguments in
  pieces, finish_reason "tool_calls", OpenAI error objects, Retry-After on 429, no thought text.
"""

EPILOG = """\
Fault switches: header "X-Offline-Fault: SPEC" or "[[fault:SPEC]]" in the last user message (removed
before the model reads it); join several with ";".
  status:CODE                 answer CODE at once: 400, 401, 403, 404, 429, 500, 503
  status:429,per=day          429 whose QuotaFailure quotaId is per day (default per=minute);
  status:429,retry=S          ... with RetryInfo.retryDelay S seconds (default 28.5, or 3600 per day)
  status:CODE,times=N         only the first N requests carrying this spec fail; later ones succeed
  disconnect:after=N          drop the connection after N chunks (no [DONE], no chunk terminator)
  stall:after=N,seconds=S     send nothing for S seconds after N chunks, then go on
  malformed:after=N           after N chunks send one data: event that is not JSON, then go on
  error:after=N[,code=C][,raw=1]
                              after N chunks send {"error": {...}} (code 503 by default; 500, 429)
                              and end without [DONE]; raw=1 sends it as raw JSON, not an SSE event
  no-done                     end the stream without data: [DONE]
  ttft:ms=M                   wait M ms before the first chunk
  no-logprobs                 refuse logprobs: 400 "Logprobs is not enabled for models/gemini-2.5-flash"
                              (what some routes to 2.5 Flash answer), naming the logprobs field
  no-usage                    report no token usage (no usage field anywhere), as llama.cpp streams do
  tags:split | tags:whole     split (or never split) the thought tags across chunks; by default they
                              are split when (seed + choice index) is odd, at random without a seed
Stream faults (disconnect, stall, malformed, error, no-done) act on streaming requests only; one set
for more chunks than the stream has acts at its end. status and ttft act on both kinds of request.
An unknown or malformed SPEC is a 400 naming X-Offline-Fault (or messages).

With --api-key KEY, any request whose "Authorization: Bearer ..." differs gets a 401.

Example:  python -m offline_model --port 8765 --tokens-per-second 40 --ttft-ms 300
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, documented in --help."""
    parser = argparse.ArgumentParser(
        prog="python -m offline_model",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8765, help="port to listen on, 0 = any free (default 8765)"
    )
    parser.add_argument("--api-key", default=None, help="require this bearer key (401 otherwise)")
    parser.add_argument(
        "--tokens-per-second",
        type=float,
        default=0.0,
        help="stream pacing in chunks per second; 0 = as fast as possible (default 0)",
    )
    parser.add_argument(
        "--ttft-ms", type=int, default=0, help="delay before the first chunk, in ms (default 0)"
    )
    parser.add_argument(
        "--strict-openai", action="store_true", help="emit OpenAI's own shapes instead of Gemini's"
    )
    args = parser.parse_args(argv)
    if args.tokens_per_second < 0 or args.ttft_ms < 0:
        parser.error("--tokens-per-second and --ttft-ms must not be negative")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the server in the foreground until interrupted."""
    args = parse_args(argv)
    import uvicorn

    from offline_model.ngram import default_model
    from offline_model.runner import listening_socket, uvicorn_config
    from offline_model.server import ServerConfig, create_app

    config = ServerConfig(
        api_key=args.api_key,
        tokens_per_second=args.tokens_per_second,
        ttft_ms=args.ttft_ms,
        strict_openai=args.strict_openai,
    )
    app = create_app(config, model=default_model())
    sock = listening_socket(args.host, args.port)
    port = sock.getsockname()[1]
    dialect = "OpenAI" if args.strict_openai else "Gemini"
    print(
        f"offline model on http://{args.host}:{port}/v1/ ({dialect} dialect)",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.Server(uvicorn_config(app)).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
