"""A realistic application configuration: nested dataclasses, an enum, optional values, lists,
a path and a dict, read from ``app.nix`` (which imports ``common.nix``).

    python examples/app_config.py
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

import tvix_serde
from tvix_serde import NIX_NAME


class Environment(enum.Enum):
    Development = "development"
    Staging = "staging"
    Production = "production"


@dataclass(frozen=True)
class Listen:
    host: str = "127.0.0.1"
    port: int = 8000


@dataclass(frozen=True)
class Database:
    url: str
    pool_size: int = field(default=5, metadata={NIX_NAME: "poolSize"})
    timeout_seconds: float = field(default=10.0, metadata={NIX_NAME: "timeoutSeconds"})


@dataclass(frozen=True)
class Worker:
    name: str
    queues: list[str]
    concurrency: int = 1


@dataclass(frozen=True)
class AppConfig:
    name: str
    environment: Environment
    listen: Listen
    database: Database
    data_dir: Path = field(metadata={NIX_NAME: "dataDir"})
    workers: list[Worker] = field(default_factory=list)
    features: dict[str, bool] = field(default_factory=dict)
    admin_email: str | None = field(default=None, metadata={NIX_NAME: "adminEmail"})


APP_NIX = Path(__file__).with_name("app.nix")


def load_config(path: Path = APP_NIX) -> AppConfig:
    """Load and check the configuration; unknown attributes (``debugDump``) are ignored here."""
    return tvix_serde.load_file(path, AppConfig, ignore_unknown_keys=True)


if __name__ == "__main__":
    config = load_config()
    print(config)
    print()
    print("As Nix again:")
    print(tvix_serde.dumps(config))
