"""Import every distribution's package and its generated protobuf modules.

Run by `nox -s dist` inside a virtualenv that holds only the built wheels, so
it proves that the wheels carry the code generated at build time.
"""

from __future__ import annotations

import importlib

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


def main() -> None:
    for name in MODULES:
        importlib.import_module(name)
        print(f"ok  {name}")


if __name__ == "__main__":
    main()
