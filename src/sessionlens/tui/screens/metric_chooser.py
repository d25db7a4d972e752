"""``m`` (columns) and the plot's metric: choose metrics from every name the store knows.

The names come from ``store.metric_names()`` in a worker (a store without an index lists its
sessions to find them). Names are store text: each is shown through the sanitizer as plain
content, never as markup. With ``multiple`` the dialog returns the chosen names in the store's
order (space toggles, enter applies); without, the one picked (enter).
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import OptionList, SelectionList, Static
from textual.widgets.option_list import Option
from textual.widgets.selection_list import Selection

from sessionlens.tui.client import StoreClient
from sessionlens.tui.text import visible
from sessionlens.tui.workers import ReportsWorkerErrors, error_message


class MetricChooserScreen(ReportsWorkerErrors, ModalScreen[list[str] | None]):
    """The store's metric names to choose from; dismissed with the choice (None: cancelled)."""

    CSS_PATH = "metric_chooser.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Close without changing anything"),
        Binding("enter", "apply", "Apply", priority=True, tooltip="Use the metrics chosen"),
        Binding("n", "select_none", "None", tooltip="Clear every choice"),
    ]

    class NamesLoaded(Message):
        def __init__(self, names: list[str] | None, problem: str | None = None) -> None:
            super().__init__()
            self.names = names
            self.problem = problem

    def __init__(
        self, client: StoreClient, chosen: list[str], *, multiple: bool = True, title: str = ""
    ) -> None:
        super().__init__()
        self.client = client
        self.chosen = list(chosen)
        self.multiple = multiple
        self.title_text = title or ("Metric columns" if multiple else "Metric to plot")
        #: the names offered, once loaded
        self.names: list[str] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="metric-dialog"):
            yield Static(Content(self.title_text), id="metric-title")
            yield Static(Content("Reading the metric names…"), id="metric-status")
            if self.multiple:
                yield SelectionList[str](id="metric-list")
            else:
                yield OptionList(id="metric-list")

    def on_mount(self) -> None:
        self._load(self.client)

    @work(thread=True, exclusive=True, exit_on_error=False, group="metric-names")
    def _load(self, client: StoreClient) -> None:
        try:
            names = client.metric_names()
        except Exception as exc:  # the dialog says why; nothing else depends on it
            self.post_message(self.NamesLoaded(None, error_message(exc)))
            return
        self.post_message(self.NamesLoaded(names))

    def on_metric_chooser_screen_names_loaded(self, message: NamesLoaded) -> None:
        status = self.query_one("#metric-status", Static)
        if message.names is None:
            status.update(Content(f"Could not read the metric names: {message.problem}"))
            return
        # chosen names the store no longer lists stay choosable (they may come back)
        names = [*message.names, *(n for n in self.chosen if n not in message.names)]
        self.names = names
        if not names:
            status.update(Content("No session in this store has metrics."))
            return
        if self.multiple:
            status.update(Content("space: show/hide   enter: apply   n: none   escape: cancel"))
            selection = self.query_one(SelectionList)
            selection.add_options(
                [Selection(Content(visible(n)), n, n in self.chosen) for n in names]
            )
        else:
            status.update(Content("enter: plot this metric   escape: cancel"))
            options = self.query_one(OptionList)
            options.add_options([Option(Content(visible(n))) for n in names])
            if self.chosen and self.chosen[0] in names:
                options.highlighted = names.index(self.chosen[0])
            else:
                options.highlighted = 0
        self.query_one("#metric-list").focus()

    @property
    def choice(self) -> list[str]:
        """What is chosen now, in the order the names are listed."""
        if self.names is None:
            return list(self.chosen)
        if self.multiple:
            selected = set(self.query_one(SelectionList).selected)
            return [n for n in self.names if n in selected]
        index = self.query_one(OptionList).highlighted
        return [] if index is None else [self.names[index]]

    def action_apply(self) -> None:
        if self.names is None or (not self.multiple and not self.names):
            self.dismiss(None)
            return
        self.dismiss(self.choice)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_select_none(self) -> None:
        if self.multiple and self.names is not None:
            self.query_one(SelectionList).deselect_all()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        if not self.multiple:
            self.action_apply()
