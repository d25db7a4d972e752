"""The ``sessionlens`` command line: ``list``, ``show``, ``diff``, ``log``, ``run``, ``demo``.

Entry point :func:`sessionlens.cli.main.main`. Imports stay lazy so that ``sessionlens list
--json`` and ``sessionlens run`` never import Rich, Textual or GitPython.
"""
