"""Read-only commands: export, info, ls, cat, list."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from typing import Annotated, Any

import typer
from nix_compat.store_path import StorePath
from tvix_castore.blobservice.base import CHUNK_SIZE
from tvix_castore.digests import B3Digest
from tvix_castore.directory import ChildNode, DirectoryNode, FileNode, SymlinkNode, iter_nodes
from tvix_castore.directoryservice.traverse import descend_to

from tvix_store.cli.common import (
    BlobAddr,
    DirectoryAddr,
    PathInfoAddr,
    Services,
    fail,
    open_services,
    parse_store_path,
)
from tvix_store.cli.plain import CommandError, lookup, run_export
from tvix_store.pathinfo import PathInfo, PathInfoSummary, path_info_root_node, summarize


def _lookup(services: Services, store_path: StorePath) -> PathInfo:
    try:
        return lookup(services.path_infos, store_path)
    except CommandError as e:
        raise fail(str(e)) from None


def _node_at(services: Services, text: str) -> tuple[ChildNode, str]:
    """The node a ``/nix/store/...[/sub]`` argument names, and how to show its path."""
    store_path, sub = parse_store_path(text)
    root = path_info_root_node(_lookup(services, store_path))
    node = descend_to(services.directories, root, sub) if sub else root
    if node is None:
        raise fail(f"path '{text}' does not exist")
    return node, text


def export(
    store_path: Annotated[str, typer.Argument(help="the store path to serialise")],
    blob_service_addr: BlobAddr = None,
    directory_service_addr: DirectoryAddr = None,
    path_info_service_addr: PathInfoAddr = None,
) -> None:
    """Write the NAR serialisation of a store path to stdout (like nix-store --dump)."""
    # The same code as the fast path of tvix_store.cli.main, which skips this parser.
    addrs = [blob_service_addr, directory_service_addr, path_info_service_addr]
    status = run_export(store_path, addrs)
    if status:
        raise typer.Exit(status)


def render_info_text(summary: PathInfoSummary) -> str:
    """The narinfo-like text ``tvix-store info`` prints."""
    lines = [f"StorePath: {summary.store_path.to_absolute_path()}"]
    if summary.nar_hash is not None:
        lines.append(f"NarHash: {summary.nar_hash.to_nix_string()}")
    if summary.nar_size is not None:
        lines.append(f"NarSize: {summary.nar_size}")
    lines.append("References: " + " ".join(str(ref) for ref in summary.references))
    if summary.deriver is not None:
        lines.append(f"Deriver: {summary.deriver}")
    lines.extend(f"Sig: {sig.to_nix_string()}" for sig in summary.signatures)
    if summary.ca is not None:
        lines.append(f"CA: {summary.ca.to_nix_string()}")
    return "\n".join(lines) + "\n"


def info_json(summary: PathInfoSummary, root: ChildNode) -> dict[str, Any]:
    """The ``--json`` object: the fields of ``nix path-info --json`` plus the castore root node."""
    obj: dict[str, Any] = {"path": summary.store_path.to_absolute_path()}
    if summary.nar_hash is not None:
        obj["narHash"] = summary.nar_hash.to_nix_string()
    if summary.nar_size is not None:
        obj["narSize"] = summary.nar_size
    obj["references"] = [ref.to_absolute_path() for ref in summary.references]
    if summary.deriver is not None:
        obj["deriver"] = summary.deriver.to_absolute_path()
    obj["signatures"] = [sig.to_nix_string() for sig in summary.signatures]
    if summary.ca is not None:
        obj["ca"] = summary.ca.to_nix_string()
    if isinstance(root, SymlinkNode):
        obj["root"] = {"type": "symlink", "target": os.fsdecode(root.target)}
    else:
        kind = "directory" if isinstance(root, DirectoryNode) else "file"
        obj["root"] = {"type": kind, "digest": str(B3Digest(root.digest)), "size": root.size}
        if isinstance(root, FileNode):
            obj["root"]["executable"] = root.executable
    return obj


def info(
    store_paths: Annotated[list[str], typer.Argument(help="store paths to describe")],
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON list")] = False,
    blob_service_addr: BlobAddr = None,
    directory_service_addr: DirectoryAddr = None,
    path_info_service_addr: PathInfoAddr = None,
) -> None:
    """Print what the store knows about store paths, as narinfo-like text or JSON."""
    with open_services(blob_service_addr, directory_service_addr, path_info_service_addr) as s:
        summaries = []
        for text in store_paths:
            path, sub = parse_store_path(text)
            if sub:
                raise fail(f"'{text}' is not a store path (it has a sub path)")
            record = _lookup(s, path)
            summaries.append((summarize(record), path_info_root_node(record)))
        if as_json:
            typer.echo(json.dumps([info_json(summary, root) for summary, root in summaries]))
        else:
            typer.echo("\n".join(render_info_text(summary) for summary, _ in summaries), nl=False)


_LONG_TYPES = {"file": "-r--r--r--", "executable": "-r-xr-xr-x", "symlink": "lrwxrwxrwx"}


def _ls_line(node: ChildNode, shown: str, long: bool) -> str:
    if not long:
        return shown
    if isinstance(node, FileNode):
        kind, size = ("executable" if node.executable else "file"), node.size
    elif isinstance(node, SymlinkNode):
        kind, size = "symlink", 0
    else:
        kind, size = "directory", 0
    line = f"{_LONG_TYPES.get(kind, 'dr-xr-xr-x')} {size:20d} {shown}"
    if isinstance(node, SymlinkNode):
        line += " -> " + os.fsdecode(node.target)
    return line


def _ls_entries(
    s: Services, node: DirectoryNode, prefix: str, recursive: bool
) -> Iterator[tuple[ChildNode, str]]:
    stack: list[tuple[str, Iterator[ChildNode]]] = [(prefix, iter(_children(s, node)))]
    while stack:
        base, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            continue
        shown = f"{base}/{os.fsdecode(child.name)}"
        yield child, shown
        if recursive and isinstance(child, DirectoryNode):
            stack.append((shown, iter(_children(s, child))))


def _children(s: Services, node: DirectoryNode) -> list[ChildNode]:
    directory = s.directories.get(B3Digest(node.digest))
    if directory is None:
        raise fail(f"directory {B3Digest(node.digest)} is missing from the store")
    return list(iter_nodes(directory))


def ls(
    path: Annotated[str, typer.Argument(help="a store path, optionally with a sub path")],
    *,
    long: Annotated[bool, typer.Option("--long", "-l", help="show type, size and targets")] = False,
    recursive: Annotated[
        bool, typer.Option("--recursive", "-R", help="list everything below")
    ] = False,
    blob_service_addr: BlobAddr = None,
    directory_service_addr: DirectoryAddr = None,
    path_info_service_addr: PathInfoAddr = None,
) -> None:
    """List a directory in the store (like nix store ls), or show a single file or symlink."""
    with open_services(blob_service_addr, directory_service_addr, path_info_service_addr) as s:
        node, shown = _node_at(s, path)
        if not isinstance(node, DirectoryNode):
            typer.echo(_ls_line(node, os.path.basename(shown.rstrip("/")), long))
            return
        for child, child_shown in _ls_entries(s, node, ".", recursive):
            typer.echo(_ls_line(child, child_shown, long))


def cat(
    path: Annotated[str, typer.Argument(help="a regular file in the store: /nix/store/…/sub/file")],
    blob_service_addr: BlobAddr = None,
    directory_service_addr: DirectoryAddr = None,
    path_info_service_addr: PathInfoAddr = None,
) -> None:
    """Write the contents of a file in the store to stdout."""
    with open_services(blob_service_addr, directory_service_addr, path_info_service_addr) as s:
        node, shown = _node_at(s, path)
        if not isinstance(node, FileNode):
            raise fail(f"path '{shown}' is not a regular file")
        reader = s.blobs.open_read(B3Digest(node.digest))
        if reader is None:
            raise fail(f"the contents of '{shown}' (blob {B3Digest(node.digest)}) are missing")
        out = sys.stdout.buffer
        with reader:
            while data := reader.read(CHUNK_SIZE):
                out.write(data)
        out.flush()


def list_(
    blob_service_addr: BlobAddr = None,
    directory_service_addr: DirectoryAddr = None,
    path_info_service_addr: PathInfoAddr = None,
) -> None:
    """Print every store path in the store, sorted, one per line."""
    from tvix_store.pathinfo import validate_path_info

    with open_services(blob_service_addr, directory_service_addr, path_info_service_addr) as s:
        paths = sorted(validate_path_info(record) for record in s.path_infos.list())
        for store_path in paths:
            typer.echo(store_path.to_absolute_path())
