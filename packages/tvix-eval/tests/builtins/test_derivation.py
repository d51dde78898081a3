"""``derivation``, ``derivationStrict`` and the corepkgs, with values C++ Nix 2.8 computes."""

from __future__ import annotations

import pytest
from tvix_eval.api import Evaluator, evaluate
from tvix_eval.errors import NixError
from tvix_eval.io import EvalIOError, FilesystemIO
from tvix_eval.known_paths import KnownPaths, known_paths, set_known_paths

FOO = 'derivation { name = "foo"; builder = "/bin/sh"; system = "x86_64-linux"; }'
FOO_DRV = "/nix/store/9d794zbx10n43fa6zaqf33pfymdrm4r2-foo.drv"
FOO_OUT = "/nix/store/xpcvxsx5sw4rbq666blz6sxqlmsqphmr-foo"
FOO_ATERM = (
    b'Derive([("out","/nix/store/xpcvxsx5sw4rbq666blz6sxqlmsqphmr-foo","","")],[],[],'
    b'"x86_64-linux","/bin/sh",[],[("builder","/bin/sh"),("name","foo"),'
    b'("out","/nix/store/xpcvxsx5sw4rbq666blz6sxqlmsqphmr-foo"),("system","x86_64-linux")])'
)


class RecordingIO(FilesystemIO):
    """The file system, plus a record of the text files written to the store."""

    def __init__(self) -> None:
        self.written: dict[str, tuple[str, bytes, list[str]]] = {}

    def add_text_to_store(self, name: str, data: bytes, references: list[str]) -> str:
        path = super().add_text_to_store(name, data, references)
        self.written[path] = (name, data, list(references))
        return path


def run(src: str, io: FilesystemIO | None = None) -> str:
    ev = Evaluator(io=io or FilesystemIO(), impure=True, trace=lambda s: None)
    return ev.print(ev.evaluate(src, strict=True))


def error(src: str, io: FilesystemIO | None = None) -> str:
    with pytest.raises(NixError) as info:
        run(src, io)
    return str(getattr(info.value, "message", info.value))


def test_paths_of_a_simple_derivation() -> None:
    assert run(f"let d = {FOO}; in [ d.drvPath d.outPath d.type d.outputName ]") == (
        f'[ "{FOO_DRV}" "{FOO_OUT}" "derivation" "out" ]'
    )


def test_the_drv_file_is_written_through_the_io() -> None:
    io = RecordingIO()
    assert run(f"({FOO}).drvPath", io) == f'"{FOO_DRV}"'
    assert io.written == {FOO_DRV: ("foo.drv", FOO_ATERM, [])}


def test_input_derivations_are_references_of_the_drv_file() -> None:
    io = RecordingIO()
    src = (
        f'let d = {FOO}; in (derivation {{ name = "m"; builder = "/bin/sh"; '
        'system = "x86_64-linux"; outputs = [ "out" "dev" ]; dep = d; }).drvPath'
    )
    assert run(src, io) == '"/nix/store/3qgi17f7s1mi5aj20qhwdb2y05bix6m6-m.drv"'
    name, aterm, refs = io.written["/nix/store/3qgi17f7s1mi5aj20qhwdb2y05bix6m6-m.drv"]
    assert (name, refs) == ("m.drv", [FOO_DRV])
    assert f'[("{FOO_DRV}",["out"])]'.encode() in aterm


def test_multiple_outputs_and_their_contexts() -> None:
    src = (
        'let m = derivation { name = "m"; builder = "/bin/sh"; system = "x86_64-linux"; '
        f'outputs = [ "out" "dev" ]; dep = {FOO}; }}; in '
        "[ m.outPath m.dev.outPath (builtins.getContext m.drvPath) "
        "(builtins.getContext m.dev.outPath) m.dev.outputName (map (o: o.outputName) m.all) ]"
    )
    assert run(src) == (
        '[ "/nix/store/7j1dh93v3hn79k75jfgxpnqi3hjsq21v-m" '
        '"/nix/store/jjba09k77aizblkk82lpan7s3am9hgrp-m-dev" '
        '{ "/nix/store/3qgi17f7s1mi5aj20qhwdb2y05bix6m6-m.drv" = { allOutputs = true; }; } '
        '{ "/nix/store/3qgi17f7s1mi5aj20qhwdb2y05bix6m6-m.drv" = { outputs = [ "dev" ]; }; } '
        '"dev" [ "out" "dev" ] ]'
    )


