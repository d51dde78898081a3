"""hashDerivationModulo, output path calculation and drv paths, on hand-built derivations."""

from __future__ import annotations

import hashlib

import pytest
from nix_compat.derivation import Derivation, DerivationError, Output, output_path_name
from nix_compat.derivation.paths import aterm_and_derivation_or_fod_hash
from nix_compat.nixhash import FlatHash, HashAlgo, NarHash, NixHash, TextHash
from nix_compat.store_path import build_text_path

EMPTY_SHA256 = hashlib.sha256(b"").digest()
FOD_PATH = "/nix/store/awyplyl8y8yhm3g2ds39a7lg4w2x98lk-fod"


def _no_lookup(path: str) -> NixHash:
    raise AssertionError(f"unexpected lookup of {path}")


@pytest.mark.parametrize(
    ("derivation_name", "output_name", "expected"),
    [("hello", "out", "hello"), ("hello", "dev", "hello-dev"), ("x", "bin", "x-bin")],
)
def test_output_path_name(derivation_name: str, output_name: str, expected: str) -> None:
    assert output_path_name(derivation_name, output_name) == expected


@pytest.mark.parametrize(
    ("ca_hash", "fingerprint"),
    [
        (
            NarHash(NixHash(HashAlgo.SHA256, EMPTY_SHA256)),
            f"fixed:out:r:sha256:{EMPTY_SHA256.hex()}:",
        ),
        (FlatHash(NixHash(HashAlgo.SHA1, bytes(20))), f"fixed:out:sha1:{bytes(20).hex()}:"),
        (TextHash(EMPTY_SHA256), f"fixed:out:text:sha256:{EMPTY_SHA256.hex()}:"),
    ],
)
def test_fixed_output_hash_fingerprint(
    ca_hash: NarHash | FlatHash | TextHash, fingerprint: str
) -> None:
    drv = Derivation(outputs={"out": Output(FOD_PATH, ca_hash)}, system="s", builder="b")
    expected = hashlib.sha256((fingerprint + FOD_PATH).encode()).digest()
    assert drv.derivation_or_fod_hash(_no_lookup) == NixHash(HashAlgo.SHA256, expected)


def test_fixed_output_hash_ignores_everything_but_the_output() -> None:
    ca = NarHash(NixHash(HashAlgo.SHA256, EMPTY_SHA256))
    a = Derivation(outputs={"out": Output(FOD_PATH, ca)}, system="s", builder="/bin/a")
    b = Derivation(
        outputs={"out": Output(FOD_PATH, ca)}, system="t", builder="/bin/b", arguments=["x"]
    )
    assert a.derivation_or_fod_hash(_no_lookup) == b.derivation_or_fod_hash(_no_lookup)


def test_fixed_hash_on_a_non_out_output_is_hashed_as_a_regular_derivation() -> None:
    ca = NarHash(NixHash(HashAlgo.SHA256, EMPTY_SHA256))
    drv = Derivation(outputs={"lib": Output(FOD_PATH, ca)}, system="s", builder="b")
    expected = hashlib.sha256(drv.to_aterm_bytes()).digest()
    assert drv.derivation_or_fod_hash(_no_lookup).digest == expected


def test_input_derivations_are_replaced_by_their_modulo_hash() -> None:
    input_hash = NixHash(HashAlgo.SHA256, bytes(range(32)))
    drv = Derivation(
        outputs={"out": Output()},
        input_derivations={"/nix/store/a.drv": {"out"}},
        system="s",
        builder="b",
    )
    lookups: list[str] = []

    def lookup(path: str) -> NixHash:
        lookups.append(path)
        return input_hash

    aterm = (
        b'Derive([("out","","","")],[("' + bytes(range(32)).hex().encode() + b'",["out"])],'
        b'[],"s","b",[],[])'
    )
    assert drv.derivation_or_fod_hash(lookup).digest == hashlib.sha256(aterm).digest()
    assert lookups == ["/nix/store/a.drv"]


