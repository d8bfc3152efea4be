"""The README's two opening commands, and CI running the very same test command."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def opening_commands():
    text = (ROOT / "README.md").read_text()
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_readme_opens_with_two_commands():
    text = (ROOT / "README.md").read_text()
    assert text.index("```bash") < text.index("\n\n", text.index("# xsq") + 6) + 3  # right under the title
    install_and_train, install_and_test = opening_commands()
    assert install_and_train.startswith("pip install") and install_and_train.endswith("xsq train")
    assert "[test]" in install_and_test and "pytest" in install_and_test


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert opening_commands()[1] in ci
