"""The fast path's parser of a plain `stsenv use PROFILE ...` (stsenv.main) and argparse (stsenv.commands.use)
agree: whatever the fast path takes, argparse takes too and makes the same call of use(); the rest the fast
path leaves to argparse, which gives its help and errors. And the plain forms stay on the fast path."""

import contextlib
import inspect
import io

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from stsenv import exports, main
from stsenv.cli import build_parser
from stsenv.commands import use as use_command
from stsenv.errors import ConfigError

PARSER = build_parser()
USE_DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(use_command.use).parameters.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY
}
SHELLS = list(exports.SHELLS)
FORMATS = list(exports.FORMATS)
# Words a command line may hold: profiles, the fast path's flags and their values, and what looks like them.
PROFILES = ["prod", "dev", "-", "a b", "", "p=q", "-x", "--", "use", "json"]
VALUES = SHELLS + FORMATS + ["csh", "", "-", "--json", "-a b"]
OTHER_WORDS = ["--shell=bash", "--format=json", "--non-int", "--sh", "--clear", "--token-code", "--region", "-h", "BASH", "123456"]


def fast_call(argv):
    """The use() call stsenv.main makes without argparse, as (profile, keyword arguments), or None: not its to take."""
    options = main._simple_use(argv)
    if options is None:
        return None
    profile = options.pop("profile")
    return profile, {**USE_DEFAULTS, **options}


def argparse_call(argv):
    """The use() call argparse's `use` makes for `argv`, or None when it refuses it (or prints help)."""
    calls = []
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        patch.setattr(use_command, "use", lambda profile, **options: calls.append((profile, {**USE_DEFAULTS, **options})))
        try:
            args = PARSER.parse_args(argv)
            args.func(args)
        except (ConfigError, SystemExit):
            return None
    (call,) = calls
    return call


# `use`, a first word, then the fast path's flags (with any value) and other words.
command_lines = st.builds(
    lambda first, rest: ["use", first, *(word for piece in rest for word in piece)],
    st.sampled_from(PROFILES + OTHER_WORDS),
    st.lists(
        st.one_of(
            st.tuples(st.sampled_from(["--shell", "--format"]), st.sampled_from(VALUES)),
            st.just(("--non-interactive",)),
            st.sampled_from(PROFILES + VALUES + OTHER_WORDS).map(lambda word: (word,)),
        ),
        max_size=4,
    ),
)


@settings(max_examples=300, deadline=None)
@given(command_lines)
@example(["use", "prod", "--format", "bash", "--format", "json"])  # argparse refuses the first --format (the fast path took it)
@example(["use", "prod", "--shell", "json", "--shell", "zsh"])
@example(["use", "prod", "--format", "json", "--format", "dotenv", "--shell", "fish", "--shell", "zsh"])
def test_what_the_fast_path_takes_argparse_takes_with_the_same_options(argv):
    fast = fast_call(argv)
    if fast is not None:
        assert argparse_call(argv) == fast, argv


def plain_words():
    """One of the fast path's own flags, with a valid value where it takes one."""
    return st.one_of(
        st.just(["--non-interactive"]),
        st.sampled_from(SHELLS).map(lambda shell: ["--shell", shell]),
        st.sampled_from(FORMATS).map(lambda fmt: ["--format", fmt]),
    )


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["prod", "-", "dev.team@x"]), st.lists(plain_words(), max_size=5))
def test_plain_command_lines_stay_on_the_fast_path(profile, flags):
    argv = ["use", profile, *(word for flag in flags for word in flag)]
    fast = fast_call(argv)
    assert fast is not None, argv  # the hot path must not import argparse for these
    assert fast == argparse_call(argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["use", "prod", "--format", "bash", "--format", "json"],  # a bad value, then a good one
        ["use", "prod", "--shell", "tcsh", "--shell", "zsh"],
        ["use", "prod", "--shell"],
        ["use", "prod", "--format", "--shell", "bash"],
        ["use", "prod", "--format=json"],
        ["use", "prod", "--clear"],
        ["use", "--shell", "bash", "prod"],
        ["use", "-x"],
    ],
)
def test_the_fast_path_leaves_these_to_argparse(argv):
    assert main._simple_use(argv) is None


def test_the_fast_paths_choices_are_argparses():
    assert {name: choices for name, choices in main.USE_FLAGS_WITH_VALUE.values()} == {"shell": exports.SHELLS, "fmt": exports.FORMATS}
