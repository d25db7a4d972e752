"""The terminal app (Textual). ``sessionlens.tui.app.run_app(store)`` opens it on a store.

Nothing outside this package imports Textual; importing this package imports nothing heavy.
"""
