"""The ComfyUI class map agrees with the registry: every entry names a node that exists, with the
inputs and outputs it maps to. Runs always (no corpus needed): an entry that drifts from its node
would otherwise only show as values silently not carried on import."""

from __future__ import annotations

from nodeflow.interop.comfyui.classmap import CONTROL, ENTRIES, SHOWN, UPLOAD


def test_every_entry_maps_onto_a_registered_node_and_its_sockets(registry):
    broken = []
    for entry in ENTRIES:
        cls = registry.get(entry.node) if entry.node in registry else None
        if cls is None:
            broken.append(f"{entry.comfy}: no node type {entry.node}")
            continue
        inputs = {i.name for i in cls.inputs}
        outputs = {o.name for o in cls.outputs}
        if entry.values is None:  # a converter may take ComfyUI-named values it turns into others
            broken += [f"{entry.comfy}: {entry.node} has no input '{name}'"
                       for name in entry.inputs.values() if name not in inputs]
        broken += [f"{entry.comfy}: {entry.node} has no output '{name}'"
                   for name in entry.outputs if name is not None and name not in outputs]
        broken += [f"{entry.comfy}: fixed parameter '{name}' is not an input of {entry.node}"
                   for name in entry.fixed if name not in inputs]
        mapped = set(entry.inputs)
        widgets = set(entry.widgets)
        if entry.variants is not None:
            widgets |= {w for names in entry.variants[1].values() for w in names}
        broken += [f"{entry.comfy}: widget '{name}' maps to nothing" for name in widgets - {CONTROL, UPLOAD, SHOWN}
                   if name not in mapped and entry.values is None]
    assert broken == [], "\n".join(broken)


def test_each_comfyui_class_is_mapped_once():
    names = [entry.comfy for entry in ENTRIES]
    assert sorted(n for n in set(names) if names.count(n) > 1) == []
