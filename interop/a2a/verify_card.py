"""Interop with the A2A Python SDK (a2a-sdk, pinned in requirements.txt): its own card
signature code, not ours, checks talos cards and signs cards talos must accept.

    verify_card.py verify < card.json
        a2a.utils.signing.create_signature_verifier over the card (parsed into the SDK's
        AgentCard); the key comes from the signature's kid, a did:key URL.
        Exit 0 valid, 1 invalid.
    verify_card.py sign < unsigned-card.json
        A fresh Ed25519 key becomes a did:key; the card's TALOS interface is set to it and
        a2a.utils.signing.create_agent_card_signer signs it (alg EdDSA, kid the DID URL).
        Prints the signed card (the SDK's JSON form).
"""

import json
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from google.protobuf import json_format

from a2a.types import AgentCard
from a2a.utils.signing import (
    SignatureVerificationError,
    create_agent_card_signer,
    create_signature_verifier,
)

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
ED25519_PUB = b"\xed\x01"  # multicodec ed25519-pub, as did:key uses


def b58decode(s: str) -> bytes:
    n = 0
    for c in s:
        n = n * 58 + B58.index(c)
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return b"\x00" * (len(s) - len(s.lstrip("1"))) + raw


def b58encode(b: bytes) -> str:
    n = int.from_bytes(b, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(b) - len(b.lstrip(b"\x00"))) + out


def key_of(kid: str | None, _jku: str | None) -> Ed25519PublicKey:
    """The key a did:key URL names (jku is never followed)."""
    if not kid or not kid.startswith("did:key:z"):
        raise ValueError(f"not a did:key URL: {kid}")
    raw = b58decode(kid.split("#", 1)[0][len("did:key:z"):])
    if raw[:2] != ED25519_PUB or len(raw) != 34:
        raise ValueError("not an Ed25519 did:key")
    return Ed25519PublicKey.from_public_bytes(raw[2:])


def read_card() -> AgentCard:
    return json_format.ParseDict(json.load(sys.stdin), AgentCard())


def main() -> int:
    mode = sys.argv[1]
    if mode == "verify":
        verifier = create_signature_verifier(key_of, ["EdDSA"])
        try:
            verifier(read_card())
        except SignatureVerificationError as e:
            print(f"invalid: {e}", file=sys.stderr)
            return 1
        print("valid")
        return 0
    if mode == "sign":
        key = Ed25519PrivateKey.generate()
        pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        did = "did:key:z" + b58encode(ED25519_PUB + pub)
        card = read_card()
        del card.signatures[:]
        card.supported_interfaces[0].url = did
        signer = create_agent_card_signer(
            signing_key=key,
            protected_header={"alg": "EdDSA", "kid": f"{did}#{did[8:]}", "typ": "JOSE"},
        )
        print(json.dumps(json_format.MessageToDict(signer(card))))
        return 0
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    sys.exit(main())