def test_inputs_sharing_a_modulo_hash_unite_their_output_names() -> None:
    """As C++ Nix does (checked against nix-instantiate in test_derivation_nix.py)."""
    shared = NixHash(HashAlgo.SHA256, bytes(32))
    drv = Derivation(
        outputs={"out": Output()},
        input_derivations={"/nix/store/a.drv": {"dev"}, "/nix/store/b.drv": {"lib"}},
        system="s",
        builder="b",
    )
    united = Derivation(
        outputs={"out": Output()},
        input_derivations={bytes(32).hex(): {"dev", "lib"}},
        system="s",
        builder="b",
    )
    expected = hashlib.sha256(united.to_aterm_bytes()).digest()
    assert drv.derivation_or_fod_hash(lambda _: shared).digest == expected
    assert drv.input_derivations == {"/nix/store/a.drv": {"dev"}, "/nix/store/b.drv": {"lib"}}


def test_prepare_blanks_outputs_and_their_environment_entries() -> None:
    drv = Derivation(
        outputs={"out": Output("/nix/store/x"), "dev": Output("/nix/store/y")},
        system="s",
        builder="b",
        environment={"out": b"/nix/store/x", "name": b"n"},
    )
    drv.prepare_for_output_path_calculation()
    assert drv.outputs == {"out": Output(""), "dev": Output("")}
    assert drv.environment == {"out": b"", "dev": b"", "name": b"n"}


def test_calculate_output_paths_refuses_filled_outputs() -> None:
    drv = Derivation(outputs={"out": Output("/nix/store/x")}, system="s", builder="b")
    with pytest.raises(DerivationError, match="output 'out' already has the path '/nix/store/x'"):
        drv.calculate_output_paths("n", NixHash(HashAlgo.SHA256, bytes(32)))


def test_calculate_output_paths_rejects_bad_names_and_changes_nothing() -> None:
    drv = Derivation(outputs={"out": Output(), "dev": Output()}, system="s", builder="b")
    with pytest.raises(DerivationError, match="cannot build the store path of output 'dev'"):
        drv.calculate_output_paths("bad name", NixHash(HashAlgo.SHA256, bytes(32)))
    assert drv.outputs == {"out": Output(), "dev": Output()}
    assert drv.environment == {}


def test_derivation_path_rejects_bad_names() -> None:
    drv = Derivation(outputs={"out": Output()}, system="s", builder="b")
    with pytest.raises(DerivationError, match="cannot build the derivation path for name 'a/b'"):
        drv.calculate_derivation_path("a/b")


def test_derivation_path_references_inputs() -> None:
    source = "/nix/store/479085kqxqi9jkmicmk31wfaz4fcn13p-t.nix"
    input_drv = "/nix/store/0hm2f1psjpcwg8fijsmr4wwxrx59s092-bar.drv"
    with_refs = Derivation(
        outputs={"out": Output()},
        input_sources={source},
        input_derivations={input_drv: {"out"}},
        system="s",
        builder="b",
    )
    expected = build_text_path("x.drv", with_refs.to_aterm_bytes(), [input_drv, source])
    assert with_refs.calculate_derivation_path("x") == expected
    assert with_refs.calculate_derivation_path("x") != build_text_path(
        "x.drv", with_refs.to_aterm_bytes(), []
    )


def test_aterm_and_hash_together() -> None:
    """The .drv bytes and hashDerivationModulo at once, as the two separate calls give them."""
    hashes = {
        "/nix/store/a.drv": NixHash(HashAlgo.SHA256, bytes(32)),
        "/nix/store/b.drv": NixHash(HashAlgo.SHA256, bytes(32)),
        "/nix/store/c.drv": NixHash(HashAlgo.SHA256, bytes(range(32))),
    }
    drv = Derivation(
        outputs={"out": Output("/nix/store/x-o"), "dev": Output("/nix/store/x-d")},
        input_derivations={
            "/nix/store/a.drv": {"dev"},
            "/nix/store/b.drv": {"lib", "out"},
            "/nix/store/c.drv": {"out"},
        },
        input_sources={"/nix/store/s"},
        system="s",
        builder="b\n",
        arguments=['"'],
        environment={"out": b"/nix/store/x-o", "k\t": b"v\\"},
    )
    together = aterm_and_derivation_or_fod_hash(drv, hashes.__getitem__)
    assert together == (drv.to_aterm_bytes(), drv.derivation_or_fod_hash(hashes.__getitem__))
    ca = NarHash(NixHash(HashAlgo.SHA256, EMPTY_SHA256))
    fod = Derivation(outputs={"out": Output(FOD_PATH, ca)}, system="s", builder="b")
    assert aterm_and_derivation_or_fod_hash(fod, _no_lookup) == (
        fod.to_aterm_bytes(),
        fod.derivation_or_fod_hash(_no_lookup),
    )