def test_fixed_output_paths() -> None:
    src = (
        'let f = derivation { name = "f"; builder = "b"; system = "s"; '
        'outputHash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; }; '
        "in [ f.drvPath f.outPath ]"
    )
    assert run(src) == (
        '[ "/nix/store/bl1agi32llaknz5wk9xjdsrz2bicsnwx-f.drv" '
        '"/nix/store/i8yf3p9li8bd9rwjsr5nkg63lxs367am-f" ]'
    )


def test_derivation_strict_is_global_and_strict() -> None:
    src = (
        'let s = derivationStrict { name = "foo"; builder = "/bin/sh"; '
        'system = "x86_64-linux"; }; in [ (builtins.attrNames s) s.drvPath '
        "(builtins.isFunction derivation) (builtins.typeOf derivationStrict) ]"
    )
    assert run(src) == f'[ [ "drvPath" "out" ] "{FOO_DRV}" true "lambda" ]'


def test_placeholder() -> None:
    assert run('builtins.placeholder "out"') == (
        '"/1rz4g4znpzjwh1xymhjpm42vipw92pr73vdgl6xs1hycac8kf2n9"'
    )


@pytest.mark.parametrize(
    ("src", "message"),
    [
        (
            'derivationStrict { builder = "b"; system = "s"; }',
            "attribute 'name' missing for call to 'derivationStrict'",
        ),
        (
            '(derivation { name = "t"; system = "s"; }).outPath',
            "required attribute 'builder' missing",
        ),
        (
            '(derivation { name = "t"; builder = "b"; }).outPath',
            "required attribute 'system' missing",
        ),
        (
            '(derivation { name = "t.drv"; builder = "b"; system = "s"; }).outPath',
            "derivation names are not allowed to end in '.drv'",
        ),
        (
            '(derivation { name = "t"; builder = "b"; system = "s"; outputs = [ "a" "a" ]; })'
            ".outPath",
            "duplicate derivation output 'a'",
        ),
        (
            'derivationStrict { name = "t"; builder = "b"; system = "s"; outputs = [ ]; }',
            "derivation cannot have an empty set of outputs",
        ),
        (
            '(derivation { name = "t"; builder = "b"; system = "s"; outputHashMode = "x"; '
            'outputHash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; }).outPath',
            "invalid value 'x' for 'outputHashMode' attribute",
        ),
    ],
)
def test_errors(src: str, message: str) -> None:
    assert error(src) == message


def test_invalid_output_name_shows_the_would_be_path() -> None:
    assert error('(derivation { name = "t t"; builder = "b"; system = "s"; }).outPath') == (
        "store path 'x3w35plr0zizs9g7mdma1ncmkgph8lj1-t t' contains illegal character ' '"
    )


def test_empty_hash_warns() -> None:
    lines: list[str] = []
    ev = Evaluator(io=FilesystemIO(), impure=True, trace=lines.append)
    ev.evaluate(
        '(derivation { name = "t"; builder = "b"; system = "s"; outputHash = ""; '
        'outputHashAlgo = "sha256"; }).outPath',
        strict=True,
    )
    assert lines == [
        "warning: found empty hash, assuming 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='"
    ]


def test_warnings_can_be_turned_off() -> None:
    from tvix_eval.builtins.derivation import WARNINGS_KEY

    lines: list[str] = []
    ev = Evaluator(io=FilesystemIO(), impure=True, trace=lines.append)
    ev.state.extra[WARNINGS_KEY] = False
    ev.evaluate(
        '(derivation { name = "t"; builder = "b"; system = "s"; outputHash = ""; '
        'outputHashAlgo = "sha256"; }).outPath',
        strict=True,
    )
    assert lines == []


def test_write_errors_are_nix_errors() -> None:
    class FailingIO(FilesystemIO):
        def add_text_to_store(self, name: str, data: bytes, references: list[str]) -> str:
            raise EvalIOError("the store is read-only")

    assert error(f"({FOO}).drvPath", FailingIO()) == "the store is read-only"


def test_known_paths_remember_instantiated_derivations() -> None:
    ev = Evaluator(io=FilesystemIO(), impure=True, trace=lambda s: None)
    seen: list[str] = []
    known = known_paths(ev.state)
    known.listener = lambda path, drv: seen.append(path)
    ev.evaluate(f"({FOO}).drvPath", strict=True)
    assert seen == [FOO_DRV]
    assert known.derivation(FOO_DRV).builder == "/bin/sh"
    assert known.closure(FOO_DRV) == {FOO_DRV}


