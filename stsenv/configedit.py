"""Edit one profile of ~/.aws/config in place: other profiles, comments and order are kept line for line."""

import os
import tempfile

from stsenv import inifile


def section_header(profile):
    return "[default]" if profile == "default" else f"[profile {profile}]"


def _is_header_of(line, profile):
    stripped = line.strip()
    if not (stripped.startswith("[") and "]" in stripped):
        return False
    words = stripped[1 : stripped.rindex("]")].split()
    return words == ["profile", profile] or (profile == "default" and words == ["default"])


def _key_of(line):
    stripped = line.strip()
    if not stripped or stripped[0] in "#;[" or line[:1].isspace():
        return None
    cut = inifile.delimiter_at(stripped)
    return stripped[:cut].strip().lower() if cut > 0 else None


def update_profile(text, profile, settings):
    """Return `text` with `settings` ({key: value, or None to remove}) applied to the profile's section."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if _is_header_of(line, profile)), None)
    if start is None:
        body = [f"{key} = {value}" for key, value in settings.items() if value is not None]
        separator = [""] if lines and lines[-1].strip() else []
        return "\n".join(lines + separator + [section_header(profile)] + body) + "\n"
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    section = lines[start + 1 : end]
    pending = dict(settings)
    kept = []
    replacing = False
    for line in section:
        if replacing and line[:1].isspace() and line.strip():
            continue  # the continuation lines of a value being replaced or removed
        replacing = False
        key = _key_of(line)
        if key in pending:
            value = pending.pop(key)
            if value is not None:
                kept.append(f"{key} = {value}")
            replacing = True
            continue
        kept.append(line)
    last = max((i for i, line in enumerate(kept) if line.strip()), default=-1)
    kept[last + 1 : last + 1] = [f"{key} = {value}" for key, value in pending.items() if value is not None]
    return "\n".join(lines[: start + 1] + kept + lines[end:]) + "\n"


def write_atomically(path, text):
    """Replace `path` keeping its mode (0600 for a new file; ~/.aws created 0700)."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, mode=0o700, exist_ok=True)
    try:
        mode = os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        mode = 0o600
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".stsenv-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
