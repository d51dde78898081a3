"""Nix store paths on top of tvix-castore: PathInfo, NAR render/ingest, gRPC daemon, FUSE mount and an HTTP binary cache."""
