"""Generated protobuf and gRPC modules (compiled at build time from protos/)."""
