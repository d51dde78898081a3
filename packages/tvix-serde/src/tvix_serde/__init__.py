"""Nix as a configuration language for Python programs: Nix values into typed Python objects
and back.

>>> from dataclasses import dataclass
>>> @dataclass
... class Server:
...     host: str
...     port: int = 80
>>> loads('{ host = "example.org"; }', Server)
Server(host='example.org', port=80)
>>> print(dumps({"host": "example.org", "ports": [80, 443]}))
{
  host = "example.org";
  ports = [ 80 443 ];
}
"""

from tvix_serde.api import load, load_file, loads
from tvix_serde.encode import dump, dumps
from tvix_serde.errors import (
    Error,
    EvaluationError,
    Location,
    MissingAttributeError,
    ShapeError,
    UnknownAttributeError,
)
from tvix_serde.extensions import Builtins
from tvix_serde.naming import NIX_NAME

__all__ = [
    "NIX_NAME",
    "Builtins",
    "Error",
    "EvaluationError",
    "Location",
    "MissingAttributeError",
    "ShapeError",
    "UnknownAttributeError",
    "dump",
    "dumps",
    "load",
    "load_file",
    "loads",
]
