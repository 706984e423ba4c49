"""`stsenv decode [MESSAGE|-]`: what an encoded authorization failure message says (DecodeAuthorizationMessage)."""

import json
import re
import sys

from stsenv import awscli_output, signer, terminal
from stsenv.errors import ConfigError

# The longest run of these in pasted text is the encoded message (base64url, as AWS writes it).
_ENCODED = re.compile(r"[A-Za-z0-9_\-+/=]{16,}")
_AFTER_LABEL = re.compile(r"encoded authorization failure message:\s*([A-Za-z0-9_\-+/=]+)", re.IGNORECASE)
ENCODED_MAX_CHARS = 10240


def register(commands):
    parser = commands.add_parser("decode", help="what an encoded authorization failure message says (DecodeAuthorizationMessage)")
    parser.add_argument("message", nargs="?", metavar="MESSAGE|-", help="the message, or a whole error line; - or nothing reads stdin")
    signer.add_arguments(parser)
    parser.set_defaults(func=run)


def run(args):
    """The decoded document, pretty; with --output or --query, exactly what `aws sts decode-authorization-message` prints."""
    from stsenv import sts

    message = find_encoded_message(_read_message(args.message))

    def decode(credentials, endpoint):
        return sts.decode_authorization_message(credentials, endpoint, message)

    response, fmt, query = signer.call(args, decode)
    if args.output or query:
        awscli_output.render("DecodeAuthorizationMessage", response, fmt, query)
        return 0
    try:
        sys.stdout.write(json.dumps(json.loads(response["DecodedMessage"]), indent=2, ensure_ascii=False) + "\n")
    except ValueError:
        sys.stdout.write(response["DecodedMessage"] + "\n")
    return 0


def _read_message(given):
    if given not in (None, "-"):
        return given
    if sys.stdin.isatty():
        terminal.tell("stsenv: paste the AWS error or its encoded message, then press Ctrl-D")
    return sys.stdin.read()


def find_encoded_message(text):
    """The encoded message in `text`: the text itself, the word after "Encoded authorization failure
    message:", or else the longest base64url-like word (users paste whole error lines)."""
    labelled = _AFTER_LABEL.search(text)
    candidates = [labelled.group(1)] if labelled else sorted(_ENCODED.findall(text), key=len, reverse=True)
    if not candidates:
        raise ConfigError("no encoded authorization message found", "pass the text after `Encoded authorization failure message:`")
    message = candidates[0]
    if len(message) > ENCODED_MAX_CHARS:
        raise ConfigError(f"the encoded message has {len(message)} characters; AWS takes up to {ENCODED_MAX_CHARS}")
    return message
