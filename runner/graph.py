"""The dependency graph over addresses: cycles, order, closures, and dot/mermaid export."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping


class Graph:
    """`deps[node]` are the nodes that must finish before `node` starts."""

    def __init__(self, deps: Mapping[str, Iterable[str]]):
        self.deps: dict[str, tuple[str, ...]] = {n: tuple(d) for n, d in deps.items()}
        self.dependents: dict[str, list[str]] = {n: [] for n in self.deps}
        for node, node_deps in list(self.deps.items()):
            for dep in node_deps:
                self.dependents.setdefault(dep, []).append(node)
                self.deps.setdefault(dep, ())

    @property
    def nodes(self) -> list[str]:
        return list(self.deps)

    def find_cycle(self) -> list[str] | None:
        """One cycle as a path `[a, b, c, a]` (a depends on b ...), or None."""
        state: dict[str, int] = {}  # 1 = on the current path, 2 = done
        for start in sorted(self.deps):
            if start in state:
                continue
            path: list[str] = []
            stack: list[tuple[str, int]] = [(start, 0)]
            while stack:
                node, i = stack.pop()
                if i == 0:
                    state[node] = 1
                    path.append(node)
                deps = sorted(self.deps[node])
                if i < len(deps):
                    stack.append((node, i + 1))
                    dep = deps[i]
                    if state.get(dep) == 1:
                        return path[path.index(dep):] + [dep]
                    if dep not in state:
                        stack.append((dep, 0))
                else:
                    state[node] = 2
                    path.pop()
        return None

    def topological(self) -> list[str]:
        """Dependencies first; ties broken by name so the order is stable."""
        remaining = {n: len(set(d)) for n, d in self.deps.items()}
        ready = [n for n, count in remaining.items() if count == 0]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            node = heapq.heappop(ready)
            order.append(node)
            for dependent in set(self.dependents.get(node, ())):
                remaining[dependent] -= 1
                if remaining[dependent] == 0:
                    heapq.heappush(ready, dependent)
        if len(order) != len(remaining):
            raise ValueError("the graph has a cycle")
        return order

    def ancestors(self, nodes: Iterable[str]) -> set[str]:
        """`nodes` and everything they depend on, transitively."""
        return self._closure(nodes, self.deps)

    def descendants(self, nodes: Iterable[str]) -> set[str]:
        """`nodes` and everything that depends on them, transitively."""
        return self._closure(nodes, self.dependents)

    @staticmethod
    def _closure(nodes: Iterable[str], edges: Mapping[str, Iterable[str]]) -> set[str]:
        seen: set[str] = set()
        stack = list(nodes)
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                stack.extend(edges.get(node, ()))
        return seen

    def to_dot(self, labels: Mapping[str, str] | None = None) -> str:
        lines = ["digraph taskform {", "  rankdir=LR;", "  node [shape=box];"]
        for node in sorted(self.deps):
            label = f' [label="{_esc(node)}\\n{_esc(labels[node])}"]' if labels and node in labels else ""
            lines.append(f'  "{_esc(node)}"{label};')
        for node in sorted(self.deps):
            for dep in sorted(set(self.deps[node])):
                lines.append(f'  "{_esc(dep)}" -> "{_esc(node)}";')
        return "\n".join(lines + ["}"]) + "\n"

    def to_mermaid(self, labels: Mapping[str, str] | None = None) -> str:
        ids = {node: f"n{i}" for i, node in enumerate(sorted(self.deps))}
        lines = ["flowchart LR"]
        for node, nid in ids.items():
            text = node + (f"<br/>{labels[node]}" if labels and node in labels else "")
            lines.append(f'  {nid}["{text.replace(chr(34), "#quot;")}"]')
        for node in sorted(self.deps):
            for dep in sorted(set(self.deps[node])):
                lines.append(f"  {ids[dep]} --> {ids[node]}")
        return "\n".join(lines) + "\n"


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
