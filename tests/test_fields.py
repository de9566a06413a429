"""Unit tests of pam_pyutmp.fields: how user, tty, host and address become utmp fields."""

from __future__ import annotations

import os
import socket

import pytest

from pam_pyutmp import fields
from pam_pyutmp.errors import InvalidFieldError
from pam_pyutmp.system import HOST_SIZE, ID_SIZE, LINE_SIZE, USER_SIZE

# --- tty_line and line_id ---------------------------------------------------------


@pytest.mark.parametrize(("tty", "line"), [
    ("/dev/pts/3", b"pts/3"),
    ("pts/3", b"pts/3"),
    (b"/dev/tty1", b"tty1"),
    (":0", b":0"),
    ("/dev/" + "x" * LINE_SIZE, b"x" * LINE_SIZE),
    ("x" * LINE_SIZE, b"x" * LINE_SIZE),
    ("/dev/pts/\u00e9", "pts/\u00e9".encode()),
])
def test_tty_line_strips_dev_and_keeps_the_rest(tty, line) -> None:
    """tty_line drops a leading /dev/ and keeps the rest byte for byte, up to ut_line's
    size."""
    assert fields.tty_line(tty) == line


@pytest.mark.parametrize("tty", ["", None, b""])
def test_tty_line_of_no_tty_is_none(tty) -> None:
    """An empty or absent tty means a session without one."""
    assert fields.tty_line(tty) is None


@pytest.mark.parametrize("tty", [
    pytest.param("/dev/" + "x" * (LINE_SIZE + 1), id="too-long-with-dev"),
    pytest.param("x" * (LINE_SIZE + 1), id="too-long"),
    pytest.param("pts/\x1b[2J", id="esc"),
    pytest.param("pts/\x9b", id="c1"),
    pytest.param("pts/\x00", id="nul"),
    pytest.param(b"pts/\xff", id="not-utf8"),
    pytest.param(os.fsdecode(b"pts/\xff"), id="surrogate"),
])
def test_tty_line_refuses_what_it_cannot_store_exactly(tty) -> None:
    """A tty that does not fit, holds controls or is not UTF-8 raises InvalidFieldError."""
    with pytest.raises(InvalidFieldError) as caught:
        fields.tty_line(tty)
    assert caught.value.field == "tty"


@pytest.mark.parametrize(("line", "ut_id"), [
    (b"pts/3", b"ts/3"),
    (b"pts/42", b"s/42"),
    (b"pts/123", b"/123"),
    (b"pts/1234", b"1234"),
    (b"tty1", b"tty1"),
    (b":0", b":0"),
])
def test_line_id_is_the_last_four_bytes(line, ut_id) -> None:
    """line_id is the line's last four bytes, as sshd and utempter make ut_id."""
    assert ID_SIZE == 4
    assert fields.line_id(line) == ut_id


# --- users ----------------------------------------------------------------------------

def test_clean_user_keeps_a_good_name_and_refuses_bad_ones() -> None:
    """clean_user returns a valid name's UTF-8 bytes and refuses empty, too long, control
    and non-UTF-8 names."""
    assert fields.clean_user("alice") == b"alice"
    assert fields.clean_user("u" * USER_SIZE) == b"u" * USER_SIZE
    assert fields.clean_user("j\u00fcrgen") == "j\u00fcrgen".encode()
    for bad in ("", "u" * (USER_SIZE + 1), "a\x1bb", "a\x9bb", b"a\xffb"):
        with pytest.raises(InvalidFieldError):
            fields.clean_user(bad)


# --- clean_host ---------------------------------------------------------------------------

def test_clean_host_keeps_a_clean_host_without_notes() -> None:
    """A clean host is kept as is, and a missing one becomes empty, without notes."""
    assert fields.clean_host("client.example") == fields.Cleaned(b"client.example", ())
    assert fields.clean_host("2001:db8::1") == fields.Cleaned(b"2001:db8::1", ())
    assert fields.clean_host(None) == fields.Cleaned(b"", ())
    assert fields.clean_host("h\u00f6st") == fields.Cleaned("h\u00f6st".encode(), ())


