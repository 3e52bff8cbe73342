"""YAML from files users and customers hand over (rules, waivers, policies), read safely and in bounded time.

`safe_load` alone refuses tags and code, but not an alias bomb: nine anchors, each a list of nine aliases of the
one before, compose to a few dozen nodes that expand to 387 million once anything walks them (a schema check, a
JSON dump); a deeply nested document exhausts the recursion of whatever reads it. Here the composed node graph is
measured before anything is built from it — its size with every alias expanded, and its depth — and refused past
limits no real rule file comes near.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_EXPANDED_NODES = 200_000
MAX_DEPTH = 100

_SAFE_LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlLimitError(yaml.MarkedYAMLError):
    """A document too large when expanded, or too deep; `problem_mark` says where."""


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    return []


def check_bounds(root: yaml.Node) -> None:
    """Raise YamlLimitError when `root` expands past MAX_EXPANDED_NODES, nests past MAX_DEPTH or refers to
    itself. Linear in the distinct nodes: the expanded size of a shared node is computed once."""
    size: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    open_nodes: set[int] = set()
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if done:
            size[key] = 1 + sum(size[id(child)] for child in _children(node))
            if size[key] > MAX_EXPANDED_NODES:
                raise YamlLimitError(None, None, f"expands to more than {MAX_EXPANDED_NODES:,} values (an alias bomb?)",
                                     node.start_mark)  # fmt: skip
            continue
        if key in size:
            continue
        if key in open_nodes:  # opened, not yet measured: we are inside it
            raise YamlLimitError(None, None, "an alias refers to a node that contains it", node.start_mark)
        if depth > MAX_DEPTH:
            raise YamlLimitError(None, None, f"nested more than {MAX_DEPTH} levels deep", node.start_mark)
        open_nodes.add(key)
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in _children(node) if id(child) not in size)


def compose_and_construct(text: str) -> tuple[yaml.Node | None, Any]:
    """One parse gives both the node tree (for line and column marks) and the data built from it with the safe
    constructor — SafeLoader's C build when PyYAML has it (10× faster); never a full Loader. Bounded as above."""
    loader = _SAFE_LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        check_bounds(node)
        return node, loader.construct_document(node)
    finally:
        loader.dispose()


def load(text: str) -> Any:
    """`yaml.safe_load`, bounded."""
    return compose_and_construct(text)[1]
