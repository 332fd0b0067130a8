"""Key format, checksum and hashing: pure functions, no app needed."""
import math

from app.keys import format as keyformat
from app.keys.lifecycle import parse_duration


def test_generated_key_has_the_documented_format():
    key = keyformat.generate_key("3fK9aQ2m")
    prefix, key_id, rest = key.split("_")
    assert (prefix, key_id) == ("spk", "3fK9aQ2m")
    assert len(rest) == keyformat.SECRET_LENGTH + keyformat.CHECKSUM_LENGTH
    assert keyformat.parse_key(key) == ("3fK9aQ2m", key)


def test_secret_has_at_least_160_bits_of_entropy():
    assert keyformat.SECRET_LENGTH * math.log2(62) >= 160
    assert len({keyformat.generate_key("abcdefgh") for _ in range(200)}) == 200


def test_checksum_rejects_every_single_character_typo():
    key = keyformat.generate_key("abcdefgh")
    for position in range(len("spk_abcdefgh_"), len(key)):
        for replacement in "0aZ":
            if key[position] != replacement:
                typo = key[:position] + replacement + key[position + 1:]
                assert keyformat.parse_key(typo) is None, typo


def test_malformed_keys_are_rejected():
    key = keyformat.generate_key("abcdefgh")
    for bad in ["", "spk_", key[:-1], key + "x", "xyz" + key[3:], key.replace("_", "-"),
                "spk_abc_" + "a" * 38]:
        assert keyformat.parse_key(bad) is None


def test_find_keys_in_text_ignores_lookalikes():
    key = keyformat.generate_key("abcdefgh")
    fake = key[:-6] + "AAAAAA"
    text = f'API_KEY = "{key}"\nother = "{fake}"\nembedded=x{key}'
    assert [k.full_key for k in keyformat.find_keys(text)] == [key]


def test_hash_is_sha256_or_hmac_with_pepper_and_compares_in_constant_time():
    key = keyformat.generate_key("abcdefgh")
    plain, peppered = keyformat.hash_key(key), keyformat.hash_key(key, "pepper")
    assert len(plain) == len(peppered) == 32 and plain != peppered
    assert keyformat.matches(key, plain) and keyformat.matches(key, peppered, "pepper")
    assert not keyformat.matches(key, peppered) and not keyformat.matches(key, None)


def test_durations():
    assert parse_duration("30d").days == 30 and parse_duration("12h").seconds == 43200
    assert parse_duration("15m").seconds == 900 and parse_duration("45s").seconds == 45
    for bad in ["", "30", "d", "3w", "-1d"]:
        try:
            parse_duration(bad)
        except ValueError:
            continue
        raise AssertionError(bad)
