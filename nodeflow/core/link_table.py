"""The links of a graph, indexed both ways: by the input they feed (one link per input, the key a
workflow file implies) and by the node at either end, so "what feeds node 5" and "what does node 5
feed" are answered from the index instead of a scan of every link.

Read-only to everyone but the graph: it is a `Mapping` from (dst, dst_input) to `Link`, and only
`Graph`'s edit methods call `put` and `pop`, so the index cannot drift from the links.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from nodeflow.core.records import Link

Key = tuple[str, str]  # (dst, dst_input)


class LinkTable(Mapping[Key, Link]):
    def __init__(self, links: Iterable[Link] = ()):
        self._by_input: dict[Key, Link] = {}
        self._into: dict[str, dict[str, Link]] = {}  # dst -> input -> link
        self._from: dict[str, dict[Key, Link]] = {}  # src -> (dst, input) -> link
        by_input, into, out = self._by_input, self._into, self._from
        for link in links:  # `put`, unrolled: a 200,000-node file loads through here
            key = (link.dst, link.dst_input)
            if key in by_input:
                self.pop(key)
            by_input[key] = link
            into.setdefault(link.dst, {})[link.dst_input] = link
            out.setdefault(link.src, {})[key] = link

    # -- the Mapping (what everyone reads) ------------------------------------------------------

    def __getitem__(self, key: Key) -> Link:
        return self._by_input[key]

    def __iter__(self) -> Iterator[Key]:
        return iter(self._by_input)

    def __len__(self) -> int:
        return len(self._by_input)

    def __contains__(self, key: object) -> bool:
        return key in self._by_input

    def get(self, key: Key, default: Link | None = None) -> Link | None:
        return self._by_input.get(key, default)

    def values(self):
        return self._by_input.values()

    def items(self):
        return self._by_input.items()

    def __repr__(self) -> str:
        return f"LinkTable({list(self._by_input.values())!r})"

    # -- the index -------------------------------------------------------------------------------

    def into(self, node_id: str) -> list[Link]:
        """The links into `node_id`'s inputs, in the order they were made."""
        return list(self._into.get(node_id, {}).values())

    def out_of(self, node_id: str) -> list[Link]:
        """The links from `node_id`'s outputs, in the order they were made."""
        return list(self._from.get(node_id, {}).values())

    def touching(self, node_id: str) -> list[Link]:
        """Every link with `node_id` at one end or both (a node wired to itself counts once)."""
        into = list(self._into.get(node_id, {}).values())
        return into + [link for link in self._from.get(node_id, {}).values() if link.dst != node_id]

    # -- edits (the graph's own) -------------------------------------------------------------------

    def put(self, link: Link) -> Link | None:
        """Store `link`; return the link it replaced at the same input, if any."""
        old = self.pop((link.dst, link.dst_input))
        key = (link.dst, link.dst_input)
        self._by_input[key] = link
        self._into.setdefault(link.dst, {})[link.dst_input] = link
        self._from.setdefault(link.src, {})[key] = link
        return old

    def pop(self, key: Key) -> Link | None:
        """Remove and return the link into input `key`, if there is one."""
        link = self._by_input.pop(key, None)
        if link is None:
            return None
        _drop(self._into, link.dst, link.dst_input)
        _drop(self._from, link.src, key)
        return link


def _drop(index: dict, node_id: str, key) -> None:
    inner = index[node_id]
    del inner[key]
    if not inner:
        del index[node_id]
