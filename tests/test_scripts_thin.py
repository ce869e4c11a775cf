"""Scripts stay thin and nothing loads one (issue 18): tests run a script only as a process,
``python scripts/NAME.py ...``, and import what they check from the library; no script
imports another. A grep over every .py under tests/ and scripts/ (this file aside)."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# each a way to run a script's code in the current process
LOADS = {
    "spec_from_file_location": re.compile(r"spec_from_file_location"),
    "SourceFileLoader": re.compile(r"SourceFileLoader"),
    "runpy": re.compile(r"\brunpy\b|\brun_path\b|\brun_module\b"),
    "load_script": re.compile(r"\bload_script\b"),
    "import_module of scripts": re.compile(r"import_module\(\s*[\"']scripts\b"),
    "import of scripts": re.compile(r"^\s*(from|import)\s+scripts\b", re.M),
    "scripts on sys.path": re.compile(r"sys\.path\.(insert|append)\([^)\n]*scripts"),
}


def script_loads(text):
    """The names of the ``LOADS`` patterns found in ``text``."""
    return [name for name, pattern in LOADS.items() if pattern.search(text)]


def script_imports(path, scripts):
    """The other scripts that the script ``path`` imports by module name (it can, since
    ``python scripts/X.py`` puts scripts/ first on sys.path)."""
    text = path.read_text(encoding="utf-8")
    found = re.findall(r"^\s*(?:from\s+(\w+)\s+import|import\s+(\w+))", text, re.M)
    return sorted({a or b for a, b in found} & (scripts - {path.stem}))


@pytest.mark.parametrize("text, found", [
    ("spec = importlib.util.spec_from_file_location('t', path)", ["spec_from_file_location"]),
    ("import runpy\nrunpy.run_path(SCRIPT, run_name='__main__')", ["runpy"]),
    ("from conftest import load_script", ["load_script"]),
    ("mod = importlib.import_module('scripts.train')", ["import_module of scripts"]),
    ("from scripts.report import plot_confusion", ["import of scripts"]),
    ("sys.path.insert(0, str(ROOT / 'scripts'))", ["scripts on sys.path"]),
    ("subprocess.run([sys.executable, str(ROOT / 'scripts' / 'train.py')])", []),
    ("sys.path.insert(0, str(ROOT))          # run from a checkout", []),
])
def test_the_patterns_find_a_load(text, found):
    assert script_loads(text) == found


def test_no_test_or_script_loads_a_script_by_path():
    me = Path(__file__).resolve()
    found = {str(p.relative_to(ROOT)): script_loads(p.read_text(encoding="utf-8"))
             for top in ("tests", "scripts") for p in sorted((ROOT / top).rglob("*.py"))
             if p.resolve() != me}
    assert {p: names for p, names in found.items() if names} == {}
    assert "tests/conftest.py" in found and "scripts/train.py" in found     # the grep saw them


def test_no_script_imports_another():
    paths = sorted((ROOT / "scripts").glob("*.py"))
    scripts = {p.stem for p in paths}
    assert {"train", "get_data", "make_gif"} <= scripts
    assert {p.name: script_imports(p, scripts) for p in paths
            if script_imports(p, scripts)} == {}
