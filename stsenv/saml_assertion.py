"""A SAML assertion as users get hold of one, made ready for AssumeRoleWithSAML and checked first.

Users copy the SAMLResponse from their browser (base64, or URL-encoded form data), or an IdP tool prints
it. AWS refuses an expired assertion or a role the assertion does not grant with a terse error; saying
which roles it does grant, or when it expired, is what a person needs. Cold path only.
"""

import base64
import binascii
import time
import xml.etree.ElementTree as ElementTree
from urllib.parse import unquote_plus

from stsenv.errors import ConfigError
from stsenv.oneline import oneline

ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
_ASSERTION_NS = "{urn:oasis:names:tc:SAML:2.0:assertion}"
MAX_CHARS = 100000
OFFERED_SHOWN = 5  # roles named when the assertion lacks the one asked for (the IdP's text: each made one safe line)


def normalize(text):
    """The base64 assertion from what a user pasted: bare base64, `SAMLResponse=...` form data, or the XML."""
    text = text.strip()
    if text.startswith("SAMLResponse="):
        text = unquote_plus(text[len("SAMLResponse=") :].split("&", 1)[0])
    elif "%" in text:
        text = unquote_plus(text)
    if text.startswith("<"):
        return base64.b64encode(text.encode()).decode()
    return "".join(text.split())


def check(assertion, role_arn, principal_arn, now=None):
    """ConfigError unless `assertion` is a SAML response that grants this role and has not expired."""
    if not 4 <= len(assertion) <= MAX_CHARS:
        raise ConfigError(f"the SAML assertion has {len(assertion)} characters; AWS takes 4 to {MAX_CHARS}")
    try:
        root = ElementTree.fromstring(base64.b64decode(assertion, validate=True))
    except (binascii.Error, ValueError, ElementTree.ParseError):
        raise ConfigError(
            "the SAML assertion is not base64-encoded SAML XML",
            "use the SAMLResponse value your identity provider posts to https://signin.aws.amazon.com/saml",
        ) from None
    granted = granted_roles(root)
    if (role_arn, principal_arn) not in granted:
        offered = "; ".join(f"{oneline(role, 200)} (provider {oneline(provider, 200)})" for role, provider in sorted(granted)[:OFFERED_SHOWN])
        more = f" and {len(granted) - OFFERED_SHOWN} more" if len(granted) > OFFERED_SHOWN else ""
        raise ConfigError(f"the SAML assertion does not grant {role_arn} through {principal_arn}; it grants: {offered or 'none'}{more}")
    expiry = expires(root)
    if expiry is not None and expiry <= (time.time() if now is None else now):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expiry))
        raise ConfigError(f"the SAML assertion expired at {stamp}", "assertions last minutes: get a fresh one from your identity provider")


def granted_roles(root):
    """{(role ARN, provider ARN)} from the Role attribute; AWS accepts the pair in either order."""
    pairs = set()
    for attribute in root.iter(f"{_ASSERTION_NS}Attribute"):
        if attribute.get("Name") != ROLE_ATTRIBUTE:
            continue
        for value in attribute.iter(f"{_ASSERTION_NS}AttributeValue"):
            parts = [part.strip() for part in (value.text or "").split(",")]
            if len(parts) == 2:
                role, provider = parts if ":role/" in parts[0] else parts[::-1]
                pairs.add((role, provider))
    return pairs


def expires(root):
    """The earliest NotOnOrAfter of the assertion's conditions and subject confirmations, epoch seconds."""
    from datetime import datetime

    moments = []
    for element in root.iter():
        stamp = element.get("NotOnOrAfter")
        if stamp:
            try:
                moments.append(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
            except ValueError:
                continue
    return min(moments) if moments else None
