"""Input and output that lose nothing: files written whole (:mod:`safeio.atomic`), temporary
names whose leftovers the next run removes (:mod:`safeio.temp`), one writer at a time
(:mod:`safeio.lock`), paths checked the way a user gave them (:mod:`safeio.paths`), streams
that cannot end a script with a traceback (:mod:`safeio.streams`), and command lines that
fail in one line with a documented exit code (:mod:`safeio.cli`, :mod:`safeio.codes`).

Every package of ours may import it; it imports none of them, so the arrows stay one way.
"""
