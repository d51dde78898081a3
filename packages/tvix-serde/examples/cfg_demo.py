"""Read program configuration from Nix: the foods demo.

``foods.nix`` builds its set with ``builtins.listToAttrs`` and a helper function; Python sees
only the result, checked against ``Data``.

    python examples/cfg_demo.py
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

import tvix_serde


class Flavour(enum.Enum):
    Tasty = enum.auto()
    Okay = enum.auto()
    Eww = enum.auto()


@dataclass
class Data:
    name: str
    foods: dict[str, Flavour]


def main() -> None:
    foods = tvix_serde.load_file(Path(__file__).with_name("foods.nix"), Data)
    print("These are the foods:")
    for food, flavour in foods.foods.items():
        print(f"  {food}: {flavour.name}")


if __name__ == "__main__":
    main()
