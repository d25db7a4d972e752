"""``sessionlens.project``: finding a project's root and reading ``[tool.sessionlens]`` and
``[tool.kedro]`` from its real ``pyproject.toml``; every mistake is a one-line ``ProjectError``."""

from __future__ import annotations

from pathlib import Path

import pytest

from sessionlens.project import ProjectConfig, ProjectError, find_project_root, load_project
from sessiontools import git, make_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(
        tmp_path / "proj",
        {
            "pyproject.toml": '[tool.sessionlens]\npackage_name = "demo_pkg"\n',
            "src/a.py": "x = 1\n",
            "a.txt": "a\n",
        },
    )


def write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(text)
    return folder


def test_package_name_from_kedro_section(tmp_path: Path) -> None:
    project = make_repo(
        tmp_path / "k",
        {"pyproject.toml": '[tool.kedro]\npackage_name = "spaceflights"\nproject_name = "x"\n'},
    )
    config = load_project(project)
    assert config.package_name == "spaceflights"
    assert config.is_kedro
    assert config.default_command() == ["kedro", "run"]


def test_sessionlens_section_wins_and_is_found_from_a_subfolder(tmp_path: Path) -> None:
    project = make_repo(
        tmp_path / "both",
        {
            "pyproject.toml": '[tool.sessionlens]\npackage_name = "ours"\nrun = "python main.py"\n'
            'store = "runs/s.db"\n[tool.kedro]\npackage_name = "theirs"\n',
            "sub/deeper/x.txt": "x",
        },
    )
    config = load_project(project / "sub" / "deeper")
    assert config.root == project.resolve()
    assert config.package_name == "ours"
    assert config.default_command() == ["python", "main.py"]
    assert config.store == str(project.resolve() / "runs" / "s.db")


def test_bad_pyproject_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.sessionlens\nrun = 3")
    with pytest.raises(ProjectError, match=r"pyproject\.toml: not valid TOML"):
        load_project(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.sessionlens]\nrun = 3\n")
    with pytest.raises(ProjectError, match="run must be a list of strings"):
        load_project(tmp_path)


def test_project_without_pyproject_is_its_git_work_tree(repo: Path) -> None:
    (repo / "pyproject.toml").unlink()
    (repo / "deep" / "er").mkdir(parents=True)
    assert load_project(repo / "deep" / "er").root == repo.resolve()


# -- finding the root ---------------------------------------------------------------------------
def test_the_nearest_pyproject_or_work_tree_is_the_root(repo: Path) -> None:
    inner = write(repo / "packages" / "inner", "[project]\nname = 'inner'\n")
    (inner / "src").mkdir()
    assert find_project_root(inner / "src") == inner.resolve()
    assert find_project_root(repo / "src") == repo.resolve()
    assert load_project(inner / "src").root == inner.resolve()
    git(repo, "worktree", "add", "-q", "-b", "other", str(repo.parent / "wt"))
    (repo.parent / "wt" / "pyproject.toml").unlink()  # a linked work tree: .git is a file
    assert find_project_root(repo.parent / "wt" / "src") == (repo.parent / "wt").resolve()


def test_a_folder_in_no_project_is_its_own_plain_project(tmp_path: Path) -> None:
    plain = tmp_path / "plain" / "sub"
    plain.mkdir(parents=True)
    if find_project_root(plain) is not None:  # pragma: no cover - a pyproject above /tmp
        pytest.skip("the temporary folder is inside a project")
    config = load_project(plain)
    assert config == ProjectConfig(root=plain.resolve())
    assert config.default_command() is None and config.store is None and not config.is_kedro


def test_without_searching_parents_the_folder_itself_is_the_project(repo: Path) -> None:
    config = load_project(repo / "src", search_parents=False)
    assert config.root == (repo / "src").resolve()
    assert config.pyproject is None and config.package_name is None


# -- [tool.sessionlens] -------------------------------------------------------------------------
def test_run_as_a_list_or_a_shell_like_string(tmp_path: Path) -> None:
    listed = load_project(write(tmp_path / "a", '[tool.sessionlens]\nrun = ["python", "a b.py"]\n'))
    assert listed.run == ("python", "a b.py")
    assert listed.default_command() == ["python", "a b.py"]
    quoted = load_project(
        write(tmp_path / "b", "[tool.sessionlens]\nrun = \"python 'a b.py' -v\"\n")
    )
    assert quoted.run == ("python", "a b.py", "-v")
    both = load_project(write(tmp_path / "c", '[tool.sessionlens]\nrun = "make"\n[tool.kedro]\n'))
    assert both.is_kedro and both.default_command() == ["make"]  # ours wins over kedro run


def test_a_bare_kedro_table_marks_a_kedro_project(tmp_path: Path) -> None:
    config = load_project(write(tmp_path, "[tool.kedro]\n"))
    assert config.is_kedro and config.package_name is None
    assert config.default_command() == ["kedro", "run"]
    assert config.pyproject == (tmp_path / "pyproject.toml").resolve()


def test_store_uris_are_kept_and_paths_made_absolute(tmp_path: Path) -> None:
    def store(value: str) -> str | None:
        return load_project(write(tmp_path, f"[tool.sessionlens]\nstore = {value!r}\n")).store

    root = tmp_path.resolve()
    assert store("sqlite:///var/runs.db") == "sqlite:///var/runs.db"
    assert store("shelve://sessions") == "shelve://sessions"
    assert store("memory:") == "memory:"
    assert store("runs/s.db") == str(root / "runs" / "s.db")
    assert store("/srv/runs.db") == "/srv/runs.db"
    assert store("~/runs.db") == str(Path("~/runs.db").expanduser())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[tool.sessionlens]\nrun = []\n", "run is empty"),
        ("[tool.sessionlens]\nrun = ''\n", "run is empty"),
        ('[tool.sessionlens]\nrun = "python \'unclosed"\n', "run: No closing quotation"),
        ('[tool.sessionlens]\nrun = ["python", 3]\n', "run must be a list of strings"),
        ("[tool.sessionlens]\nstore = ''\n", "store must be a non-empty string"),
        ("[tool.sessionlens]\nstore = 5\n", "store must be a non-empty string"),
        ("[tool.sessionlens]\npackage_name = 3\n", "package_name must be a string, not 3"),
        ("[tool.kedro]\npackage_name = ['x']\n", "package_name must be a string"),
        ("[tool]\nsessionlens = 'run'\n", r"\[tool.sessionlens\] must be a table"),
        ("[tool]\nkedro = 1\n", r"\[tool.kedro\] must be a table"),
        ("x = " + "[" * 100_000 + "]" * 100_000 + "\n", "nested too deep"),
    ],
)
def test_wrong_values_are_one_line_errors_naming_the_file(
    tmp_path: Path, text: str, message: str
) -> None:
    write(tmp_path, text)
    with pytest.raises(ProjectError, match=message) as info:
        load_project(tmp_path)
    assert str(info.value).startswith(str(tmp_path.resolve() / "pyproject.toml"))
    assert "\n" not in str(info.value)


def test_other_tables_are_left_alone(tmp_path: Path) -> None:
    config = load_project(write(tmp_path, "tool = 'not a table'\n[project]\nname = 'x'\n"))
    assert config == ProjectConfig(root=tmp_path.resolve(), pyproject=config.pyproject)