def test_clean_host_truncates_to_the_field_on_a_character_boundary() -> None:
    """A long host is cut to ut_host's size, never inside a multibyte character, and a note
    gives both lengths."""
    cut = fields.clean_host("x" * 300)
    assert cut.value == b"x" * HOST_SIZE
    assert len(cut.notes) == 1 and "300" in cut.notes[0] and str(HOST_SIZE) in cut.notes[0]
    for char in ("\u00e9", "\u20ac", "\U0001f600"):
        width = len(char.encode())
        for pad in range(HOST_SIZE - width + 1, HOST_SIZE):  # char straddles the end
            cut = fields.clean_host("x" * pad + char)
            assert cut.value == b"x" * pad, (char, pad)
            assert len(cut.notes) == 1
        fits = fields.clean_host("x" * (HOST_SIZE - width) + char)
        assert fits == fields.Cleaned(("x" * (HOST_SIZE - width) + char).encode(), ())


@pytest.mark.parametrize(("host", "value", "words"), [
    (b"bad\xffhost", b"bad?host", ["UTF-8"]),
    (os.fsdecode(b"bad\xffhost"), b"bad?host", ["UTF-8"]),
    ("a\x1b[2Jb", b"a?[2Jb", ["1 control"]),
    ("a\x9bb\x07c\x7f", b"a?b?c?", ["3 control"]),
    (b"a\xc2\x9bb\xc0", b"a?b?", ["UTF-8", "1 control"]),
])
def test_clean_host_replaces_invalid_bytes_and_controls(host, value, words) -> None:
    """Bytes that are not UTF-8 and C0, DEL and C1 controls become '?', each kind noted."""
    cleaned = fields.clean_host(host)
    assert cleaned.value == value
    assert len(cleaned.notes) == len(words)
    for note, word in zip(cleaned.notes, words):
        assert note.startswith("host:") and word in note


def test_truncate_utf8_never_splits_a_character() -> None:
    """truncate_utf8 returns the longest prefix of whole characters within the size."""
    data = "a\u20acb".encode()  # 1 + 3 + 1 bytes
    assert [fields.truncate_utf8(data, n) for n in range(6)] == [
        b"", b"a", b"a", b"a", "a\u20ac".encode(), data]


# --- host_address --------------------------------------------------------------------------

def v4(text: str) -> bytes:
    return socket.inet_pton(socket.AF_INET, text) + bytes(12)


def v6(text: str) -> bytes:
    return socket.inet_pton(socket.AF_INET6, text)


@pytest.mark.parametrize(("host", "packed", "shown"), [
    pytest.param(b"192.0.2.7", v4("192.0.2.7"), "192.0.2.7", id="ipv4"),
    pytest.param(b"2001:db8::7", v6("2001:db8::7"), "2001:db8::7", id="ipv6"),
    pytest.param(b"[2001:db8::7]", v6("2001:db8::7"), "2001:db8::7", id="ipv6-brackets"),
    pytest.param(b"::ffff:192.0.2.9", v4("192.0.2.9"), "192.0.2.9", id="v4-mapped"),
    pytest.param(b"::FFFF:c000:0209", v4("192.0.2.9"), "192.0.2.9", id="v4-mapped-hex"),
    pytest.param(b"fe80::1%eth0", v6("fe80::1"), "fe80::1", id="scoped"),
    pytest.param(b"::1", v6("::1"), "::1", id="loopback6"),
])
def test_host_address_packs_ip_literals(host, packed, shown) -> None:
    """An IP host fills ut_addr_v6 as the C library packs it (IPv4 in the first word,
    v4-mapped collapsed to IPv4, scope dropped), and address_text reads it back."""
    assert fields.host_address(host) == packed
    assert fields.address_text(packed) == shown


@pytest.mark.parametrize("host", [b"", b"client.example", b"192.0.2.300", b"1.2.3",
                                  b"192.0.2.7:22", b"localhost"])
def test_host_address_of_a_name_is_all_zero(host) -> None:
    """A host that is not an IP literal stores no address (16 zero bytes)."""
    assert fields.host_address(host) == bytes(16)
    assert fields.address_text(bytes(16)) is None
