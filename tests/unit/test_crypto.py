"""Personal-field sealing and the blind index, without a database."""
import secrets

import pytest
from cryptography.exceptions import InvalidTag

from shared.crypto import BlindIndex, load_or_create_secret, open_sealed, seal


def test_a_sealed_field_opens_only_with_its_key_and_context():
    key = secrets.token_bytes(32)
    token = seal(key, "310107195001010012", "t/r1/id_number")
    assert "310107195001010012" not in token and token.startswith("v1:")
    assert open_sealed(key, token, "t/r1/id_number") == "310107195001010012"
    with pytest.raises(InvalidTag):
        open_sealed(key, token, "t/r2/id_number")  # moved to another person: refused
    with pytest.raises(InvalidTag):
        open_sealed(secrets.token_bytes(32), token, "t/r1/id_number")  # the key was destroyed and replaced


def test_sealing_twice_gives_different_ciphertexts():
    key = secrets.token_bytes(32)
    assert seal(key, "13812345678", "c") != seal(key, "13812345678", "c")


def test_the_blind_index_matches_equal_values_per_tenant_only():
    index = BlindIndex(b"k" * 32)
    assert index("a", "id_number", "1") == index("a", "id_number", "1")
    assert index("a", "id_number", "1") != index("b", "id_number", "1")
    assert index("a", "id_number", "1") != BlindIndex(b"j" * 32)("a", "id_number", "1")


def test_the_secret_file_is_created_once_and_private(tmp_path):
    path = tmp_path / "secrets" / "blind-index.key"
    first = load_or_create_secret(path)
    assert load_or_create_secret(path) == first and oct(path.stat().st_mode & 0o777) == "0o600"
