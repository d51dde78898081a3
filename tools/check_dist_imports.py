"""Import every distribution's package and its generated protobuf modules; run the commands.

Run by `nox -s dist` inside a virtualenv that holds only the built wheels, so
it proves that the wheels carry the code generated at build time.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

MODULES = [
    "nix_compat",
    "tvix_eval",
    "tvix_castore",
    "tvix_castore.proto.castore_pb2",
    "tvix_castore.proto.rpc_blobstore_pb2_grpc",
    "tvix_castore.proto.rpc_directory_pb2_grpc",
    "tvix_store",
    "tvix_store.proto.pathinfo_pb2",
    "tvix_store.proto.rpc_pathinfo_pb2_grpc",
    "tvix_serde",
    "tvix_cli",
    "tvix_cli.proto.evaluator_pb2_grpc",
]


#: Console scripts of the wheels, each with arguments and the exact output expected.
COMMANDS = [
    (
        ["tvix", "eval", "--strict", "-E", 'map (x: x * 2) [ 1 2 ] ++ [ "${toString 3}" ]'],
        '[ 2 4 "3" ]\n',
    ),
    (["tvix-store", "--help"], None),
    (["tvix-castore", "--help"], None),
]


def main() -> None:
    for name in MODULES:
        importlib.import_module(name)
        print(f"ok  {name}")
    scripts = Path(sys.executable).parent
    for argv, expected in COMMANDS:
        done = subprocess.run(
            [str(scripts / argv[0]), *argv[1:]], capture_output=True, text=True, check=True
        )
        if expected is not None and done.stdout != expected:
            raise SystemExit(f"{argv[0]} printed {done.stdout!r}, expected {expected!r}")
        print(f"ok  {' '.join(argv[:2])}")


if __name__ == "__main__":
    main()