def test_derivations_made_elsewhere_are_read_through_the_io() -> None:
    """An input derivation this evaluation did not make is parsed from the store."""

    class StoreFiles(FilesystemIO):
        def read_file(self, path: str) -> bytes:
            if path == FOO_DRV:
                return FOO_ATERM
            return super().read_file(path)

    src = (
        f'let dep = builtins.appendContext "{FOO_OUT}" '
        f'{{ "{FOO_DRV}" = {{ outputs = [ "out" ]; }}; }}; '
        'in (derivation { name = "m"; builder = "/bin/sh"; system = "x86_64-linux"; '
        'outputs = [ "out" "dev" ]; inherit dep; }).drvPath'
    )
    assert run(src, StoreFiles()) == '"/nix/store/3qgi17f7s1mi5aj20qhwdb2y05bix6m6-m.drv"'
    assert error(src) == f"path '{FOO_DRV}' is not valid"


def test_a_host_can_install_its_known_paths() -> None:
    ev = Evaluator(io=FilesystemIO(), impure=True)
    mine = KnownPaths(lambda path: None, lambda path: ["/nix/store/x"])
    set_known_paths(ev.state, mine)
    assert known_paths(ev.state) is mine
    assert mine.references("/nix/store/y") == frozenset({"/nix/store/x"})


def test_whole_closure_context_pulls_in_input_derivations() -> None:
    """A ``drvPath`` (context ``=drv``) brings the whole closure of the ``.drv`` as inputs."""
    src = (
        f'let d = {FOO}; m = derivation {{ name = "m"; builder = "/bin/sh"; '
        'system = "x86_64-linux"; dep = d; }; '
        'w = derivation { name = "w"; builder = "b"; system = "s"; x = m.drvPath; }; '
        "in w.drvPath"
    )
    io = RecordingIO()
    assert run(src, io) == '"/nix/store/j0h5vciw7vpih18l9mqf95fny8l42f7l-w.drv"'
    m_drv = "/nix/store/m3v0x92whmdy3qssgil20skniih6vkyg-m.drv"
    _, aterm, refs = io.written["/nix/store/j0h5vciw7vpih18l9mqf95fny8l42f7l-w.drv"]
    assert refs == [FOO_DRV, m_drv]
    assert aterm.startswith(
        b'Derive([("out","/nix/store/klakgd5x3x768ac79v0d7zppiqlz6hh2-w","","")],'
        + f'[("{FOO_DRV}",["out"]),("{m_drv}",["out"])],["{FOO_DRV}","{m_drv}"],'.encode()
    )


def test_discarding_output_dependency_leaves_a_plain_source() -> None:
    src = (
        f'let m = derivation {{ name = "m"; builder = "/bin/sh"; '
        f'system = "x86_64-linux"; dep = {FOO}; }}; '
        'w = derivation { name = "w"; builder = "b"; system = "s"; '
        "x = builtins.unsafeDiscardOutputDependency m.drvPath; }; in w.drvPath"
    )
    assert run(src) == '"/nix/store/ff4wck6r2dpxyzcqi0slm5346n4jv2a4-w.drv"'


# --------------------------------------------------------------------------- corepkgs


def test_corepkgs_fetchurl_is_importable_but_not_a_file() -> None:
    src = (
        "[ <nix/fetchurl.nix> (builtins.isFunction (import <nix/fetchurl.nix>)) "
        "(builtins.pathExists <nix/fetchurl.nix>) <nix/other.nix> ]"
    )
    assert run(src) == "[ /__corepkgs__/fetchurl.nix true false /__corepkgs__/other.nix ]"


def test_fetchurl_nix_derivation() -> None:
    src = (
        '(import <nix/fetchurl.nix> { url = "http://example.org/a.tar"; '
        'sha256 = "0000000000000000000000000000000000000000000000000000"; }).drvPath'
    )
    assert run(src) == '"/nix/store/4bij1rz3i32qvd3dvvpgkj4lq8369xw7-a.tar.drv"'


def test_search_path_entry_wins_over_corepkgs(tmp_path: object) -> None:
    import pathlib

    root = pathlib.Path(str(tmp_path))
    (root / "nix").mkdir()
    (root / "nix" / "fetchurl.nix").write_text("42")
    ev = Evaluator(io=FilesystemIO(), impure=True, search_path=[str(root)])
    assert ev.print(ev.evaluate("import <nix/fetchurl.nix>", strict=True)) == "42"


def test_derivation_wrapper_file_is_nix_s() -> None:
    from tvix_eval.corepkgs import read_corepkg

    text = read_corepkg("derivation.nix").decode()
    assert "strict = derivationStrict drvAttrs;" in text
    assert read_corepkg("fetchurl.nix").startswith(b"\n{ system")


def test_bundled_corepkgs_import_under_pure_io() -> None:
    # C++ Nix imports its embedded <nix/fetchurl.nix> even with pure-eval; no file access needed.
    assert evaluate("builtins.isFunction (import <nix/fetchurl.nix>)") is True
