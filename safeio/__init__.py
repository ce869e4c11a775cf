"""Input and output that lose nothing: files written whole (:mod:`safeio.atomic`) and command
lines that fail in one line with a documented exit code (:mod:`safeio.cli`).

Every package of ours may import it; it imports none of them, so the arrows stay one way.
"""
