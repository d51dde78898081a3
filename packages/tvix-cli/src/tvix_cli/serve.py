"""``tvix serve``: the ``tvix.proto.v1.EvaluatorService`` over gRPC.

A client opens ``Evaluate`` with an ``EvaluateFile`` or ``EvaluateExpression`` message. Every
derivation instantiated while the result is evaluated (strictly) is streamed back as a
``Derivation`` message whose ``drv`` is the ``.drv`` file's ATerm text; the stream ends with
``done`` (the value as ``nix-instantiate --eval --strict`` prints it) or ``error`` (the error
as Nix renders it). Build requests (import from derivation) are not issued.
"""

from __future__ import annotations

import os
import queue
import signal
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc

from tvix_cli.proto import evaluator_pb2 as pb
from tvix_cli.proto import evaluator_pb2_grpc as pb_grpc
from tvix_cli.store import LazyStore, StoreError

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["EvaluatorService"].full_name
_DONE = object()


class EvaluatorServicer(pb_grpc.EvaluatorServiceServicer):
    """Evaluates one request per stream, each in a fresh session over a shared store."""

    def __init__(self, store: LazyStore) -> None:
        self.store = store

    def Evaluate(
        self, request_iterator: Iterator[pb.EvaluateRequest], context: Any
    ) -> Iterator[pb.EvaluateResponse]:
        try:
            first = next(request_iterator)
        except StopIteration:
            return
        kind = first.WhichOneof("message")
        if kind not in ("evaluate_file", "evaluate_expression"):
            yield pb.EvaluateResponse(
                error=pb.NixError(
                    value="error: the first message must be evaluate_file or evaluate_expression"
                )
            )
            return
        out: queue.Queue[Any] = queue.Queue()
        worker = threading.Thread(
            target=self._evaluate, args=(first, out), name="tvix-serve-eval", daemon=True
        )
        worker.start()
        while True:
            item = out.get()
            if item is _DONE:
                break
            yield item
        worker.join()

    def _evaluate(self, request: pb.EvaluateRequest, out: queue.Queue[Any]) -> None:
        from tvix_eval.errors import NixError

        from tvix_cli.output import render
        from tvix_cli.runner import render_error
        from tvix_cli.session import Session, Settings
        from tvix_cli.toplevel import UsageError, auto_call, find_along_attr_path, resolve_file

        def instantiated(drv_path: str, drv: Any) -> None:
            text = drv.to_aterm_bytes().decode("utf-8", "surrogateescape")
            out.put(pb.EvaluateResponse(derivation=pb.Derivation(drv=text)))

        try:
            kind = request.WhichOneof("message")
            if kind == "evaluate_file":
                req = request.evaluate_file
                args = [(name, "expr", v.value) for name, v in sorted(req.arguments.items())]
                settings = Settings(read_only=False, store_fallback=False, auto_args=args)
                path = resolve_file(req.file_path, "/")
                with open(path, "rb") as f:
                    source = f.read().decode("utf-8", "surrogateescape")
                attr = req.attribute if req.HasField("attribute") else ""
            else:
                expr = request.evaluate_expression
                settings = Settings(read_only=False, store_fallback=False)
                wd = expr.working_directory or os.getcwd()
                path = os.path.join(wd, "«expression»")
                source = expr.expression
                attr = ""
            session = Session(settings, store=self.store)
            session.known.listener = instantiated
            ev = session.evaluator
            root = ev.evaluate(source, path=path)

            def finish() -> str:
                auto = session.auto_args()
                v = find_along_attr_path(root, attr, auto)
                if auto.d:
                    v = auto_call(v, auto)
                return render(v, "nix", True).rstrip("\n")

            try:
                value = ev.run(finish)
            finally:
                session.close()
            out.put(pb.EvaluateResponse(done=pb.NixValue(value=value)))
        except (NixError, UsageError, OSError, StoreError) as e:
            message = render_error(e, False) if not isinstance(e, OSError) else f"error: {e}"
            out.put(pb.EvaluateResponse(error=pb.NixError(value=message)))
        except Exception as e:  # never leave the client hanging
            out.put(pb.EvaluateResponse(error=pb.NixError(value=f"error: internal error: {e}")))
        finally:
            out.put(_DONE)


def start_server(listen_address: str, store: LazyStore, workers: int = 8) -> Any:
    """Bind ``listen_address`` (``unix:///path`` or ``HOST:PORT``) and start serving."""
    from tvix_castore.server.daemon import parse_listen_address

    target, socket_path = parse_listen_address(listen_address)
    if socket_path is not None and os.path.exists(socket_path):
        os.unlink(socket_path)
    server = grpc.server(ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tvix-rpc"))
    pb_grpc.add_EvaluatorServiceServicer_to_server(EvaluatorServicer(store), server)  # type: ignore[no-untyped-call]
    if server.add_insecure_port(target) == 0 and socket_path is None:
        raise OSError(f"cannot listen on {listen_address}")
    server.start()
    return server


def serve(listen_address: str, store_url: str | None) -> int:
    """Serve until SIGINT/SIGTERM; the exit status."""
    from tvix_castore.errors import CastoreError

    store = LazyStore(store_url, fallback=False)
    try:
        server = start_server(listen_address, store)
    except (CastoreError, OSError, RuntimeError) as e:
        sys.stderr.write(f"error: {e}\n")
        return 1
    stop = threading.Event()

    def handle(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    sys.stderr.write(f"tvix: EvaluatorService listening on {listen_address}\n")
    stop.wait()
    server.stop(5).wait()
    store.close()
    return 0
