"""Secrets stsenv has seen in this process, so that no message, debug line or traceback shows them."""

_secrets = set()
MASK = "****"


def remember(*values):
    """Register secret values (keys, tokens, MFA codes, TOTP seeds) for scrubbing."""
    for value in values:
        if value and len(value) >= 4:
            _secrets.add(value)


def scrub(text):
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text
