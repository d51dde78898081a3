"""The `nix show-derivation` JSON form: exact output, reading, and errors naming the field."""

from __future__ import annotations

import json

import pytest
from nix_compat.derivation import (
    Derivation,
    DerivationJSONError,
    Output,
    parse_show_derivation_json,
    show_derivation_json,
)
from nix_compat.nixhash import HashAlgo, NarHash, NixHash

DIGEST = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


def _example() -> Derivation:
    return Derivation(
        outputs={
            "out": Output(
                "/nix/store/awyplyl8y8yhm3g2ds39a7lg4w2x98lk-fod",
                NarHash(NixHash(HashAlgo.SHA256, DIGEST)),
            )
        },
        input_derivations={"/nix/store/b.drv": {"out", "dev"}},
        input_sources={"/nix/store/s"},
        system="x86_64-linux",
        builder="/bin/sh",
        arguments=["-c", 'a"\\\n\r\t'],
        environment={"ctl": b"a\x01\x08\x0c\x7f", "latin1": b"\xc5"},
    )


def test_show_derivation_exact_text() -> None:
    expected = """{
  "/nix/store/x.drv": {
    "outputs": {
      "out": {
        "path": "/nix/store/awyplyl8y8yhm3g2ds39a7lg4w2x98lk-fod",
        "hashAlgo": "r:sha256",
        "hash": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
      }
    },
    "inputSrcs": [
      "/nix/store/s"
    ],
    "inputDrvs": {
      "/nix/store/b.drv": [
        "dev",
        "out"
      ]
    },
    "system": "x86_64-linux",
    "builder": "/bin/sh",
    "args": [
      "-c",
      "a\\"\\\\\\n\\r\\t"
    ],
    "env": {
      "ctl": "a\\u0001\\u0008\\u000c\x7f",
      "latin1": "\udcc5"
    }
  }
}
"""
    text = show_derivation_json({"/nix/store/x.drv": _example()})
    assert text == expected
    assert text.encode("utf-8", "surrogateescape").endswith(b'"latin1": "\xc5"\n    }\n  }\n}\n')


def test_empty_collections() -> None:
    drv = Derivation(outputs={"out": Output("/p")}, system="s", builder="b")
    assert drv.to_json() == (
        '{\n  "outputs": {\n    "out": {\n      "path": "/p"\n    }\n  },\n  "inputSrcs": [],\n'
        '  "inputDrvs": {},\n  "system": "s",\n  "builder": "b",\n  "args": [],\n  "env": {}\n}'
    )


def test_newer_nix_forms_are_read() -> None:
    """Later Nix versions add `name` and give inputDrvs as {"outputs": [...], ...} objects."""
    obj = json.loads(_example().to_json())
    obj["name"] = "fod"
    obj["inputDrvs"]["/nix/store/b.drv"] = {"outputs": ["dev", "out"], "dynamicOutputs": {}}
    assert Derivation.from_json(json.dumps(obj)) == _example()


def _broken(path: list[str | int], value: object) -> str:
    obj = json.loads(_example().to_json())
    target = obj
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return json.dumps(obj)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("[]", "expected an object, got an array"),
        ("{", r"invalid JSON at line 1 column 2 \(char 1\): Expecting property name"),
        ('{"a": 1, "a": 2}', "duplicate key 'a' in a JSON object"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (_broken(["outputs"], KeyError), "outputs: required field is missing"),
        (_broken(["system"], 3), "system: expected a string, got a number"),
        (_broken(["builder"], None), "builder: expected a string, got null"),
        (_broken(["args", 1], True), r"args\[1\]: expected a string, got a boolean"),
        (_broken(["args"], "x"), "args: expected an array of strings, got a string"),
        (_broken(["inputSrcs"], ["/a", "/a"]), "inputSrcs: duplicate entry '/a'"),
        (_broken(["env", "ctl"], 1), "env.ctl: expected a string, got a number"),
        (_broken(["env", "ctl"], "\ud800"), "env.ctl: value contains an unpaired surrogate"),
        (
            _broken(["outputs", "out", "path"], KeyError),
            "outputs.out.path: required field is missing",
        ),
        (
            _broken(["outputs", "out", "hashAlgo"], KeyError),
            "outputs.out.hash: output hash '.*' is given without a hash algorithm",
        ),
        (_broken(["outputs", "out", "hash"], "zz"), "outputs.out.hash: invalid output hash"),
        (
            _broken(["outputs", "out", "hashAlgo"], "r:sha3"),
            "outputs.out.hash: invalid output hash: .*'sha3'",
        ),
        (
            _broken(["inputDrvs", "/nix/store/b.drv"], {}),
            "inputDrvs./nix/store/b.drv.outputs: required field is missing",
        ),
    ],
)
def test_errors_name_the_field(document: str, message: str) -> None:
    with pytest.raises(DerivationJSONError, match=message):
        Derivation.from_json(document)


def test_show_derivation_errors_include_the_drv_path() -> None:
    with pytest.raises(DerivationJSONError, match=r"/nix/store/x\.drv\.system: required field"):
        parse_show_derivation_json(
            '{"/nix/store/x.drv": {"outputs": {}, "inputSrcs": [], "inputDrvs": {}, '
            '"env": {}, "builder": "", "args": []}}'
        )
    with pytest.raises(DerivationJSONError, match="expected an object, got a string"):
        parse_show_derivation_json('"x"')
