"""The profile picker: `use`, `exec` and `console` without a profile, at a terminal.

Profiles used last come first (stsenv.history), then the others by name. fzf picks when it is on PATH
(STSENV_PICKER=builtin turns it off): it draws on the terminal itself. Otherwise a small list drawn with
prompt_toolkit: type to filter (every word typed must appear in the name), arrows to move, Enter to pick,
Esc or Ctrl-C to leave with nothing chosen (Cancelled: exit 5, no output, nothing changed).

Both read the keyboard from and draw on /dev/tty, never stdout: `eval "$(stsenv use)"` and the shell
integration capture stdout, and the picked profile still reaches the shell. Without a terminal there is no
one to ask: the usage error it always was (exit 2). Imported only on this path (prompt_toolkit too).
"""

import os

from stsenv import kinds
from stsenv.config import ADHOC_PREFIX
from stsenv.errors import Cancelled, ConfigError

VISIBLE = 10  # rows of the built-in list
ESCAPE_WAIT = 0.05  # seconds to tell a lone Esc from the start of an arrow key's sequence


def choose(config, command, interactive=True):
    """The profile the person picks for `stsenv COMMAND`; ConfigError without a terminal (or when the run may
    not ask: --non-interactive), Cancelled for Esc."""
    from stsenv import history, terminal

    if not interactive or not terminal.has_tty():
        raise ConfigError("which profile?", f"stsenv {command} PROFILE (see `stsenv ls`)")
    names = candidates(config, history.recent(config.environ))
    if not names:
        raise ConfigError("no profile to pick from", f"add one to {config.config_path} (`stsenv configure NAME ...`)")
    setting = config.environ.get("STSENV_PICKER", "")
    if setting not in ("", "fzf", "builtin"):
        from stsenv.oneline import quoted

        raise ConfigError(f"STSENV_PICKER={quoted(setting)} is not a picker", "use fzf or builtin")
    fzf = None if setting == "builtin" else _which("fzf", config.environ)
    if setting == "fzf" and fzf is None:
        raise ConfigError("STSENV_PICKER=fzf, but there is no fzf on PATH")
    picked = _fzf(fzf, names, command) if fzf else _builtin(names, command)
    if picked is None:
        raise Cancelled()
    return picked


def candidates(config, recent):
    """Profiles that give credentials, the `recent` ones first in their order, then the rest by name."""
    usable = [
        name
        for name, section in config.profiles.items()
        if not name.startswith(ADHOC_PREFIX) and any(config.value(section, key) for key in kinds.CREDENTIAL_SETTINGS)
    ]
    first = [name for name in recent if name in usable]
    return first + sorted(name for name in usable if name not in first)


def matches(names, query):
    """The names holding every word of `query` (case-insensitive), in their order."""
    words = query.lower().split()
    return [name for name in names if all(word in name.lower() for word in words)]


def _which(program, environ):
    import shutil

    return shutil.which(program, path=environ.get("PATH"))


def _fzf(fzf, names, command):
    """fzf on the terminal; the picked name, or None for Esc, Ctrl-C or no match."""
    import subprocess

    result = subprocess.run(
        [fzf, "--height=40%", "--reverse", "--no-multi", "--tiebreak=index", f"--prompt=stsenv {command}> "],
        input="".join(name + "\n" for name in names),
        stdout=subprocess.PIPE,
        text=True,
    )
    picked = result.stdout.strip()
    if result.returncode in (1, 130) or not picked:
        return None
    if result.returncode != 0 or picked not in names:
        raise ConfigError(f"fzf failed (exit {result.returncode})", "STSENV_PICKER=builtin uses stsenv's own picker")
    return picked


def _builtin(names, command):
    """The prompt_toolkit list on /dev/tty; the picked name, or None."""
    from prompt_toolkit.application import Application
    from prompt_toolkit.buffer import Buffer
    from prompt_toolkit.input import create_input
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.layout import HSplit, Layout, Window
    from prompt_toolkit.layout.controls import BufferControl, FormattedTextControl
    from prompt_toolkit.layout.processors import BeforeInput
    from prompt_toolkit.output.vt100 import Vt100_Output

    query = Buffer(multiline=False)
    state = {"selected": 0, "top": 0}

    def shown():
        return matches(names, query.text)

    def rows():
        found = shown()
        selected = state["selected"] = min(state["selected"], max(len(found) - 1, 0))
        top = state["top"] = min(max(state["top"], selected - VISIBLE + 1), selected)
        lines = []
        for index in range(top, min(top + VISIBLE, len(found))):
            mark, style = ("> ", "reverse") if index == selected else ("  ", "")
            lines.append((style, f"{mark}{found[index]}\n"))
        lines.append(("italic", f"  {len(found)}/{len(names)}  (type to filter, arrows, Enter; Esc: none)"))
        return lines

    def moved(step):
        def move(event):
            state["selected"] = max(0, min(state["selected"] + step, len(shown()) - 1))

        return move

    def reset(_):
        state["selected"] = state["top"] = 0

    query.on_text_changed += reset
    keys = KeyBindings()
    keys.add("up")(moved(-1))
    keys.add("c-p")(moved(-1))
    keys.add("down")(moved(1))
    keys.add("c-n")(moved(1))
    keys.add("pageup")(moved(-VISIBLE))
    keys.add("pagedown")(moved(VISIBLE))

    @keys.add("enter")
    def pick(event):
        found = shown()
        if found:
            event.app.exit(result=found[state["selected"]])

    @keys.add("escape", eager=True)
    @keys.add("c-c")
    @keys.add("c-d")
    def leave(event):
        event.app.exit(result=None)

    layout = Layout(
        HSplit(
            [
                Window(BufferControl(query, input_processors=[BeforeInput(f"stsenv {command}> ")]), height=1),
                Window(FormattedTextControl(rows), height=min(len(names), VISIBLE) + 1),
            ]
        )
    )
    with open("/dev/tty", "r", encoding="utf-8") as keyboard, open("/dev/tty", "w", encoding="utf-8") as screen:
        output = Vt100_Output.from_pty(screen, term=os.environ.get("TERM"))
        output.enable_cpr = False  # a terminal that never answers the cursor position request would make it wait and warn
        app = Application(layout=layout, key_bindings=keys, input=create_input(keyboard), output=output, erase_when_done=True)
        app.ttimeoutlen = ESCAPE_WAIT
        return app.run()
