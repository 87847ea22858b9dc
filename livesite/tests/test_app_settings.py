"""Apps reach their settings through their own `conf.py` (issue 16, item 6).

`livesite/settings.py` reads every setting from the environment; in each app listed
here only `conf.py` reads `django.conf.settings`, so an app's settings can be found in
one place; and each setting a `conf.py` names as `settings.X` is read from the
environment in settings.py and has its row in the README's settings table (moderation's
conf.py builds its names, so this second test sees none of them; a setting settings.py
builds from other variables, such as REDIS_CLIENT_OPTIONS, is checked through those).
Two of Django's own settings may still be named directly: `settings.AUTH_USER_MODEL` in
models (Django's migrations need the swappable reference written that way) and
`settings.DEBUG` (what Django itself means by it, not an app's).
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS_WITH_CONF = [
    "gifts",
    "moderation",
    "rooms",
    "accounts",
    "clips",
    "notifications",
    "discovery",
    "chat",
    "streaming",
    "realtime",
]
DJANGO_SEMANTICS = {"AUTH_USER_MODEL", "DEBUG"}


def app_modules(app):
    for path in sorted((ROOT / app).rglob("*.py")):
        parts = path.relative_to(ROOT / app).parts
        if path.name == "conf.py" and len(parts) == 1:
            continue
        if parts[0] in ("tests", "migrations") or path.name.startswith("test_"):
            continue
        yield path


def settings_reads(path):
    """Each read of a setting in the module other than those Django needs, as 'line: what'."""
    tree = ast.parse(path.read_text(), str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "django.conf":
            names |= {alias.asname or alias.name for alias in node.names}
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in names:
            parent = parents.get(node)
            if isinstance(parent, ast.Attribute) and parent.attr in DJANGO_SEMANTICS:
                continue
            found.append(f"{node.lineno}: {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
            found.append(f"{node.lineno}: os.{node.attr}")
    return found


@pytest.mark.parametrize("app", APPS_WITH_CONF)
def test_only_the_apps_conf_reads_settings(app):
    offenders = {
        str(path.relative_to(ROOT)): reads
        for path in app_modules(app)
        if (reads := settings_reads(path))
    }
    assert offenders == {}, f"read these through {app}/conf.py"


def conf_settings(app):
    """The settings the app's conf.py names (`settings.X`)."""
    tree = ast.parse((ROOT / app / "conf.py").read_text())
    return sorted(
        {
            node.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "settings"
        }
    )


# Settings that settings.py builds from variables it reads from the environment (and that
# settings.py itself uses, for the cache, the channel layer and Celery): those variables
# are what must be read and documented.
DERIVED = {
    "REDIS_CLIENT_OPTIONS": (
        "REDIS_SOCKET_TIMEOUT",
        "REDIS_CONNECT_TIMEOUT",
        "REDIS_HEALTH_CHECK_INTERVAL",
    ),
    "REDIS_CLUSTER_URL": ("REDIS_CLUSTER_NODES",),
}


def readme_variables():
    """The variables the README's settings table names (its rows' first column)."""
    rows = (ROOT / "README.md").read_text().splitlines()
    first_columns = [row.split("|")[1] for row in rows if row.startswith("| `")]
    return {name for column in first_columns for name in re.findall(r"`(\w+)`", column)}


@pytest.mark.parametrize("app", APPS_WITH_CONF)
def test_every_setting_an_app_reads_comes_from_the_environment_and_is_documented(app):
    # settings.py reads each one with env_*("NAME", ...), naming the variable in quotes.
    settings_py = (ROOT / "livesite" / "settings.py").read_text()
    names = sorted({source for name in conf_settings(app) for source in DERIVED.get(name, [name])})
    not_from_environment = [name for name in names if f'"{name}"' not in settings_py]
    undocumented = [name for name in names if name not in readme_variables()]
    assert (not_from_environment, undocumented) == ([], [])


def test_derived_settings_are_built_in_settings_py():
    settings_py = (ROOT / "livesite" / "settings.py").read_text()
    assert [name for name in DERIVED if not re.search(rf"^{name} = ", settings_py, re.M)] == []
