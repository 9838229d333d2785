"""Configuration: committed defaults, git-ignored secrets, then environment variables.

`config/app.json` holds the defaults, `config/secrets.json` (optional) the API keys; both are one
tree of sections (`lastfm`, `spotify`, ...). Any leaf can be overridden by an environment variable
named `MUSICTRACKER_<SECTION>_<KEY>` in upper case, e.g. `MUSICTRACKER_LASTFM_API_KEY`. Lists and
numbers in environment variables are read as JSON when they parse as JSON.

Code reads values through `get("lastfm.api_key")`, which looks at `settings.MUSICTRACKER`, so tests
can override configuration with pytest-django's `settings` fixture.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
CONFIG_DIR = Path(os.environ.get("MUSICTRACKER_CONFIG_DIR", BASE_DIR / "config"))
ENV_PREFIX = "MUSICTRACKER_"

# Secret keys exist with empty defaults so that environment variables can set them and so that
# `missing()` can name them even when no secrets file exists (the normal case on a fresh install).
SECRET_DEFAULTS: dict[str, dict[str, str]] = {
    "lastfm": {"api_key": "", "api_secret": ""},
    "spotify": {"client_id": "", "client_secret": ""},
    "discogs": {"token": ""},
    "ai": {"api_key": "", "product_id": ""},
    "metrics": {"token": ""},
}

SECRET_WORDS = ("key", "secret", "token", "password")


class ConfigError(Exception):
    """A configuration file exists but cannot be used."""


def _read_json(path: Path, *, required: bool) -> dict[str, Any]:
    if not path.exists():
        if required:
            raise ConfigError(f"Configuration file {path} is missing.")
        return {}
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object at its top level.")
    return data


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


def _env_name(path: tuple[str, ...]) -> str:
    return ENV_PREFIX + "_".join(path).upper()


def _apply_env(tree: dict[str, Any], environ: dict[str, str], path: tuple[str, ...] = ()) -> None:
    for key, value in tree.items():
        here = (*path, key)
        if isinstance(value, dict):
            _apply_env(value, environ, here)
            continue
        name = _env_name(here)
        if name in environ:
            raw = environ[name]
            if isinstance(value, str):
                tree[key] = raw
            else:
                try:
                    tree[key] = json.loads(raw)
                except json.JSONDecodeError:
                    tree[key] = raw


def load(config_dir: Path | None = None, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Read app.json, merge secrets.json over it, then environment variables over both."""
    config_dir = Path(config_dir or CONFIG_DIR)
    environ = dict(os.environ if environ is None else environ)
    tree: dict[str, Any] = copy.deepcopy(SECRET_DEFAULTS)
    _merge(tree, _read_json(config_dir / "app.json", required=True))
    _merge(tree, _read_json(config_dir / "secrets.json", required=False))
    _apply_env(tree, environ)
    return tree


def _tree() -> dict[str, Any]:
    from django.conf import settings

    return settings.MUSICTRACKER


def get(dotted: str, default: Any = None) -> Any:
    """Value at a dotted path such as "lastfm.api_key"; `default` when absent."""
    node: Any = _tree()
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def env_var(dotted: str) -> str:
    """The environment variable that overrides a dotted key."""
    return _env_name(tuple(dotted.split(".")))


def missing(*dotted: str) -> list[dict[str, str]]:
    """The keys among `dotted` that are empty, each with how to set it."""
    out = []
    for key in dotted:
        if not get(key):
            section, _, leaf = key.partition(".")
            out.append(
                {
                    "key": key,
                    "env": env_var(key),
                    "file": "config/secrets.json" if _is_secret(leaf) else "config/app.json",
                    "json": f'{{"{section}": {{"{leaf}": "…"}}}}',
                }
            )
    return out


def _is_secret(name: str) -> bool:
    return any(word in name for word in SECRET_WORDS) or name.endswith("_id")


def mask(value: str | None) -> str:
    """Show a secret as its last four characters at most, never in full."""
    if not value:
        return ""
    if len(value) <= 8:
        return "•" * 8
    return "•" * 8 + value[-4:]


def redacted(tree: dict[str, Any] | None = None) -> dict[str, Any]:
    """The configuration with every secret masked, safe to log or show."""
    tree = copy.deepcopy(_tree() if tree is None else tree)

    def walk(node: dict[str, Any]) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value)
            elif isinstance(value, str) and any(word in key for word in SECRET_WORDS):
                node[key] = mask(value)

    walk(tree)
    return tree
