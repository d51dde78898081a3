"""Hatch build hook that compiles the project's .proto files with grpcio-tools.

Each distribution that owns protobuf definitions links this file as its
``hatch_build.py``. Generated modules are written next to the package sources
(``src/<package>/proto/``) so editable installs see them, and are listed as
build artifacts so wheels carry them although git ignores them. Sdists carry
the ``.proto`` sources instead (see each ``pyproject.toml``'s force-include),
so a wheel built from an sdist compiles them the same way.

Configuration (``[tool.hatch.build.hooks.custom]``):
    package: the Python package whose ``proto/`` directory is compiled.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def find_proto_root(project_root: Path) -> Path:
    """Return the directory holding the ``.proto`` tree: inside an sdist, or the monorepo's."""
    for candidate in (project_root / "protos", project_root.parent.parent / "protos"):
        if candidate.is_dir():
            return candidate
    raise RuntimeError(f"no protos/ directory found for {project_root}")


class ProtoBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Generate ``*_pb2.py``, ``*_pb2.pyi`` and ``*_pb2_grpc.py`` before a wheel is built."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        from grpc_tools import protoc  # a build requirement, not a runtime one

        package: str = self.config["package"]
        project_root = Path(self.root)
        proto_root = find_proto_root(project_root)
        sources = sorted((proto_root / package / "proto").glob("*.proto"))
        if not sources:
            raise RuntimeError(f"no .proto files under {proto_root / package / 'proto'}")
        out_dir = project_root / "src"
        well_known = Path(protoc.__file__).parent / "_proto"
        args = [
            "grpc_tools.protoc",
            f"-I{proto_root}",
            f"-I{well_known}",
            f"--python_out={out_dir}",
            f"--pyi_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            *(str(s) for s in sources),
        ]
        status = protoc.main(args)
        if status != 0:
            raise RuntimeError(f"protoc failed for {package} with exit status {status}")
