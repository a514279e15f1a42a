"""Evaluating settings over a prompt suite: the compare page grown from one prompt to many.

- `suite`: test cases, variables filled into a `{{name}}` template, assertions.
- `promptfoo`: promptfoo's YAML `tests:` and CSV formats, read and written.
- `assertions`: each check, passing or failing with its reason (`llm-rubric` asks a grader).
- `engine`: the one place a request is sent, through the turn engine (turns/compare.py).
- `runner`: suite x settings x repeats, bounded concurrency, Stop, the results document.
- `stats`: pass rate with a Wilson interval, latency, tokens, cost, wins, blind-review tallies.
- `saved`: a run saved as its cells settle, and a saved run read back as the results document.
- `cli`: `python -m evals run SUITE --setting NAME=PARAMS_JSON ...`.

Nothing here imports Streamlit (tests/test_layering.py checks): the page (views/evaluate.py) only draws.
"""
