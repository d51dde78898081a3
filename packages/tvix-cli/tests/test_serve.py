"""``tvix serve``: a real gRPC client talking to the EvaluatorService over a unix socket."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from tvix_cli.proto import evaluator_pb2 as pb
from tvix_cli.proto import evaluator_pb2_grpc as pb_grpc
from tvix_cli.serve import start_server
from tvix_cli.store import LazyStore


@pytest.fixture
def stub() -> Iterator[pb_grpc.EvaluatorServiceStub]:
    sock_dir = tempfile.mkdtemp(prefix="tve-")
    sock = f"{sock_dir}/eval.sock"
    store = LazyStore("memory://", fallback=False)
    server = start_server(f"unix://{sock}", store)
    channel = grpc.insecure_channel(f"unix:{sock}")
    try:
        yield pb_grpc.EvaluatorServiceStub(channel)  # type: ignore[no-untyped-call]
    finally:
        channel.close()
        server.stop(None)
        store.close()
        shutil.rmtree(sock_dir, ignore_errors=True)


def _ask(
    stub: pb_grpc.EvaluatorServiceStub, request: pb.EvaluateRequest
) -> list[pb.EvaluateResponse]:
    return list(stub.Evaluate(iter([request]), timeout=60))


def test_expression_streams_derivations_then_done(stub: pb_grpc.EvaluatorServiceStub) -> None:
    expr = (
        'let a = derivation { name = "a"; builder = "/bin/sh"; system = "x86_64-linux"; }; '
        'in (derivation { name = "b"; builder = "/bin/sh"; system = "x86_64-linux"; inherit a; })'
        ".outPath"
    )
    responses = _ask(
        stub, pb.EvaluateRequest(evaluate_expression=pb.EvaluateExpression(expression=expr))
    )
    kinds = [r.WhichOneof("message") for r in responses]
    assert kinds == ["derivation", "derivation", "done"]
    assert responses[0].derivation.drv.startswith('Derive([("out","/nix/store/')
    assert '"name","a"' in responses[0].derivation.drv
    assert '"name","b"' in responses[1].derivation.drv
    assert responses[2].done.value.startswith('"/nix/store/')


def test_file_with_attribute_and_arguments(
    stub: pb_grpc.EvaluatorServiceStub, tmp_path: Path
) -> None:
    f = tmp_path / "f.nix"
    f.write_text("{ n }: { x = { y = n * 2; }; }")
    request = pb.EvaluateRequest(
        evaluate_file=pb.EvaluateFile(
            file_path=str(f), attribute="x", arguments={"n": pb.NixValue(value="21")}
        )
    )
    responses = _ask(stub, request)
    assert [r.WhichOneof("message") for r in responses] == ["done"]
    assert responses[0].done.value == "{ y = 42; }"


def test_error(stub: pb_grpc.EvaluatorServiceStub) -> None:
    responses = _ask(
        stub, pb.EvaluateRequest(evaluate_expression=pb.EvaluateExpression(expression='throw "no"'))
    )
    assert [r.WhichOneof("message") for r in responses] == ["error"]
    assert responses[0].error.value.startswith("error: no")


def test_first_message_must_ask_for_evaluation(stub: pb_grpc.EvaluatorServiceStub) -> None:
    responses = _ask(stub, pb.EvaluateRequest(build_result=pb.BuildResult()))
    assert [r.WhichOneof("message") for r in responses] == ["error"]
