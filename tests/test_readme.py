"""The README: its two opening commands, CI running the very same test command, and its Python examples."""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def opening_commands():
    block = README.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_readme_opens_with_two_commands():
    assert README.index("```bash") < README.index("\n\n", README.index("# xsq") + 6) + 3  # right under the title
    install_and_train, install_and_test = opening_commands()
    assert install_and_train.startswith("pip install") and install_and_train.endswith("xsq train")
    assert "[test]" in install_and_test and "pytest" in install_and_test


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert opening_commands()[1] in ci


EXAMPLES = re.findall(r"```python\n(.*?)```", README, re.S)


@pytest.mark.parametrize("code", EXAMPLES, ids=[f"example{i}" for i in range(len(EXAMPLES))])
def test_the_python_examples_run(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})


def test_check_examples_help_prints_usage_and_writes_nothing(tmp_path, monkeypatch, capsys):
    # `python scripts/check_examples.py --help` once wrote the README section to a file named --help
    spec = importlib.util.spec_from_file_location("check_examples", ROOT / "scripts" / "check_examples.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stopped:
        script.main(["--help"])
    assert stopped.value.code == 0
    assert "usage:" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []
