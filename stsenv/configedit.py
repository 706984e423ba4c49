"""Edit one profile of ~/.aws/config in place: other profiles, comments, order and line endings are kept
byte for byte; the edit is checked to read back as meant before it is written, and written atomically."""

import io
import os
import stat
import tempfile

from stsenv import inifile
from stsenv.errors import ConfigError


def section_header(profile):
    return "[default]" if profile == "default" else f"[profile {profile}]"


def _names_profile(section, profile):
    """Whether the text between a header's brackets is that of `profile`'s section."""
    words = section.split()
    return words == ["profile", profile] or (profile == "default" and words == ["default"])


def _is_header_of(line, profile):
    stripped = line.strip().lstrip("\ufeff")
    if not (stripped.startswith("[") and "]" in stripped):
        return False
    return _names_profile(stripped[1 : stripped.rindex("]")], profile)


def _key_of(line):
    stripped = line.strip()
    if not stripped or stripped[0] in "#;[" or line[:1].isspace():
        return None
    cut = inifile.delimiter_at(stripped)
    return stripped[:cut].strip().lower() if cut > 0 else None


def read(path):
    """The config file's text with its line endings as they are ("" when there is no file)."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read()
    except FileNotFoundError:
        return ""


def update_profile(text, profile, settings):
    """Return `text` with `settings` ({key: value, or None to remove}) applied to the profile's section.

    Lines are split where configparser splits them (\\n, \\r\\n, \\r) and kept with their endings; added
    lines end like the file's first line.
    """
    lines = io.StringIO(text, newline="").readlines()
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += newline
    added = [f"{key} = {value}{newline}" for key, value in settings.items() if value is not None]
    start = next((i for i, line in enumerate(lines) if _is_header_of(line, profile)), None)
    if start is None:
        separator = [newline] if lines and lines[-1].strip() else []
        return "".join(lines + separator + [section_header(profile) + newline] + added)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    pending = dict(settings)
    kept = []
    replacing = False
    for line in lines[start + 1 : end]:
        if replacing and line[:1].isspace() and line.strip():
            continue  # the continuation lines of a value being replaced or removed
        replacing = False
        key = _key_of(line)
        if key in pending:
            value = pending.pop(key)
            if value is not None:
                kept.append(f"{key} = {value}{newline}")
            replacing = True
            continue
        kept.append(line)
    last = max((i for i, line in enumerate(kept) if line.strip()), default=-1)
    kept[last + 1 : last + 1] = [f"{key} = {value}{newline}" for key, value in pending.items() if value is not None]
    return "".join(lines[: start + 1] + kept + lines[end:])


def check_edit(before, after, profile, settings, path):
    """ConfigError unless `after` reads back as `before` with `settings` in the profile's section and no other
    section changed: whatever a value holds, it cannot add a section or a key, or break the file."""
    old = inifile.parse(before, path)
    try:
        new = inifile.parse(after, path)
    except ConfigError as error:
        raise ConfigError(f"refusing to write {path}: the edited file would not read back ({error.message})") from None
    old_others = {name: values for name, values in old.items() if not _names_profile(name, profile)}
    new_others = {name: values for name, values in new.items() if not _names_profile(name, profile)}
    target = next((values for name, values in new.items() if _names_profile(name, profile)), {})
    read_back = all(target.get(key) == value for key, value in settings.items() if value is not None)
    removed = not any(key in target for key, value in settings.items() if value is None)
    if old_others != new_others or not read_back or not removed:
        raise ConfigError(f"refusing to write {path}: the edited file would not read back as the settings given")


def write_atomically(path, text):
    """Replace the file at `path` with `text` and return the path of the file written.

    When `path` is a symlink (a dotfiles repository), the file it points to is replaced and the link kept.
    The file keeps its mode (0600 for a new file; a new directory is made 0700). Readers see the old file or
    the new one, never part of one.
    """
    target = os.path.realpath(path)
    directory = os.path.dirname(target)
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            mode = 0o600
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".stsenv-")
    except OSError as error:
        raise ConfigError(f"cannot write {target}: {error.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except OSError as error:
        os.unlink(temporary)
        raise ConfigError(f"cannot write {target}: {error.strerror}") from None
    except BaseException:
        os.unlink(temporary)
        raise
    return target
