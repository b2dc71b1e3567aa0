"""The inspector: the selected node's title, mode and parameters, as regular Qt editors."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QLineEdit, QScrollArea, QVBoxLayout, QWidget

from nodeflow.core.records import NODE_MODES
from nodeflow.core.spec import REQUIRED
from nodeflow.gui.canvas.scene import NodeScene
from nodeflow.gui.mask_editor.source import node_picture
from nodeflow.gui.widgets.editors import ParamEditor, SeedEditor, make_editor
from nodeflow.gui.widgets.seed_control import SeedControls
from nodeflow.gui.widgets.special_editors import MaskEditor, ModelEditor


class Inspector(QScrollArea):
    def __init__(self, scene: NodeScene, parent=None):
        super().__init__(parent)
        self.scene = scene
        self.setWidgetResizable(True)
        self.node_id: str | None = None
        self.editors: dict[str, ParamEditor] = {}
        self._graph = None
        scene.selectionChanged.connect(self.refresh)
        scene.document.graph_replaced.connect(self._graph_replaced)
        self._graph_replaced()

    @property
    def document(self):
        return self.scene.document

    def _graph_replaced(self) -> None:
        if self._graph is not None:
            self._graph.param_changed.disconnect(self._on_param)
            self._graph.node_changed.disconnect(self._on_node)
            self._graph.node_removed.disconnect(self._on_removed)
        self._graph = self.document.graph
        self._graph.param_changed.connect(self._on_param)
        self._graph.node_changed.connect(self._on_node)
        self._graph.node_removed.connect(self._on_removed)
        self.show_node(None)

    def refresh(self) -> None:
        try:
            ids = self.scene.selected_node_ids()
        except RuntimeError:  # scene already deleted at shutdown
            return
        self.show_node(ids[0] if len(ids) == 1 else None)

    def show_node(self, node_id: str | None) -> None:
        self.node_id = node_id
        self.editors = {}
        body = QWidget()
        layout = QVBoxLayout(body)
        graph = self.document.graph
        if node_id is None or node_id not in graph.nodes:
            layout.addWidget(QLabel("Select one node to edit its parameters."))
            layout.addStretch(1)
            self.setWidget(body)
            return
        record, cls = graph.nodes[node_id], graph.node_class(node_id)
        form = QFormLayout()
        self.title_edit = QLineEdit(graph.title(node_id))
        self.title_edit.editingFinished.connect(self._rename)
        form.addRow("Title", self.title_edit)
        form.addRow("Type", QLabel(f"{record.type}  (id {node_id})"))
        self.mode_combo = QComboBox()
        self.mode_combo.addItems(NODE_MODES)
        self.mode_combo.setCurrentText(record.mode)
        self.mode_combo.currentTextChanged.connect(lambda m: self.document.set_mode([node_id], m))
        form.addRow("Mode", self.mode_combo)
        if cls is None:
            form.addRow(QLabel(f"Unknown node type '{record.type}': install its plugin to edit or run it."))
            for name, value in sorted(record.params.items()):
                form.addRow(name, QLabel(repr(value)))
        else:
            if cls.description:
                desc = QLabel(cls.description)
                desc.setWordWrap(True)
                form.addRow(desc)
            linked = {link.dst_input for link in graph.links_into(node_id)}
            for inp in cls.inputs:
                if not inp.is_parameter:
                    continue
                if inp.name in linked:
                    form.addRow(inp.name, QLabel("driven by a link"))
                    continue
                value = record.params.get(inp.name, None if inp.default is REQUIRED else inp.default)
                editor = self._editor(node_id, inp, value)
                editor.setToolTip(inp.help or f"{inp.type}")
                self.editors[inp.name] = editor
                form.addRow(inp.name, editor)
        layout.addLayout(form)
        layout.addStretch(1)
        self.setWidget(body)

    def _editor(self, node_id: str, inp, value) -> ParamEditor:
        token = object()  # consecutive edits in this editor undo as one step

        def change(new) -> None:
            error = self.document.set_param(node_id, inp.name, new, token)
            if error:
                self.scene.show_message(error)

        options = {}
        if inp.seed:
            options = {"mode": SeedControls.from_ui(self.document.graph.node(node_id).ui).mode(inp.name),
                       "on_mode": lambda m: self.document.set_seed_mode(node_id, inp.name, m)}
        if inp.widget == "mask":
            return MaskEditor(inp, value, change, picture=lambda: self._picture(node_id))
        if inp.model:
            return ModelEditor(inp, value, change)
        return make_editor(inp, value, change, **options)

    def _picture(self, node_id: str):
        path = self.document.path
        return node_picture(self.document.graph, node_id, path.parent if path else None)

    def _rename(self) -> None:
        if self.node_id is None or self.node_id not in self.document.graph.nodes:
            return
        self.document.rename(self.node_id, self.title_edit.text())

    def _on_param(self, node_id: str, name: str, value) -> None:
        if node_id == self.node_id and name in self.editors:
            self.editors[name].set_value(value)

    def _on_node(self, node_id: str, what: str) -> None:
        """Follow a title, mode or seed-mode change in place: rebuilding here would delete the
        combo box whose own signal made the change."""
        if node_id != self.node_id or node_id not in self.document.graph.nodes:
            return
        record = self.document.graph.nodes[node_id]
        if not self.title_edit.hasFocus():
            self.title_edit.setText(self.document.graph.title(node_id))
        self.mode_combo.blockSignals(True)
        self.mode_combo.setCurrentText(record.mode)
        self.mode_combo.blockSignals(False)
        for name, editor in self.editors.items():
            if isinstance(editor, SeedEditor):
                editor.set_mode(SeedControls.from_ui(record.ui).mode(name))

    def _on_removed(self, record) -> None:
        if record.id == self.node_id:
            self.show_node(None)
