"""The import graph of our packages: no circles, and the arrows run one way.

Every module of ops/, nn/, training/, viz/, recipes/, mnist/, safeio/ and every script is parsed with
``ast`` (nothing is imported), and every ``import`` counts as an edge, at module level or
inside a function: an import hidden in a function is still a circle, only a late one.
"""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ops", "nn", "training", "viz", "recipes", "mnist", "safeio")

# What each package may import of ours (rule 8: ops <- nn <- training <- scripts; viz
# reads traces and arrays, so no op, no net and no trainer; safeio is the bottom; nothing
# imports a script; recipes, which run ops to draw their traces, sit above viz and training
# and nothing of ours imports them). viz -> mnist is there today: viz/inputs.py loads the MNIST and
# Fashion-MNIST test images the GIFs show (mnist.images, mnist.catalog).
ALLOWED = {
    "ops": set(),
    "nn": {"ops"},
    "training": {"ops", "nn", "mnist", "safeio"},
    "viz": {"mnist", "safeio"},
    "recipes": {"ops", "nn", "training", "viz", "mnist", "safeio"},
    "mnist": {"safeio"},
    "safeio": set(),
}


def find_modules(root=ROOT, packages=PACKAGES):
    """Dotted name -> path of every module of ``packages`` under ``root``, and of every
    script in root/scripts (as ``scripts.NAME``)."""
    mods = {}
    for top in packages + ("scripts",):
        for path in sorted((root / top).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            mods[".".join(parts)] = path
    return mods


def _targets(name, is_package, node):
    """The dotted names an import statement of module ``name`` reads (before matching)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if node.level:                        # relative: from its own package upwards
        base = name.split(".") if is_package else name.split(".")[:-1]
        base = base[:len(base) - (node.level - 1)]
        module = ".".join(base + ([node.module] if node.module else []))
    else:
        module = node.module
    # ``from pkg import sub`` imports the module pkg.sub when there is one
    return [module] + [f"{module}.{a.name}" for a in node.names]


def _ours(target, mods):
    """The module of ours that ``target`` names (its longest known prefix), or None."""
    parts = target.split(".")
    scripts = {m.split(".", 1)[1] for m in mods if m.startswith("scripts.")}
    if len(parts) == 1 and parts[0] in scripts:         # ``import make_gif``
        return "scripts." + parts[0]
    while parts and ".".join(parts) not in mods:
        parts.pop()
    return ".".join(parts) or None


def import_graph(root=ROOT, packages=PACKAGES):
    """Module -> the set of our modules it imports, anywhere in its source."""
    mods = find_modules(root, packages)
    graph = {}
    for name, path in mods.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                targets = _targets(name, path.name == "__init__.py", node)
                if isinstance(node, ast.ImportFrom):   # a name, or a submodule when it is one
                    subs = [t for t in targets[1:] if t in mods]
                    targets = subs + ([targets[0]] if len(subs) < len(targets) - 1 else [])
                edges.update(t for t in (_ours(t, mods) for t in targets) if t and t != name)
        graph[name] = edges
    return graph


def circles(graph):
    """The strongly connected components of more than one module (each sorted), found with
    Tarjan's algorithm: every module of one can reach every other, so each is a circle."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def wrong_arrows(graph, allowed=ALLOWED):
    """``"a -> b"`` for every import of a package module that its package may not make."""
    bad = []
    for source, targets in sorted(graph.items()):
        package = source.split(".")[0]
        if package not in allowed:              # scripts may import every package
            continue
        for target in sorted(targets):
            other = target.split(".")[0]
            if other != package and other not in allowed[package]:
                bad.append(f"{source} -> {target}")
    return bad


def shortest_circle(component, graph):
    """One shortest circle through the first module of ``component``: [a, b, ..., a]."""
    start, inside = component[0], set(component)
    paths = {start: [start]}
    queue = [start]
    for v in queue:                                 # breadth first: the first return is shortest
        for w in sorted(graph[v] & inside):
            if w == start:
                return paths[v] + [start]
            if w not in paths:
                paths[w] = paths[v] + [w]
                queue.append(w)
    raise ValueError(f"{component} is not a circle")


def _circle_text(found, graph):
    return "; ".join(" -> ".join(shortest_circle(c, graph)) + f" (circle of {len(c)} modules)"
                     for c in found)


def test_the_graph_holds_every_package_and_its_known_arrows():
    graph = import_graph()
    for package in PACKAGES:
        assert package in graph and any(m.startswith(package + ".") for m in graph), package
    assert "scripts.make_gif" in graph
    # one arrow of each kind the parser must see: relative, absolute, package, submodule
    assert "ops.backtrace" in graph["ops.conv"]             # from .backtrace import ...
    assert "ops.trace" in graph["ops.conv"]                 # from . import trace as _trace
    assert "ops" in graph["nn.layers"]                      # import ops
    assert "nn.sdlm" in graph["training.config"]            # from nn.sdlm import MU
    assert "safeio.atomic" in graph["mnist.idx"]


def test_no_import_circle_within_or_across_packages():
    graph = import_graph()
    found = circles(graph)
    assert not found, f"import circles: {_circle_text(found, graph)}"


def test_the_arrows_run_one_way():
    assert wrong_arrows(import_graph()) == []


def test_the_shared_trace_modules_import_no_op():
    # what every op's traces share may be imported by every op module, so it imports none
    graph = import_graph()
    for shared in ("ops.trace", "ops.backtrace"):
        ops_read = {m for m in graph[shared] if not m.startswith("ops._")} - {"ops.trace"}
        assert ops_read == set(), f"{shared} imports {sorted(ops_read)}"


def _write(root, files):
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_a_circle_through_a_function_level_import_is_found(tmp_path):
    _write(tmp_path, {
        "ops/__init__.py": "from .a import f\nfrom .c import f as h\n",
        "ops/a.py": "from . import b\n\ndef f():\n    return b.g()\n",
        "ops/b.py": "def g():\n    from .a import f   # hidden, still a circle\n    return f\n",
        "ops/c.py": "from .a import f\n",
        "nn/__init__.py": "import ops\n",
        "scripts/run.py": "import nn\n",
    })
    graph = import_graph(tmp_path, ("ops", "nn"))
    assert graph["ops.b"] == {"ops.a"} and graph["nn"] == {"ops"}
    assert circles(graph) == [["ops.a", "ops.b"]]
    assert shortest_circle(["ops.a", "ops.b"], graph) == ["ops.a", "ops.b", "ops.a"]
    # across packages too: ops reaching back into nn closes ops -> nn -> ops
    _write(tmp_path, {"ops/c.py": "from .a import f\n\ndef h():\n    import nn\n"})
    graph = import_graph(tmp_path, ("ops", "nn"))
    assert ["nn", "ops", "ops.c"] in circles(graph)
    assert wrong_arrows(graph) == ["ops.c -> nn"]


def test_wrong_arrows_names_an_import_of_a_script_or_a_higher_package(tmp_path):
    _write(tmp_path, {
        "viz/__init__.py": "",
        "viz/draw.py": "from ops.conv import conv2d\nfrom mnist import images\n",
        "safeio/__init__.py": "import make_gif\n",
        "ops/__init__.py": "", "ops/conv.py": "",
        "mnist/__init__.py": "", "mnist/images.py": "",
        "scripts/make_gif.py": "import viz\n",
    })
    graph = import_graph(tmp_path, ("ops", "viz", "mnist", "safeio"))
    assert wrong_arrows(graph) == ["safeio -> scripts.make_gif", "viz.draw -> ops.conv"]
    assert circles(graph) == []
