"""``dialogue-gym study``: people talk with agents in a browser, blinded and counterbalanced.

- :mod:`.design`: the study design (balanced Latin square orders, partner labels, persona cards,
  the questions asked after each conversation).
- :mod:`.store`: the SQLite (WAL) store; every message and answer is committed before a page
  moves on.
- :mod:`.app`: the web app (FastAPI, server-rendered pages, no script).
- :mod:`.export`: conversations as Episode JSONL, answers as CSV.
- :mod:`.report`: per-agent means with 95% intervals, within-participant tests with Holm
  correction and effect sizes, order effects, sample size for 80% power, a chart.
"""
