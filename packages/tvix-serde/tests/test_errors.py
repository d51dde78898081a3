"""Error reporting: paths into the value, source locations, Nix errors rendered like Nix."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tvix_serde import (
    Error,
    EvaluationError,
    Location,
    MissingAttributeError,
    ShapeError,
    UnknownAttributeError,
    loads,
)


@dataclass
class Server:
    host: str
    port: int = 80


@dataclass
class Config:
    servers: list[Server] = field(default_factory=list)
    main: Server | None = None


CONFIG = """let
  defaultPort = 80;
  mk = host: { inherit host; };
in {
  servers = [
    { host = "a"; port = defaultPort; }
    { host = "b"; port = "443"; }
  ];
  main = mk "c" // { port = true; };
}
"""


def test_shape_error_path_and_location() -> None:
    with pytest.raises(ShapeError) as info:
        loads(CONFIG, Config, path="/cfg/app.nix")
    e = info.value
    assert e.path == ("servers", 1, "port")
    assert e.message == 'expected an integer, got "443"'
    assert e.location == Location("/cfg/app.nix", 7, 26)
    assert str(e) == 'servers[1].port: expected an integer, got "443" (at /cfg/app.nix:7:26)'
    assert e.render() == "\n".join(
        [
            'error: servers[1].port: expected an integer, got "443"',
            "",
            "       at /cfg/app.nix:7:26:",
            "",
            '            6|     { host = "a"; port = defaultPort; }',
            '            7|     { host = "b"; port = "443"; }',
            "             |                          ^",
            "            8|   ];",
        ]
    )


def test_location_through_update_operator() -> None:
    source = CONFIG.replace('port = "443"', "port = 443")
    with pytest.raises(ShapeError) as info:
        loads(source, Config)
    assert str(info.value) == "main.port: expected an integer, got true (at «string»:9:29)"


def test_location_through_let_variables() -> None:
    source = 'let s = { port = "x"; }; in { main = s; }'
    with pytest.raises(ShapeError) as info:
        loads(source, dict[str, dict[str, int]])
    assert info.value.location == Location("«string»", 1, 18)


def test_location_of_nested_attribute_paths() -> None:
    with pytest.raises(ShapeError) as info:
        loads('{ main.host = "h"; main.port = "x"; }', Config)
    assert info.value.location == Location("«string»", 1, 32)


def test_location_unknown_for_computed_values() -> None:
    with pytest.raises(ShapeError) as info:
        loads('{ main = builtins.listToAttrs [ { name = "host"; value = 1; } ]; }', Config)
    assert str(info.value) == "main.host: expected a string, got 1"
    assert info.value.location is None


def test_errors_are_value_errors() -> None:
    assert issubclass(Error, ValueError)
    assert issubclass(ShapeError, Error) and issubclass(EvaluationError, Error)


def test_missing_attribute() -> None:
    with pytest.raises(MissingAttributeError) as info:
        loads("{ servers = [ { port = 1; } ]; }", Config)
    assert info.value.name == "host"
    assert str(info.value) == "servers[0]: missing required attribute 'host' (at «string»:1:15)"


def test_unknown_attribute_is_an_error_by_default() -> None:
    with pytest.raises(UnknownAttributeError) as info:
        loads('{ host = "a"; prot = 1; }', Server)
    assert info.value.name == "prot"
    assert str(info.value) == "prot: unknown attribute (did you mean 'port'?) (at «string»:1:15)"


def test_unknown_attributes_can_be_ignored() -> None:
    assert loads('{ host = "a"; prot = 1; }', Server, ignore_unknown_keys=True) == Server("a")


def test_quoted_path_segments() -> None:
    with pytest.raises(ShapeError) as info:
        loads('{ "a b" = { "if" = "x"; }; }', dict[str, dict[str, int]])
    assert str(info.value).startswith('"a b"."if": expected an integer, got "x"')


def test_evaluation_error_renders_like_nix() -> None:
    with pytest.raises(EvaluationError) as info:
        loads("{ a = 1 + true; }", dict[str, int])
    e = info.value
    assert e.path == ("a",)
    lines = e.render().splitlines()
    assert lines[0] == "error: cannot add a Boolean to an integer"
    assert lines[2].startswith("       at «string»:1:")
    assert lines[4] == "            1| { a = 1 + true; }"
    assert lines[-2:] == ["", "       … while loading 'a'"]
    assert str(e) == e.render()


def test_syntax_error() -> None:
    with pytest.raises(EvaluationError) as info:
        loads("{ a = ; }", path="/x/bad.nix")
    assert info.value.path == ()
    assert info.value.render().startswith("error: syntax error, unexpected ';'")
    assert "at /x/bad.nix:1:7:" in info.value.render()


def test_throw_in_needed_value() -> None:
    with pytest.raises(EvaluationError) as info:
        loads('{ host = throw "no host configured"; }', Server)
    assert info.value.render().splitlines()[0] == "error: no host configured"
    assert info.value.path == ("host",)


def test_error_from_a_file(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.nix"
    cfg.write_text('{\n  host = "a";\n  port = "eighty";\n}\n')
    from tvix_serde import load_file

    with pytest.raises(ShapeError) as info:
        load_file(cfg, Server)
    assert info.value.location == Location(str(cfg), 3, 10)


@dataclass
class Picky:
    value: int

    def __post_init__(self) -> None:
        if self.value == 13:
            raise KeyError("unlucky")


def test_other_exceptions_from_user_code_propagate_unchanged() -> None:
    with pytest.raises(KeyError, match="unlucky"):
        loads("{ value = 13; }", Picky)


def test_deeply_nested_values() -> None:
    source = "builtins.foldl' (acc: _: [ acc ]) [ ] (builtins.genList (x: x) 3000)"
    value = loads(source)
    depth = 0
    while value:
        value = value[0]
        depth += 1
    assert depth == 3000


def test_no_location_when_an_unknown_operand_may_override() -> None:
    source = """let extra = builtins.fromJSON ''{ "port": "x" }''; in {
      main = { host = "a"; port = 1; } // extra;
    }"""
    with pytest.raises(ShapeError) as info:
        loads(source, Config)
    assert str(info.value) == 'main.port: expected an integer, got "x"'


def test_no_location_when_dynamic_attributes_may_bind_the_name() -> None:
    with pytest.raises(ShapeError) as info:
        loads('let k = "port"; in { main = { host = "a"; ${k} = "x"; }; }', Config)
    assert str(info.value) == 'main.port: expected an integer, got "x"'


def test_unknown_attribute_without_a_close_match_lists_the_names() -> None:
    with pytest.raises(UnknownAttributeError) as info:
        loads('{ host = "a"; colour = 1; }', Server)
    assert info.value.message == "unknown attribute (expected one of host, port)"
    with pytest.raises(UnknownAttributeError) as info:
        loads("{ a = 1; }", Empty)
    assert info.value.message == "unknown attribute (the set must be empty)"


@dataclass
class Empty:
    pass
