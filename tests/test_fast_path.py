"""The fast path's `use` parser (stsenv.main._simple_use, no argparse) and argparse (stsenv.cli) take the
same command lines the same way: whatever the fast path takes, argparse takes with the same options, and a
plain `use` that argparse takes, the fast path takes too (issue 15 §5: `use prod --format bash --format json`
was taken by one and refused by the other)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stsenv import exports
from stsenv.cli import build_parser
from stsenv.main import USE_CHOICES, _simple_use, without_debug_flag
from stsenv.errors import ConfigError

PARSER = build_parser()
FAST_OPTIONS = ("profile", "shell", "fmt", "interactive", "refresh")
# What argparse's `use` holds when only the fast path's options are given: every other setting at its default.
PLAIN = {name: value for name, value in vars(PARSER.parse_args(["use", "p"])).items() if name not in FAST_OPTIONS}
PROFILES = ["prod", "-", "a:b/c@d+e=f,g", "", "use", "json", "bash", "x y"]
FLAGS = ["--shell", "--format", "--non-interactive"]
VALUES = ["bash", "zsh", "fish", "shell", "json", "dotenv", "sh", "JSON", "", "-"]
# Words argparse reads its own way (abbreviations, `=`, `--`, other flags, numbers that look negative):
# the fast path must leave them to argparse, or read them as argparse does.
OTHER_WORDS = ["--shell=bash", "--form", "--non", "--", "--clear", "-1", "-x", "--token-code", "123456", "--role-arn", "-a b", "--debug",
               "--refresh=prod", "--refresh=-x", "--refresh=", "--refresh"]


def by_argparse(argv):
    """(profile, shell, fmt, interactive, refresh) as argparse reads a plain `use` (or the prompt hook's
    `use --refresh=PROFILE`); None when it refuses the line or reads more than the fast path's options into it."""
    try:
        args = vars(PARSER.parse_args(argv))
    except (ConfigError, SystemExit):
        return None
    if args["profile"] is None and args["refresh"] is None or {name: value for name, value in args.items() if name not in FAST_OPTIONS} != PLAIN:
        return None
    return tuple(args[name] for name in FAST_OPTIONS)


def by_fast_path(argv):
    options = _simple_use(argv)
    if options is None:
        return None
    return options.get("profile"), options.get("shell"), options.get("fmt", "shell"), options.get("interactive", True), options.get("refresh")


plain_words = st.lists(st.sampled_from(PROFILES + FLAGS + VALUES), max_size=7)
any_words = st.lists(st.sampled_from(PROFILES + FLAGS + VALUES + OTHER_WORDS), max_size=7)


@settings(max_examples=2000, deadline=None)
@given(words=plain_words)
def test_both_parsers_take_the_same_plain_command_lines_the_same_way(words):
    argv = ["use", *words]
    assert by_fast_path(argv) == by_argparse(argv), argv


@settings(max_examples=2000, deadline=None)
@given(words=any_words)
def test_whatever_the_fast_path_takes_argparse_takes_the_same_way(words):
    argv = ["use", *words]
    fast = by_fast_path(argv)
    assert fast is None or fast == by_argparse(argv), argv


TABLE = {
    # argv after `use`: what both read, or None for a line both refuse (argparse) or leave to argparse (fast path)
    ("prod",): ("prod", None, "shell", True, None),
    ("prod", "--format", "bash", "--format", "json"): None,
    ("prod", "--format", "json", "--format", "dotenv"): ("prod", None, "dotenv", True, None),
    ("prod", "--shell", "fish", "--shell", "zsh"): ("prod", "zsh", "shell", True, None),
    ("--non-interactive", "prod", "--shell", "fish"): ("prod", "fish", "shell", False, None),
    ("--shell", "zsh", "-"): ("-", "zsh", "shell", True, None),
    ("prod", "other"): None,
    ("prod", "--shell"): None,
    ("prod", "--shell", "--format", "json"): None,
    ("--format", "json"): None,
    ("--refresh=prod", "--shell", "zsh"): (None, "zsh", "shell", True, "prod"),
    ("--shell", "fish", "--refresh=-x"): (None, "fish", "shell", True, "-x"),
}


@pytest.mark.parametrize("words, expected", TABLE.items(), ids=[" ".join(words) for words in TABLE])
def test_the_table(words, expected):
    argv = ["use", *words]
    assert by_fast_path(argv) == by_argparse(argv) == expected


def test_the_fast_paths_choices_are_argparses():
    assert USE_CHOICES == {"shell": exports.SHELLS, "fmt": exports.FORMATS}


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--debug", "serve", "prod"], (["serve", "prod"], True)),
        (["use", "prod", "--debug"], (["use", "prod"], True)),
        (["serve", "prod"], (["serve", "prod"], False)),
        (["exec", "prod", "--", "terraform", "plan", "--debug"], (["exec", "prod", "--", "terraform", "plan", "--debug"], False)),
        (["exec", "--debug", "prod", "--", "cmd", "--debug", "--"], (["exec", "prod", "--", "cmd", "--debug", "--"], True)),
    ],
)
def test_debug_is_stsenvs_only_before_dashes(argv, expected):
    assert without_debug_flag(argv) == expected
