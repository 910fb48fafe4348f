#!/usr/bin/env python3
"""Checks the dependency rule of docs/architecture.md against the #include lines of the tree.

Why: the layering (core <- graph <- attention <- ... <- cli) is what keeps the house livable;
linking order alone does not catch an upward #include of a header-only piece. The rule is read
from the two tables of docs/architecture.md, so the document and the check cannot drift:

* "Modules and the dependency rule": one row per module, `| \\`dir/\\` | library | what | may
  include |`; the last column lists module names (comma separated; words that are not module
  names, such as third-party libraries in parentheses, are ignored here).
* "Third-party headers": `| library | include prefixes | allowed in |`; prefixes are
  backticked (`<Spectra/`), "allowed in" lists backticked path prefixes (`spectral/`,
  `*/cuda/` for any module's cuda folder, `graph/BoostInterop` for one file's stem).

Every `#include "M/..."` whose first component M is a module must come from M itself or a module
that may include M. Every `#include <P...>` of a listed prefix must sit in an allowed place. The
module graph itself must be acyclic, and every top-level folder with C++ sources must have a row. Prints one line per violation (file:line: what) and exits 1
if there is any; `--self-test` checks the checker on a scratch tree with known violations.

Usage: /usr/bin/python3 scripts/check_deps.py [--root DIR] [--self-test]
"""
import argparse
import pathlib
import re
import sys
import tempfile

SOURCE_SUFFIXES = {".hpp", ".cpp", ".cu", ".cuh", ".h"}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def table_rows(text, heading):
    """The data rows (lists of cells) of the first Markdown table after `heading`."""
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip().lstrip("#").strip() == heading)
    except StopIteration:
        raise SystemExit(f"check_deps: docs/architecture.md has no section '{heading}'")
    rows, seen_table = [], False
    for line in lines[start + 1:]:
        if line.startswith("|"):
            seen_table = True
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if all(re.fullmatch(r":?-+:?", c) for c in cells):
                continue
            rows.append(cells)
        elif seen_table:
            break
    if len(rows) < 2:
        raise SystemExit(f"check_deps: section '{heading}' of docs/architecture.md has no table")
    return rows[1:]  # drop the header row


def read_rule(doc_path):
    text = doc_path.read_text(encoding="utf-8")
    modules = {}
    for cells in table_rows(text, "Modules and the dependency rule"):
        m = re.fullmatch(r"`([a-z_]+)/`", cells[0])
        if not m:
            raise SystemExit(f"check_deps: module row '{cells[0]}' is not of the form `dir/`")
        modules[m.group(1)] = cells[-1]
    allowed = {}
    for name, cell in modules.items():
        words = re.findall(r"[a-z_]+", re.sub(r"\([^)]*\)", "", cell))
        allowed[name] = {w for w in words if w in modules and w != name}
    third = []
    for cells in table_rows(text, "Third-party headers"):
        prefixes = re.findall(r"`<([^`]+)`", cells[1])
        places = re.findall(r"`([^`]+)`", cells[2])
        if not prefixes or not places:
            raise SystemExit(f"check_deps: third-party row '{cells[0]}' needs `<prefix` and `place` entries")
        third.append((cells[0], prefixes, places))
    return allowed, third


def find_cycle(allowed):
    state = {}

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(allowed[node]):
            if state.get(nxt) == 1:
                return path + [node, nxt]
            if nxt not in state:
                found = visit(nxt, path + [node])
                if found:
                    return found
        state[node] = 2
        return None

    for node in sorted(allowed):
        if node not in state:
            cycle = visit(node, [])
            if cycle:
                return cycle
    return None


def place_matches(rel, place):
    if place.startswith("*/"):
        return f"/{place[2:]}" in f"/{rel}"
    return rel.startswith(place)


