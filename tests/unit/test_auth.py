"""API keys, their stored hash, the bearer header and the operator key."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from chalicelib.api.auth import KEY_PREFIX, bearer_token, hash_key, is_operator_key, new_key


def test_a_new_key_has_the_prefix_and_32_random_bytes() -> None:
    key = new_key()

    assert key.startswith(KEY_PREFIX)
    secret = key.removeprefix(KEY_PREFIX)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", secret)
    assert len(base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))) >= 32


def test_new_keys_do_not_repeat() -> None:
    keys = {new_key() for _ in range(1000)}

    assert len(keys) == 1000


def test_new_keys_use_the_whole_alphabet() -> None:
    # A crude entropy check: 1000 keys of 43 characters touch all 64 url-safe characters.
    characters = set("".join(new_key().removeprefix(KEY_PREFIX) for _ in range(1000)))

    assert len(characters) == 64


def test_hash_key_is_the_sha256_hex_digest() -> None:
    key = "flw_example"

    assert hash_key(key) == hashlib.sha256(b"flw_example").hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", hash_key(key))


def test_hash_key_is_stable_and_tells_keys_apart() -> None:
    key = new_key()

    assert hash_key(key) == hash_key(key)
    assert hash_key(key) != hash_key(key + "x")
    assert key not in hash_key(key)


def test_hash_key_of_a_known_value() -> None:
    assert hash_key("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer flw_abc", "flw_abc"),
        ("bearer flw_abc", "flw_abc"),
        ("BEARER flw_abc", "flw_abc"),
        ("  Bearer flw_abc  ", "flw_abc"),
        ("Bearer   flw_abc", "flw_abc"),
        ("Bearer flw_abc\n", "flw_abc"),
    ],
)
def test_bearer_token_reads_the_token(header: str, token: str) -> None:
    assert bearer_token(header) == token


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "   ",
        "Bearer",
        "Bearer ",
        "Bearer    ",
        "flw_abc",
        "Basic dXNlcjpwYXNz",
        "Token flw_abc",
        "Bearerflw_abc",
        "Bearer\tflw_abc",
    ],
)
def test_bearer_token_without_a_bearer_token_is_none(header: str | None) -> None:
    assert bearer_token(header) is None


def test_the_operator_key_matches_itself_only() -> None:
    assert is_operator_key("operator-secret", "operator-secret")
    assert not is_operator_key("operator-secre", "operator-secret")
    assert not is_operator_key("operator-secret ", "operator-secret")
    assert not is_operator_key("", "operator-secret")


@pytest.mark.parametrize("key", ["", " ", "anything", "flw_abc"])
def test_an_unset_operator_key_never_matches(key: str) -> None:
    assert is_operator_key(key, "") is False


def test_a_non_ascii_key_is_compared_not_crashed() -> None:
    assert not is_operator_key("nøkkel", "operator-secret")
    assert is_operator_key("nøkkel", "nøkkel")
