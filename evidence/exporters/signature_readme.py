"""README.txt's section on checking manifest.sig.json, with the tool or with openssl alone.

The commands run from the folder that holds the pack, so nothing is written inside it; the test
suite runs them as printed.
"""

from __future__ import annotations

from ..pack.signing import ED25519, RSA_PSS, SIGNATURE_FILE, SIGNED_FILE, SignerKey


def openssl_check(name: str, algorithm: str) -> str:
    """The openssl command that checks the signature (statement.txt, signature.bin and
    public.pem beside the pack)."""
    if algorithm == ED25519:
        return (
            "openssl pkeyutl -verify -pubin -inkey public.pem -rawin -in statement.txt"
            " -sigfile signature.bin"
        )
    digest = "-sha" + algorithm.rsplit("_", 1)[-1]
    pss = (
        " -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:auto" if algorithm == RSA_PSS else ""
    )
    return f"openssl dgst {digest}{pss} -verify public.pem -signature signature.bin statement.txt"


def signature_section(name: str, key: SignerKey) -> str:
    """How to check the signature; empty for an unsigned pack."""
    if key.key_arn:
        signer = f"AWS KMS key {key.key_arn}"
        origin = (
            "for the KMS key, e.g. with the AWS CLI:\n"
            f"    aws kms get-public-key --key-id {key.key_arn} --query PublicKey --output text"
            " | openssl base64 -d -A | openssl pkey -pubin -inform DER -out public.pem"
        )
        tool = f"soc-evidence verify {name} --kms"
    else:
        signer = "a local private key"
        origin = "from the key's owner, through a channel you trust (never from this pack)."
        tool = f"soc-evidence verify {name} --public-key public.pem"
    ok = "Signature Verified Successfully" if key.algorithm == ED25519 else "Verified OK"
    manifest_hash = f"openssl dgst -sha256 -r {name}/{SIGNED_FILE} | cut -c1-64"
    statement = f"printf '%s  {SIGNED_FILE}\\n' \"$({manifest_hash})\" > statement.txt"
    signature = (
        f"grep '\"signature\"' {name}/{SIGNATURE_FILE} | cut -d'\"' -f4"
        " | openssl base64 -d -A > signature.bin"
    )
    return f"""
How to check the signature
--------------------------
{SIGNATURE_FILE}, written after {SIGNED_FILE}, signs the line `sha256sum {SIGNED_FILE}`
prints ("<SHA-256>  {SIGNED_FILE}" and a newline). The manifest hashes every other file, so
a valid signature covers the whole pack.

Algorithm:             {key.algorithm}
Signed by:             {signer}
Public key SHA-256:    {key.public_key_sha256}

With the tool:
    {tool}

With openssl alone, from the folder that holds this pack, public.pem being the signer's
public key, {origin}
Then:
    openssl pkey -pubin -in public.pem -outform DER | openssl dgst -sha256
    {statement}
    {signature}
    {openssl_check(name, key.algorithm)}
The first command must print the public key SHA-256 above; the last must print "{ok}".
"""
