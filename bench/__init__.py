"""Benchmarks: protoreq against raw grpcio (and protoc), measured in the same run."""
