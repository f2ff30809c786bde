"""Opaque NextTokens bound to the parameters of the call that issued them."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from emulator.api.index import Cursor

_PAYLOAD = struct.Struct(">dq")
_MAC_SIZE = 16


class InvalidTokenError(Exception):
    """The token is garbage, or was issued for other parameters."""


class TokenCodec:
    """Seal a cursor with an HMAC over the call's canonical parameters; open it again."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret if secret is not None else os.urandom(32)

    def _mac(self, binding: bytes, payload: bytes) -> bytes:
        return hmac.new(self._secret, binding + payload, hashlib.sha256).digest()[:_MAC_SIZE]

    def issue(self, binding: bytes, cursor: Cursor) -> str:
        """A token for the page after `cursor`, valid only with the same `binding`."""
        payload = _PAYLOAD.pack(*cursor)
        return base64.urlsafe_b64encode(payload + self._mac(binding, payload)).decode()

    def open(self, token: str, binding: bytes) -> Cursor:
        """The cursor inside a token; raise InvalidTokenError if it does not belong here."""
        try:
            raw = base64.urlsafe_b64decode(token.encode())
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise InvalidTokenError("not a token") from None
        if len(raw) != _PAYLOAD.size + _MAC_SIZE or base64.urlsafe_b64encode(raw).decode() != token:
            raise InvalidTokenError("not a token")
        payload, mac = raw[: _PAYLOAD.size], raw[_PAYLOAD.size :]
        if not hmac.compare_digest(mac, self._mac(binding, payload)):
            raise InvalidTokenError("token issued for other parameters")
        negtime, seq = _PAYLOAD.unpack(payload)
        return float(negtime), int(seq)
