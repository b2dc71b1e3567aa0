"""Help > Nodes: every node's documentation, generated from its declaration.

Nothing here is written by hand per node: title, category, description, inputs (type, default,
range, choices, help) and outputs all come from the `Node` class, so the help cannot drift from
what the node does. A search field filters by title, type id, category and text.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from nodeflow.core.registry import Registry
from nodeflow.core.spec import REQUIRED, Input, Node


def _value_text(inp: Input) -> str:
    parts = []
    if inp.default is not REQUIRED and inp.is_parameter:
        shown = inp.default if inp.default != "" else "(empty)"
        if isinstance(shown, str) and len(shown) > 40:
            shown = shown[:37] + "…"
        parts.append(f"default {shown}")
    if inp.min is not None or inp.max is not None:
        lo = "" if inp.min is None else f"{inp.min:g}"
        hi = "" if inp.max is None else f"{inp.max:g}"
        parts.append(f"range {lo}–{hi}")
    if inp.choices:
        parts.append("one of " + ", ".join(inp.choices))
    if inp.optional:
        parts.append("optional")
    elif inp.required:
        parts.append("required")
    if not inp.is_parameter:
        parts.append("link only")
    return "; ".join(parts)


def node_help_html(cls: type[Node]) -> str:
    """The documentation page of one node type."""
    rows = "".join(
        f"<tr><td><b>{escape(i.name)}</b></td><td>{escape(i.type)}</td>"
        f"<td>{escape(_value_text(i))}</td><td>{escape(i.help)}</td></tr>" for i in cls.inputs)
    outs = "".join(f"<tr><td><b>{escape(o.name)}</b></td><td>{escape(o.type)}</td><td>{escape(o.help)}</td></tr>"
                   for o in cls.outputs)
    kind = " · output node (a run is planned backwards from it)" if cls.is_output else ""
    html = [f"<h2>{escape(cls.title)}</h2>",
            f"<p><code>{escape(cls.type_id)}</code> · {escape(cls.category)} · version {cls.version}{kind}</p>",
            f"<p>{escape(cls.description) or '<i>No description.</i>'}</p>"]
    if rows:
        html.append("<h3>Inputs</h3><table cellpadding='3'><tr><th align='left'>name</th><th align='left'>type"
                    "</th><th align='left'>value</th><th align='left'>what it does</th></tr>" + rows + "</table>")
    if outs:
        html.append("<h3>Outputs</h3><table cellpadding='3'>" + outs + "</table>")
    return "".join(html)


def matches(cls: type[Node], text: str) -> bool:
    """Whether a search for `text` finds this node (every word somewhere in its declaration)."""
    haystack = " ".join([cls.title, cls.type_id, cls.category, cls.description,
                         *(i.name for i in cls.inputs)]).lower()
    return all(word in haystack for word in text.lower().split())


class HelpBrowser(QDialog):
    """Searchable list of node types on the left, the selected one's documentation on the right."""

    def __init__(self, registry: Registry, extra_pages: dict[str, str] | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("NodeFlow help")
        self.registry = registry
        self.extra_pages = dict(extra_pages or {})
        self.search = QLineEdit(placeholderText="Search nodes…", clearButtonEnabled=True)
        self.search.textChanged.connect(self._fill)
        self.list = QListWidget()
        self.list.currentItemChanged.connect(self._show)
        self.page = QTextBrowser()
        self.page.setOpenExternalLinks(False)
        left = QVBoxLayout()
        left.addWidget(self.search)
        left.addWidget(self.list)
        splitter = QSplitter()
        holder = QWidget()
        holder.setLayout(left)
        splitter.addWidget(holder)
        splitter.addWidget(self.page)
        splitter.setSizes([260, 640])
        layout = QHBoxLayout(self)
        layout.addWidget(splitter)
        self.resize(960, 640)
        self._fill()

    def _fill(self) -> None:
        text = self.search.text().strip()
        self.list.clear()
        if not text:
            for title in self.extra_pages:
                item = QListWidgetItem(title)
                item.setData(Qt.ItemDataRole.UserRole, ("page", title))
                self.list.addItem(item)
        for cls in sorted(self.registry, key=lambda c: (c.category, c.title)):
            if text and not matches(cls, text):
                continue
            item = QListWidgetItem(f"{cls.title}   ({cls.category})")
            item.setData(Qt.ItemDataRole.UserRole, ("node", cls.type_id))
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        else:
            self.page.setHtml("<p>No node matches.</p>")

    def _show(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        kind, key = item.data(Qt.ItemDataRole.UserRole)
        if kind == "page":
            self.page.setHtml(self.extra_pages[key])
            return
        cls = self.registry.get(key)
        if cls is not None:
            self.page.setHtml(node_help_html(cls))

    @classmethod
    def show_for(cls, browser: HelpBrowser | None, registry: Registry, type_id: str | None, parent=None) -> HelpBrowser:
        """Show the node reference (made on first use), on `type_id`'s page when given."""
        browser = browser or cls(registry, parent=parent)
        if type_id:
            browser.show_node(type_id)
        browser.show()
        browser.raise_()
        return browser

    def show_node(self, type_id: str) -> None:
        """Open on one node type's page (Help for the selected node, F1)."""
        self.search.clear()
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == ("node", type_id):
                self.list.setCurrentRow(row)
                return
