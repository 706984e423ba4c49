"""The shape of the package, read from its source: no import cycles (function-level imports included), no
module using another's private names, a docstring at the top of every module, and no file of the
repository pointing at a file the repository lacks."""

import ast
import fnmatch
import os
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "stsenv"


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
TREES = {name: ast.parse(path.read_text(), str(path)) for name, path in MODULES.items()}


def imports(tree):
    """(stsenv module imported, the name it is bound to here or None, private names taken from it) for every
    import statement anywhere in `tree`: at the top, in a function, or under a condition."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "stsenv":
                    found.append((alias.name, alias.asname, []))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "stsenv":
            private = []
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                if submodule in MODULES:
                    found.append((submodule, alias.asname or alias.name, []))
                elif is_private(alias.name):
                    private.append(alias.name)
            found.append((node.module, None, private))
        elif isinstance(node, ast.ImportFrom) and node.level:
            found.append((f"relative import in line {node.lineno}", None, []))
    return found


def is_private(name):
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_every_import_of_the_package_names_one_of_its_modules():
    for name, tree in TREES.items():
        for module, _, _ in imports(tree):
            assert module in MODULES, f"{name} imports {module}"


def test_no_import_cycles():
    graph = {name: {module for module, _, _ in imports(tree)} - {name} for name, tree in TREES.items()}
    cycles = []
    state = {}  # name -> "active" while on the path, "done" after

    def visit(name, path):
        state[name] = "active"
        for module in sorted(graph[name]):
            if state.get(module) == "active":
                cycles.append(" -> ".join(path[path.index(module) :] + [module]))
            elif module not in state:
                visit(module, path + [module])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_the_import_reader_sees_imports_in_functions():
    """The cycle check reads imports inside functions too (broker imports the providers only to refresh)."""
    assert ("stsenv.providers", "providers", []) in imports(ast.parse("def refresh():\n    if True:\n        from stsenv import providers\n"))
    assert "stsenv.providers" in {module for module, _, _ in imports(TREES["stsenv.broker"])}


def test_no_module_uses_another_modules_private_names():
    used = []
    for name, tree in TREES.items():
        bound = {}
        for module, alias, private in imports(tree):
            used += [f"{name}: from {module} import {item}" for item in private]
            if alias:
                bound[alias] = module
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound and is_private(node.attr):
                used.append(f"{name}: {bound[node.value.id]}.{node.attr} (line {node.lineno})")
    assert used == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_says_what_it_is_for(name):
    docstring = ast.get_docstring(TREES[name])
    assert docstring and len(docstring.split()) >= 3, f"{MODULES[name]} has no docstring"


# ---- references to files of the repository ------------------------------------------------------------------------

TOP_LEVEL = r"(?:docs|tests|stsenv|shell|completions|benchmarks|scripts|bin|\.ci)"
REFERENCE = re.compile(rf"(?<![\w./@*$-])((?:{TOP_LEVEL}/[\w.*/-]*[\w*]|[\w-]+\.md))(?![\w/])")
# Where the wheel installs shell/ and completions/ (pyproject.toml's force-include): not files of the repository.
INSTALLED = {"stsenv/shell", "stsenv/completions"}
SKIPPED_DIRECTORIES = {".git", ".venv", ".hypothesis", ".pytest_cache", "__pycache__", "build", "dist"}


def repository_files():
    for directory, subdirectories, names in os.walk(ROOT):
        subdirectories[:] = [name for name in subdirectories if name not in SKIPPED_DIRECTORIES and not name.endswith(".egg-info")]
        for name in names:
            path = pathlib.Path(directory) / name
            try:
                yield path, path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue


def exists(reference, base):
    """Whether `reference` names a file or directory there, from the repository's root or from `base` (a
    relative link in docs/); a `*` or an upper-case placeholder word (tests/NAME.py) stands for any name."""
    for start in (ROOT, base):
        if (start / reference).exists():
            return True
        pattern = re.sub(r"(?<![A-Za-z])[A-Z]+(?:_[A-Z]+)*(?![A-Za-z])", "*", reference)
        if "*" in pattern and any(fnmatch.fnmatch(str(path.relative_to(start)), pattern) for path in start.rglob("*") if ".venv" not in path.parts):
            return True
    return False


def test_no_file_points_at_a_file_the_repository_lacks():
    missing = []
    for path, text in repository_files():
        if path == pathlib.Path(__file__).resolve():
            continue  # its examples of missing files below
        for match in REFERENCE.finditer(text):
            reference = match.group(1).rstrip(".")
            if reference not in INSTALLED and not exists(reference, path.parent):
                line = text.count("\n", 0, match.start()) + 1
                missing.append(f"{path.relative_to(ROOT)}:{line}: {reference}")
    assert missing == []


def test_the_reference_check_finds_what_it_looks_for(tmp_path):
    text = "see docs/nowhere.md and design.md, tests/test_cache.py, tests/test_reliability_*.py, tests/NAME.py, https://x.test/docs/a.md"
    found = [match.group(1) for match in REFERENCE.finditer(text)]
    assert found == ["docs/nowhere.md", "design.md", "tests/test_cache.py", "tests/test_reliability_*.py", "tests/NAME.py"]
    assert [reference for reference in found if not exists(reference, tmp_path)] == ["docs/nowhere.md", "design.md"]
