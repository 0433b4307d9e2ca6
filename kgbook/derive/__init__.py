"""Rebuild the extracts in ``data/`` from the upstream files in ``../shared/sources``.

Run ``python -m kgbook.derive`` (``make data``). Values are copied as the exact strings
published upstream: nothing is recomputed, rounded or filled. The book itself never reads
``../shared``; this step only documents and repeats how ``data/`` was made. Tables typed
from source documents (claims, events) carry a ``fact_id`` that ``--check-facts`` compares
with the shared fact ledger.
"""
