"""The one redactor: every spelling of the key a server or a library may write back, and URL
credentials. The forms are built here with the standard library, independently of redact.py."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from eicontract.http.redact import MASK, RedactingStream, Redactor, mask_userinfo, url_secrets

KEY = "ei_Fo+r/ms=k~ey?9" + "xY" * 8  # characters that every encoding spells differently


def planted_forms(key: str) -> dict[str, str]:
    raw = key.encode()
    forms = {
        "as is": key,
        "quote": quote(key, safe=""),
        "quote lower-case escapes": quote(key, safe="").replace("%2F", "%2f").replace("%2B", "%2b"),
        "quote_plus": quote_plus(key),
        "base64": base64.b64encode(raw).decode(),
        "base64 unpadded": base64.b64encode(raw).decode().rstrip("="),
        "base64 urlsafe": base64.urlsafe_b64encode(raw).decode(),
        "base64 urlsafe unpadded": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "hex": raw.hex(),
        "HEX": raw.hex().upper(),
    }
    for offset in (1, 2, 4):  # the key inside a longer base64 text, at each alignment
        forms[f"inside base64 at {offset}"] = base64.b64encode(b"x-api-key: "[:offset] + raw).decode()
    return forms


@pytest.mark.parametrize("form", sorted(planted_forms(KEY)))
def test_every_form_of_the_key_is_masked(form: str) -> None:
    value = planted_forms(KEY)[form]
    assert value != KEY or form == "as is"
    text = f"before {value} after"
    redactor = Redactor(KEY)
    assert redactor.found_in(text)
    masked = redactor.text(text)
    assert value not in masked and MASK in masked and masked.startswith("before ")


def test_a_key_with_surrounding_whitespace_is_masked_with_and_without_it() -> None:
    redactor = Redactor(KEY + "\n")
    assert KEY not in redactor.text(f"a {KEY} b")
    assert base64.b64encode(KEY.encode()).decode() not in redactor.text(base64.b64encode(KEY.encode()).decode())
    assert quote(KEY + "\n", safe="") not in redactor.text(quote(KEY + "\n", safe=""))


def test_echo_is_the_key_as_it_is_only() -> None:
    """SECRET-ECHO judges a reply that carries the key; an encoding of it is masked all the same."""
    redactor = Redactor(KEY)
    assert redactor.echoed_in(f"x{KEY}x")
    assert not redactor.echoed_in(KEY.encode().hex())


def test_innocent_text_is_left_alone() -> None:
    text = "GET /v1/api/1/classify/all/result/page?limit=100 -> 200 aGVsbG8gd29ybGQ= 68656c6c6f"
    assert Redactor(KEY).text(text) == text
    assert not Redactor(KEY).found_in(text)


@pytest.mark.parametrize(("url", "shown"), [
    ("https://user:pa55word@host.example/v1", "https://***@host.example/v1"),
    ("http://only-user@127.0.0.1:8080/v1?x=1", "http://***@127.0.0.1:8080/v1?x=1"),
    ("curl 'https://a:b@h/v1/api'", "curl 'https://***@h/v1/api'"),
    ("mail me at someone@example.com", "mail me at someone@example.com"),
    ("https://host.example/v1/a@b", "https://host.example/v1/a@b"),
])
def test_credentials_in_urls_are_masked(url: str, shown: str) -> None:
    assert mask_userinfo(url) == shown
    assert Redactor().text(url) == shown


def test_the_password_of_a_url_is_a_secret_in_every_form() -> None:
    secrets = url_secrets("https://robot:s3cret%2Fpass@host.example/v1")
    assert secrets == ("s3cret/pass", "robot")
    basic = base64.b64encode(b"robot:s3cret/pass").decode()  # what an HTTP client sends for userinfo
    masked = Redactor(KEY, *secrets).text(f"Authorization: Basic {basic}")
    assert "s3cret" not in base64.b64decode(masked.split()[-1] + "===", validate=False).decode("latin-1")
    assert url_secrets(None) == () and url_secrets("https://host/v1") == ()


def test_the_redacting_stream_masks_a_key_written_in_pieces() -> None:
    out = io.StringIO()
    stream = RedactingStream(out, Redactor(KEY))
    stream.write("the key is " + KEY[:5])
    stream.write(KEY[5:] + " and more\nnext ")
    stream.write("line " + quote(KEY, safe=""))
    stream.flush()
    assert KEY not in out.getvalue() and quote(KEY, safe="") not in out.getvalue()
    assert out.getvalue() == f"the key is {MASK} and more\nnext line {MASK}"


@pytest.mark.parametrize("as_json", [True, False])
def test_compare_output_goes_through_the_redactor(as_json: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Summaries from before the redactor knew every form may hold them: compare masks its output too."""
    from eicontract.cli import main

    leaked = base64.b64encode(KEY.encode()).decode()
    for name, target, reading in (("old", "https://robot:pa55w0rd@old.example/v1", "strict"),
                                  ("new", "https://new.example/v1", "lenient")):
        summary = {"tool": "eicontract", "clauses": {}, "target": target, "started": "t",
                   "readings": {"topic": {"reading": reading, "example": f"key {leaked}"}}}
        (tmp_path / f"{name}.json").write_text(json.dumps(summary))
    monkeypatch.setenv("EI_API_KEY", KEY)
    code = main(["compare", str(tmp_path / "old.json"), str(tmp_path / "new.json"), *(["--json"] if as_json else [])])
    out = capsys.readouterr().out
    assert code == 1 and "topic" in out  # the reading changed: there is an output to redact
    assert leaked not in out and "pa55w0rd" not in out and "robot" not in out


def test_a_key_split_across_a_body_is_masked_piece_by_piece() -> None:
    from eicontract.http.redact import FRAGMENT

    head, tail = KEY[:FRAGMENT], KEY[FRAGMENT:]
    assert len(tail) >= FRAGMENT
    body = json.dumps({"part1": head, "note": "and then", "part2": tail})
    redacted = Redactor(KEY).text(body)
    assert head not in redacted and tail not in redacted and "and then" in redacted
    short = KEY[:FRAGMENT - 1]  # a piece shorter than FRAGMENT could be innocent text: left alone
    assert Redactor(KEY).text(f"x {short} y") == f"x {short} y"