def check(root):
    allowed, third = read_rule(root / "docs" / "architecture.md")
    problems = []
    cycle = find_cycle(allowed)
    if cycle:
        problems.append("docs/architecture.md: the module rule has a cycle: " + " -> ".join(cycle))
    for top in sorted(root.iterdir()):
        if top.is_dir() and not top.name.startswith((".", "build")) and top.name not in allowed:
            if any(f.suffix in SOURCE_SUFFIXES for f in top.rglob("*") if f.is_file()):
                problems.append(f"{top.name}/: holds C++ sources but has no row in the module table")
    for module in sorted(allowed):
        base = root / module
        if not base.is_dir():
            problems.append(f"docs/architecture.md: module '{module}/' does not exist")
            continue
        for path in sorted(base.rglob("*")):
            if path.suffix not in SOURCE_SUFFIXES or not path.is_file():
                continue
            rel = path.relative_to(root).as_posix()
            for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                kind, target = m.groups()
                if kind == '"':
                    head = target.split("/", 1)[0]
                    if "/" in target and head in allowed and head != module and head not in allowed[module]:
                        ok = ", ".join(sorted(allowed[module])) or "no other module"
                        problems.append(f'{rel}:{number}: includes "{target}", but {module}/ may include only {ok}')
                    continue
                for name, prefixes, places in third:
                    if any(target.startswith(p) for p in prefixes) and not any(place_matches(rel, p) for p in places):
                        problems.append(f"{rel}:{number}: includes <{target}> ({name}), allowed only in {', '.join(places)}")
    return problems


SELF_TEST_DOC = """# Architecture
## Modules and the dependency rule
| module | library | what | may include |
|---|---|---|---|
| `core/` | c | errors | fmt |
| `graph/` | g | graphs | core, Boost.Graph (interop file only) |
| `cli/` | x | command | core, graph |
## Third-party headers
| library | include prefixes | allowed in |
|---|---|---|
| Boost.Graph | `<boost/graph/` | `graph/BoostInterop` |
| CUDA | `<cuda_runtime.h` | `*/cuda/` |
"""


def self_test():
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        (root / "docs").mkdir()
        (root / "docs" / "architecture.md").write_text(SELF_TEST_DOC)
        files = {
            "core/Error.hpp": '#include <string>\n#include "core/Rng.hpp"\n',
            "graph/Csr.hpp": '#include "core/Error.hpp"\n',
            "graph/BoostInterop.cpp": "#include <boost/graph/adjacency_list.hpp>\n",
            "graph/cuda/Kernels.cu": "#include <cuda_runtime.h>\n",
            "cli/main.cpp": '#include "graph/Csr.hpp"\n#include "cli/Args.hpp"\n',
        }
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        assert check(root) == [], check(root)
        (root / "core" / "Bad.hpp").write_text('#include "graph/Csr.hpp"\n')
        (root / "graph" / "Ops.cpp").write_text("#include <boost/graph/bfs.hpp>\n#include <cuda_runtime.h>\n")
        found = check(root)
        expected = [
            'core/Bad.hpp:1: includes "graph/Csr.hpp", but core/ may include only no other module',
            "graph/Ops.cpp:1: includes <boost/graph/bfs.hpp> (Boost.Graph), allowed only in graph/BoostInterop",
            "graph/Ops.cpp:2: includes <cuda_runtime.h> (CUDA), allowed only in */cuda/",
        ]
        assert found == expected, found
        (root / "docs" / "architecture.md").write_text(SELF_TEST_DOC.replace("| errors | fmt |", "| errors | cli |"))
        assert any("cycle" in p for p in check(root)), check(root)
        (root / "docs" / "architecture.md").write_text(SELF_TEST_DOC)
        (root / "extra").mkdir()
        (root / "extra" / "Stray.cpp").write_text("int x;\n")
        assert "extra/: holds C++ sources but has no row in the module table" in check(root), check(root)
    print("check_deps: self-test passed (clean tree accepted; 3 planted violations, a cycle and an unlisted folder found)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=pathlib.Path(__file__).resolve().parent.parent, type=pathlib.Path)
    parser.add_argument("--self-test", action="store_true", help="check the checker on a scratch tree")
    args = parser.parse_args()
    if args.self_test:
        self_test()
        return 0
    problems = check(args.root)
    for p in problems:
        print(p)
    if problems:
        print(f"check_deps: {len(problems)} violation(s) of the dependency rule in docs/architecture.md")
        return 1
    print("check_deps: every #include follows the dependency rule of docs/architecture.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
