#!/usr/bin/env python3
"""An outside verifier for safeguard's audit trail, written from the README alone.

It trusts nothing from the server but the verifier key an auditor was given, and uses
only Python's standard library and the `openssl` command (for Ed25519, which Python's
standard library lacks). It checks:

  * the signed checkpoint: the signature line for the key's name and key id, and the
    Ed25519 signature over the body (origin, size, base64 root, `time ...`);
  * the export (`safeguard audit export`, JSON lines with the entry bytes in base64):
    sequence numbers 1, 2, 3, ... each entry starting `{"seq":N,`, the hash chain
    SHA-256(previous hash || entry), and the RFC 6962 Merkle root over the first `size`
    leaves, SHA-256(0x00 || entry), against the checkpoint's root;
  * optionally an inclusion proof (`audit prove`) and a consistency proof
    (`audit consistency`) against roots it computed itself (RFC 9162 2.1.3.2, 2.1.4.2).

Usage: verify_trail.py --vkey VKEY --checkpoint FILE --export FILE
                       [--inclusion FILE] [--consistency FILE]
Exit status 0 when everything checks; 1 naming the first problem otherwise.
"""

import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile


class Bad(Exception):
    pass


def sha256(b):
    return hashlib.sha256(b).digest()


def leaf_hash(entry):
    return sha256(b"\x00" + entry)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def mth(leaves):
    """RFC 6962 2.1: the Merkle Tree Hash of a list of leaf hashes."""
    n = len(leaves)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def parse_vkey(vkey):
    name, key_id, key = vkey.split("+", 2)
    raw = base64.b64decode(key, validate=True)
    if len(raw) != 33 or raw[0] != 1:
        raise Bad("the verifier key is not an Ed25519 key (0x01 and 32 bytes)")
    pub = raw[1:]
    expect = sha256(name.encode() + b"\n" + b"\x01" + pub)[:4]
    if expect.hex() != key_id:
        raise Bad("the verifier key's id does not match its name and key")
    return name, expect, pub


def ed25519_verify(pub, message, signature):
    # SubjectPublicKeyInfo for Ed25519 (RFC 8410): a fixed 12-byte prefix, then the key.
    spki = bytes.fromhex("302a300506032b6570032100") + pub
    pem = "-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(spki).decode() + "\n-----END PUBLIC KEY-----\n"
    with tempfile.TemporaryDirectory() as d:
        paths = {n: os.path.join(d, n) for n in ("pub.pem", "msg", "sig")}
        for n, data in (("pub.pem", pem.encode()), ("msg", message), ("sig", signature)):
            with open(paths[n], "wb") as f:
                f.write(data)
        r = subprocess.run(
            ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", paths["pub.pem"], "-rawin",
             "-in", paths["msg"], "-sigfile", paths["sig"]],
            capture_output=True,
        )
        return r.returncode == 0


def check_checkpoint(text, vkey):
    name, key_id, pub = parse_vkey(vkey)
    if "\n\n" not in text:
        raise Bad("the checkpoint has no blank line before its signatures")
    body, sigs = text.rsplit("\n\n", 1)
    body = body + "\n"
    for line in sigs.splitlines():
        if not line.startswith("\u2014 "):
            raise Bad("a signature line does not start with an em dash")
        _, signer, sig = line.split(" ")
        raw = base64.b64decode(sig, validate=True)
        if signer == name and raw[:4] == key_id:
            if not ed25519_verify(pub, body.encode(), raw[4:]):
                raise Bad("the checkpoint's signature does not verify")
            break
    else:
        raise Bad("the checkpoint carries no signature by " + name)
    lines = body.split("\n")[:-1]
    if len(lines) != 4 or not lines[3].startswith("time "):
        raise Bad("the checkpoint body is not origin, size, root, time")
    if lines[0] != name:
        raise Bad("the checkpoint's origin is not the key's name")
    return int(lines[1]), base64.b64decode(lines[2], validate=True), lines[3][5:]


def verify_inclusion(leaf, index, size, proof, root):
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_root, second_root, proof):
    """RFC 9162 2.1.4.2."""
    if first == second:
        return not proof and first_root == second_root
    if first == 0 or first > second or not proof:
        return False
    if first & (first - 1) == 0:  # a power of two
        proof = [first_root] + proof
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vkey", required=True)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--export", required=True)
    ap.add_argument("--inclusion")
    ap.add_argument("--consistency")
    a = ap.parse_args()
    try:
        size, root, when = check_checkpoint(open(a.checkpoint, encoding="utf-8").read(), a.vkey)
        leaves, prev = [], bytes(32)
        with open(a.export, encoding="utf-8") as f:
            for n, line in enumerate(f, start=1):
                e = json.loads(line)
                entry = base64.b64decode(e["entry"], validate=True)
                if e["seq"] != n or not entry.startswith(b'{"seq":%d,' % n):
                    raise Bad("entry %d: out of sequence (an entry is missing or moved)" % n)
                if bytes.fromhex(e["prev_hash"]) != prev:
                    raise Bad("entry %d: its previous hash does not match the entry before" % n)
                h = sha256(prev + entry)
                if bytes.fromhex(e["hash"]) != h:
                    raise Bad("entry %d: its hash does not match its bytes (altered)" % n)
                prev = h
                leaves.append(leaf_hash(entry))
        if len(leaves) < size:
            raise Bad("the export holds %d entries but the checkpoint covers %d" % (len(leaves), size))
        if mth(leaves[:size]) != root:
            raise Bad("the Merkle root of entries 1..%d is not the signed root" % size)
        print("checkpoint signed %s: %d entries, root %s: verified" % (when, size, root.hex()))
        if a.inclusion:
            p = json.load(open(a.inclusion))
            i, n = p["leaf_index"], p["tree_size"]
            proof = [bytes.fromhex(h) for h in p["hashes"]]
            if not verify_inclusion(leaves[i], i, n, proof, mth(leaves[:n])):
                raise Bad("entry %d: the inclusion proof does not verify" % (i + 1))
            print("inclusion proof of entry %d in %d entries: verified" % (i + 1, n))
        if a.consistency:
            p = json.load(open(a.consistency))
            m, n = p["old_size"], p["new_size"]
            proof = [bytes.fromhex(h) for h in p["hashes"]]
            if not verify_consistency(m, n, mth(leaves[:m]), mth(leaves[:n]), proof):
                raise Bad("the consistency proof from %d to %d entries does not verify" % (m, n))
            print("consistency proof from %d to %d entries: verified" % (m, n))
    except Bad as e:
        print("NOT VERIFIED: %s" % e, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
