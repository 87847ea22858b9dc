"""Which app imports which: edges, two-way pairs and cycles between the site's apps.

    PYTHONPATH=. .venv/bin/python scripts/app_imports.py

Counts every import of product code, at module level or inside a function (tests and
migrations left out; `livesite`, the wiring that imports every app, too). It reads the
graph with grimp, which import-linter is built on; the rules themselves are the
contracts in pyproject.toml, checked by `make lint`. "Forbidden directions" are the
edges between apps that the `forbidden` contracts there rule out.
"""

import tomllib
from pathlib import Path

import grimp

APPS = [
    "infra", "realtime", "accounts", "rooms", "chat", "gifts", "moderation", "streaming",
    "notifications", "discovery", "clips",
]  # fmt: skip


def app_edges() -> dict[str, set[str]]:
    graph = grimp.build_graph(*APPS, include_external_packages=False)
    edges = {app: set() for app in APPS}
    for module in graph.modules:
        if ".tests" in module or ".migrations" in module:
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            source, target = module.split(".")[0], imported.split(".")[0]
            if source != target and ".tests" not in imported:
                edges[source].add(target)
    return edges


def forbidden_directions() -> set[tuple[str, str]]:
    """(source, target) app pairs ruled out by the forbidden contracts of pyproject.toml."""
    config = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    return {
        (source, target)
        for contract in contracts
        if contract["type"] == "forbidden"
        for source in contract["source_modules"]
        for target in contract["forbidden_modules"]
    }


def reachable(edges, start: str) -> set[str]:
    seen, stack = set(), [start]
    while stack:
        for target in edges[stack.pop()] - seen:
            seen.add(target)
            stack.append(target)
    return seen


def main() -> None:
    edges = app_edges()
    reach = {app: reachable(edges, app) for app in APPS}
    pairs = sorted({tuple(sorted((a, b))) for a in APPS for b in edges[a] if a in edges[b]})
    cycles = {frozenset({a} | {b for b in reach[a] if a in reach[b]}) for a in APPS}
    for app in APPS:
        print(f"{app} -> {', '.join(sorted(edges[app])) or '(none)'}")
    print(f"edges: {sum(map(len, edges.values()))}")
    print(f"two-way pairs: {len(pairs)}", *("<->".join(pair) for pair in pairs))
    ruled_out = sorted((a, b) for a in APPS for b in edges[a] if (a, b) in forbidden_directions())
    print(f"forbidden directions: {len(ruled_out)}", *("->".join(edge) for edge in ruled_out))
    print("cycles:", "; ".join(" ".join(sorted(c)) for c in cycles if len(c) > 1) or "none")


if __name__ == "__main__":
    main()
