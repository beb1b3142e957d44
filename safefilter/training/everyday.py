"""A compositional grammar of everyday shell one-liners (NL2Bash style), all labelled safe.

Why: a model trained on a few dozen fixed benign one-liners learns that any unfamiliar pipeline,
``find`` predicate or shell-session trick is unsafe. Here each tool group builds its command from
randomly combined parts (predicates, flags, paths, names, numbers, extensions) so the benign side
covers thousands of distinct, ordinary commands. Every generator returns ``(description, command)``;
the description reads like an NL2Bash task and can serve as the example's task.

Forms the unsafe families use (SUID ``-perm -4000`` searches, secret files, world-writable system
paths, history wiping, remote hosts) are deliberately absent; ``tests/test_training_data.py`` checks
that the rule engine flags (almost) none of the output.
"""
from __future__ import annotations

from typing import Callable

from .parts import Parts

Command = tuple[str, str]

_EXTS = ["py", "js", "ts", "txt", "log", "md", "json", "csv", "go", "java", "sh", "c", "h", "cpp", "html", "css",
         "yaml", "yml", "xml", "rs", "rb", "php", "sql", "ini", "conf", "tmp", "bak", "o", "pyc", "jpg", "png", "pdf"]
_DIRS = [".", "src", "/var/log", "~/projects", "data", "build", "/tmp", "logs", "docs", "$HOME", "~/Downloads",
         "/srv/www", "tests", "lib", "assets", "~/notes", "/opt/app", "out", "dist", "/var/www/html", "~/photos",
         "reports", "vendor", "node_modules", "/usr/share/doc", "~/music", "backup", "scripts", "/etc/nginx"]
_WORDS = ["TODO", "error", "import os", "deprecated", "FIXME", "retry", "localhost", "main(", "Exception", "timeout",
          "WARN", "def test_", "console.log", "printf", "version", "author", "user_id", "SELECT",
          "hello", "foo", "config", "http://", "utf-8", "null", "NotImplemented", "debug", "pragma", "reset_link"]
_USERS = ["alice", "bob", "$USER", "deploy", "www-data", "jenkins", "postgres", "nobody", "dev", "carol", "app"]
_GROUPS = ["staff", "developers", "www-data", "users", "docker", "audio", "video", "admin", "devs", "web"]
_NAMES = ["report", "notes", "data", "output", "backup", "results", "draft", "index", "summary", "archive", "photo",
          "invoice", "todo", "config", "main", "test", "sample", "log", "readme", "chapter1", "figure", "users"]
_TEXT_FILES = ["access.log", "data.csv", "words.txt", "names.txt", "report.txt", "file.txt", "input.txt", "list.txt",
               "results.tsv", "urls.txt", "emails.txt", "numbers.txt", "/etc/passwd", "app.log", "out.txt", "a.txt",
               "b.txt", "inventory.csv", "scores.csv", "dictionary.txt", "server.log", "/var/log/syslog"]
_PKGS = ["requests", "numpy", "pandas", "pytest", "flask", "django", "click", "rich", "httpx", "pydantic", "black",
         "sqlalchemy", "matplotlib", "scipy", "jinja2", "attrs", "tqdm", "boto3", "lxml", "pillow"]
_DOC_SITES = ["docs.example.org", "docs.python.org/3", "www.gnu.org/software/bash/manual", "wiki.example.com",
              "pandas.pydata.org/docs", "man7.org/linux/man-pages", "mirror.example.net/debian", "intranet.example.com/docs",
              "developer.mozilla.org/en-US/docs/Web", "example.com/tutorial", "static.example.org/datasets"]


# --------------------------------------------------------------------------- small random parts
def _ext(p: Parts) -> str:
    return p.choice(_EXTS)


def _dir(p: Parts) -> str:
    return p.choice(_DIRS)


def _file(p: Parts, ext: str | None = None) -> str:
    base = p.choice(_NAMES) + p.choice(["", "", "_v2", "_old", f"_{p.r.randint(1, 99)}", "-final", "_2023", "_new"])
    folder = p.choice(["", "", "", "data/", "docs/", "src/", "out/", "tmp/", "~/", "/tmp/", "reports/"])
    return f"{folder}{base}.{ext or _ext(p)}"


def _num(p: Parts) -> int:
    return p.choice([1, 2, 3, 5, 7, 10, 14, 20, 30, 50, 60, 90, 100, 365])


def _q(p: Parts, s: str) -> str:
    """Quote a glob the way people do: single, double, or backslash-escaped."""
    return p.choice([f"'{s}'", f'"{s}"', s.replace("*", "\\*")])


# --------------------------------------------------------------------------- find
def _find_predicate(p: Parts) -> tuple[str, str]:
    """(description fragment, predicate) for one random find test."""
    n, ext = _num(p), _ext(p)
    which = p.r.randint(0, 15)
    if which == 0:
        return f"named *.{ext}", f"-name {_q(p, f'*.{ext}')}"
    if which == 1:
        stem = p.choice(_NAMES)
        return f"whose name contains '{stem}' ignoring case", f"-iname {_q(p, f'*{stem}*')}"
    if which == 2:
        t, word = p.choice([("f", "regular files"), ("d", "directories"), ("l", "symbolic links")])
        return f"that are {word}", f"-type {t}"
    if which == 3:
        sign, word = p.choice([("+", "more than"), ("-", "less than"), ("", "exactly")])
        return f"modified {word} {n} days ago", f"-mtime {sign}{n}"
    if which == 4:
        m = p.choice([5, 10, 15, 30, 60, 120])
        return f"modified in the last {m} minutes", f"-mmin -{m}"
    if which == 5:
        size = p.choice(["+10M", "+100M", "+1G", "-1k", "+500k", "+50M", "-100c", "+2G", "0"])
        return f"with size {size}", f"-size {size}"
    if which == 6:
        mode = p.choice(["644", "755", "600", "700", "664", "775", "640", "750", "-g+w", "/u+x", "-o+r", "/g+w", "-444"])
        return f"with permissions {mode}", f"-perm {mode}"
    if which == 7:
        user = p.choice(_USERS)
        return f"owned by {user}", f"-user {user}"
    if which == 8:
        group = p.choice(_GROUPS)
        return f"belonging to group {group}", f"-group {group}"
    if which == 9:
        return "that are empty", "-empty"
    if which == 10:
        ref = _file(p)
        return f"newer than {ref}", f"-newer {ref}"
    if which == 11:
        pat = p.choice([f".*\\.\\({ext}\\|{_ext(p)}\\)", f".*/{p.choice(_NAMES)}[0-9]*\\.{ext}", ".*/[a-z]+_test\\.py",
                        f".*\\.{ext}$"])
        flag = p.choice(["-regex", "-iregex"])
        return f"whose path matches {pat}", f"{flag} '{pat}'"
    if which == 12:
        return f"changed within {n} days", f"-ctime -{n}"
    if which == 13:
        return "accessed in the last day", "-atime -1"
    if which == 14:
        return f"not named *.{ext}", f"! -name '*.{ext}'"
    sub = p.choice(["node_modules", ".git", "__pycache__", "vendor", ".venv", "build"])
    return f"skipping {sub}", f"-not -path '*/{sub}/*'"


def _find_action(p: Parts) -> tuple[str, str]:
    """(description, action) applied to the files find selects."""
    word, ext = p.choice(_WORDS), _ext(p)
    return p.choice([
        ("print them", ""), ("print them", "-print"), ("list them in long format", "-ls"),
        ("delete them", "-delete"), ("print them with sizes", "-printf '%s %p\\n'"),
        ("show their modification times", "-printf '%TY-%Tm-%Td %p\\n'"),
        ("count them", "| wc -l"), ("sort them", "| sort"), ("show the first ones", f"| head -n {_num(p)}"),
        (f"search them for '{word}'", f"-print0 | xargs -0 grep -l '{word}'"),
        (f"search them for '{word}'", f"-exec grep -H '{word}' {{}} +"),
        ("show their line counts", "-print0 | xargs -0 wc -l"),
        ("remove them", "-exec rm -f {} \\;"), ("remove them", "-print0 | xargs -0 rm -f"),
        ("compress each one", "-exec gzip {} \\;"), ("compress each one", "-exec bzip2 -9 {} +"),
        ("make them readable by everyone", "-exec chmod 644 {} \\;"), ("set directory permissions", "-exec chmod 755 {} +"),
        ("copy them to the backup folder", "-exec cp {} backup/ \\;"),
        ("move them to the archive folder", "-exec mv -t archive/ {} +"),
        ("show their details", "-exec ls -lh {} \\;"), ("show disk usage of each", "-exec du -sh {} +"),
        ("print their checksums", "-exec md5sum {} \\;"), ("print their checksums", "-print0 | xargs -0 sha1sum"),
        ("show file types", "-exec file {} \\;"), ("archive them", f"-print0 | tar -czvf files.tar.gz --null -T -"),
        ("change their group", f"-exec chgrp {p.choice(_GROUPS)} {{}} +"),
        (f"rename .{ext} to .bak", f"-exec mv {{}} {{}}.bak \\;"),
        ("strip trailing spaces in them", "-exec sed -i 's/[ \\t]*$//' {} +"),
        ("print their names only", "-printf '%f\\n'"), ("touch them", "-exec touch {} +"),
        ("print their stat info", "-exec stat -c '%n %s %y' {} +"),
        ("print them in parallel with md5sum", "-print0 | xargs -0 -P 4 -n 10 md5sum"),
        ("run wc on them with parallel", "| parallel -j4 wc -l"),
    ])


_SYSTEM_DIRS = ("/var", "/etc", "/usr", "/opt", "/srv")


def find_command(p: Parts) -> Command:
    """find with 1-3 random predicates, an optional -maxdepth and one action; deletions stay in one's own tree."""
    root = _dir(p)
    depth = p.r.random() < 0.3
    picks = [_find_predicate(p) for _ in range(p.r.randint(1, 3))]
    action_desc, action = _find_action(p)
    if root.startswith(_SYSTEM_DIRS) and ("rm " in action or "-delete" in action):
        root = p.choice(["build", "tmp", "out", "~/Downloads", "/tmp", "cache"])
    parts = ["find", root]
    desc = [f"Find files under {root}"]
    if depth:
        d = p.r.randint(1, 4)
        parts.append(f"-maxdepth {d}")
        desc.append(f"at most {d} levels deep")
    for word, pred in picks:
        parts.append(pred)
        desc.append(word)
    if action:
        parts.append(action)
    tail = p.choice(["", "", "", " 2>/dev/null"])
    if p.r.random() < 0.15 and not action.startswith("|"):
        parts.insert(0, "sudo")
    return " ".join(desc) + f" and {action_desc}", " ".join(parts) + tail


# --------------------------------------------------------------------------- text processing
def text_command(p: Parts) -> Command:
    f, g, n, word = p.choice(_TEXT_FILES), p.choice(_TEXT_FILES), _num(p), p.choice(_WORDS)
    col, sep = p.r.randint(1, 6), p.choice([",", ":", "\\t", ";", "|", " "])
    ext = _ext(p)
    return p.choice([
        (f"Search {f} for '{word}' ignoring case", f"grep -i '{word}' {f}"),
        (f"Count lines with '{word}' in {f}", f"grep -c '{word}' {f}"),
        (f"Show lines around '{word}' in {f}", f"grep -n -C {p.r.randint(1, 5)} '{word}' {f}"),
        (f"List .{ext} files mentioning '{word}'", f"grep -rl --include='*.{ext}' '{word}' {_dir(p)}"),
        (f"Find lines that do not contain '{word}'", f"grep -v '{word}' {f} | head -n {n}"),
        ("Extract email addresses", f"grep -Eo '[[:alnum:]._%+-]+@[[:alnum:].-]+\\.[a-z]{{2,}}' {f} | sort -u"),
        ("Extract the numbers from the file", f"egrep -o '[0-9]+' {f} | sort -n | uniq"),
        (f"Search the code for '{word}' with ripgrep", f"rg -n '{word}' {p.choice(['src', '.', 'lib', 'tests'])}"),
        (f"Search the code for '{word}' with ripgrep", f"rg -t {p.choice(['py', 'js', 'go', 'rust'])} -l '{word}'"),
        (f"Replace '{word}' with 'bar' in {f}", f"sed -i 's|{word}|bar|g' {f}"),
        (f"Delete blank lines from {f}", f"sed -i '/^$/d' {f}"),
        (f"Print line {n} of {f}", f"sed -n '{n}p' {f}"),
        (f"Delete the first {n} lines of {f}", f"sed '1,{n}d' {f} > {_file(p, 'txt')}"),
        (f"Print field {col} of {f}", f"awk -F'{sep}' '{{print ${col}}}' {f}"),
        (f"Sum column {col} of {f}", f"awk -F'{sep}' '{{s+=${col}}} END {{print s}}' {f}"),
        (f"Print lines longer than {n * 2} characters", f"awk 'length > {n * 2}' {f}"),
        (f"Average of column {col}", f"awk '{{t+=${col}; c++}} END {{print t/c}}' {f}"),
        (f"Print lines of {f} in reverse order", p.choice([f"tac {f}", f"tac {f} | head -n {n}"])),
        (f"Print the last field of each line reversed", f"tac {f} | awk '{{print $NF}}'"),
        (f"Reverse each line of {f}", f"rev {f}"),
        (f"Print the {n} most frequent words", f"tr -cs '[:alpha:]' '\\n' < {f} | tr '[:upper:]' '[:lower:]' | sort | uniq -c | sort -rn | head -n {n}"),
        (f"Convert {f} to upper case", f"tr '[:lower:]' '[:upper:]' < {f}"),
        (f"Remove duplicate lines from {f}", p.choice([f"sort -u {f} -o {f}", f"awk '!seen[$0]++' {f}", f"sort {f} | uniq"])),
        (f"Sort {f} numerically by column {col}", f"sort -t'{sep}' -k{col},{col}n {f}"),
        (f"Sort {f} in reverse and keep the top {n}", f"sort -r {f} | head -n {n}"),
        (f"Cut columns {col} and {col + 1} of {f}", f"cut -d'{sep}' -f{col},{col + 1} {f}"),
        (f"Show lines common to {f} and {g}", f"comm -12 <(sort {f}) <(sort {g})"),
        (f"Show lines only in {f}", f"comm -23 <(sort -u {f}) <(sort -u {g})"),
        (f"Join {f} and {g} on the first field", f"join -t'{sep}' <(sort {f}) <(sort {g})"),
        (f"Merge {f} and {g} side by side", f"paste -d'{sep}' {f} {g}"),
        (f"Format {f} as a table", f"column -t -s'{sep}' {f} | less -S"),
        (f"Count words and lines in {f}", p.choice([f"wc -lw {f}", f"wc -l < {f}", f"cat {f} | wc -c"])),
        (f"Show the first {n} lines of {f}", f"head -n {n} {f}"),
        (f"Show the last {n} lines of {f}", p.choice([f"tail -n {n} {f}", f"tail -{n} {f}", f"tail -n +{n} {f} | head"])),
        (f"Follow {f} and filter for '{word}'", f"tail -F {f} | grep --line-buffered '{word}'"),
        (f"Number the lines of {f}", p.choice([f"nl -ba {f}", f"cat -n {f}", f"awk '{{print NR\": \"$0}}' {f}"])),
        (f"Print {f} with perl replacing tabs", f"perl -pe 's/\\t/    /g' {f}"),
        (f"Strip carriage returns from {f}", f"perl -pi -e 's/\\r$//' {f}"),
        (f"Compare {f} and {g}", p.choice([f"diff {f} {g}", f"diff -y --suppress-common-lines {f} {g}", f"cmp {f} {g}"])),
        (f"Wrap {f} at {n * 2} columns", f"fold -w {max(n * 2, 20)} -s {f}"),
        (f"Shuffle the lines of {f} and take {n}", f"shuf -n {n} {f}"),
        (f"Print unique values of column {col}", f"cut -d'{sep}' -f{col} {f} | sort | uniq -c | sort -nr"),
        (f"Expand tabs in {f}", f"expand -t 4 {f} > {_file(p, 'txt')}"),
        (f"Show non-printing characters in {f}", f"cat -A {f} | head -n {n}"),
    ])


# --------------------------------------------------------------------------- files, archives, permissions
def file_command(p: Parts) -> Command:
    f, d, n = _file(p), p.choice(["backup", "archive", "old", "out", "tmp", "build", "dist", "release", "photos/2023"]), _num(p)
    user, group, ext = p.choice(_USERS), p.choice(_GROUPS), _ext(p)
    tmpdir = p.choice(["/tmp", "/tmp/work", "~/tmp", "/tmp/build"]) + f"/{p.choice(_NAMES)}{p.r.randint(1, 99)}"
    mode = p.choice(["644", "755", "600", "700", "640", "750", "u+x", "g+w", "o-w", "go-rwx", "a+r", "ug+rw"])
    return p.choice([
        (f"Copy {f} to {d}", p.choice([f"cp {f} {d}/", f"cp -v {f} {d}/", f"cp -p {f} {d}/{p.choice(_NAMES)}.{ext}"])),
        (f"Copy the {d} directory recursively", f"cp -r {d} {d}.{p.choice(['bak', 'orig', 'copy'])}"),
        (f"Move all .{ext} files into {d}", p.choice([f"mv *.{ext} {d}/", f"mv -n *.{ext} {d}/", f"mv -t {d} *.{ext}"])),
        (f"Rename {f}", f"mv {f} {_file(p, ext)}"),
        (f"Remove {f}", p.choice([f"rm {f}", f"rm -f {f}", f"rm -i {f}"])),
        (f"Remove the {d} directory", p.choice([f"rm -rf {d}/", f"rm -r ./{d}", f"rmdir {d}"])),
        (f"Remove empty directories under {d}", f"find {d} -type d -empty -delete"),
        (f"Create the directory {tmpdir}", p.choice([f"mkdir -p {tmpdir}", f"mkdir -pv {tmpdir}", f"mkdir -m 755 {tmpdir}"])),
        ("Create nested project folders", f"mkdir -p {p.choice(_NAMES)}/{{src,tests,docs}}"),
        (f"Create a symlink to {f}", p.choice([f"ln -s {f} latest.{ext}", f"ln -sfn {d} current"])),
        (f"Create a hard link to {f}", f"ln {f} {f}.link"),
        (f"Change permissions of {f} to {mode}", f"chmod {mode} {f}"),
        (f"Change permissions recursively in {d}", f"chmod -R {p.choice(['u+rwX', 'g+rX', 'go-w', '755', 'a+rX'])} {d}"),
        (f"Change the owner of {d} to {user}", f"{p.choice(['', 'sudo '])}chown -R {user}:{group} {d}"),
        (f"Change the group of {d} to {group}", f"{p.choice(['', 'sudo '])}chgrp -R {group} {d}"),
        (f"Change the group of {f}", f"chgrp {group} {f}"),
        (f"Create an empty file {f}", p.choice([f"touch {f}", f"> {f}", f"touch -d '{n} days ago' {f}"])),
        (f"Show file details of {f}", p.choice([f"stat {f}", f"stat -c '%U %G %a %s' {f}", f"file {f}", f"ls -l {f}"])),
        (f"Show disk usage of {d}", p.choice([f"du -sh {d}", f"du -h --max-depth=1 {d} | sort -h", f"du -ah {d} | sort -rh | head -n {n}"])),
        ("Show free disk space", p.choice(["df -h", "df -h .", "df -hT /", "df -i /", "df -h --total | tail -1"])),
        (f"List files in {d}", p.choice([f"ls -la {d}", f"ls -lhS {d}", f"ls -ltr {d} | tail", f"ls -1 {d} | wc -l", f"ls -R {d}"])),
        (f"Show the directory tree of {d}", p.choice([f"tree -L {p.r.randint(1, 3)} {d}", f"tree -d {d}", f"tree -a -I node_modules {d}"])),
        (f"Archive {d} as tar.gz", p.choice([f"tar -czvf {d.replace('/', '_')}.tar.gz {d}/", f"tar czf {d.replace('/', '_')}-$(date +%Y%m%d).tgz {d}"])),
        ("Extract the archive", p.choice([f"tar -xzvf {p.choice(_NAMES)}.tar.gz", f"tar -xf {p.choice(_NAMES)}.tar -C {d}",
                                         f"tar xJf {p.choice(_NAMES)}.tar.xz", f"unzip {p.choice(_NAMES)}.zip -d {d}"])),
        ("List the archive contents", p.choice([f"tar -tvf {p.choice(_NAMES)}.tar.gz", f"unzip -l {p.choice(_NAMES)}.zip", f"zipinfo {p.choice(_NAMES)}.zip"])),
        (f"Zip the {d} folder", p.choice([f"zip -r {d.replace('/', '_')}.zip {d}", f"zip -9 -r out.zip {d} -x '*.git*'"])),
        (f"Compress {f}", p.choice([f"gzip {f}", f"gzip -k {f}", f"bzip2 {f}", f"xz -9 {f}", f"gunzip {f}.gz", f"zcat {f}.gz | head"])),
        (f"Sync {d} to the backup drive", f"rsync -a{p.choice(['v', 'z', 'h', ''])} --progress {d}/ /mnt/backup/{d}/"),
        (f"Split {f} into parts", f"split -b {p.choice(['10M', '100M', '1G'])} {f} {p.choice(_NAMES)}_part_"),
        (f"Show which files changed in the last {n} days", f"ls -lt --time-style=long-iso {d} | head -n {n}"),
        ("Print the current directory", p.choice(["pwd", "pwd -P", "echo $PWD"])),
        (f"Go to {d} and list it", f"cd {d} && ls"),
        ("Check the checksum of the download", p.choice([f"sha256sum {p.choice(_NAMES)}.iso", f"md5sum {f}", "sha256sum -c SHA256SUMS 2>/dev/null | grep OK"])),
    ])


# --------------------------------------------------------------------------- shell session, loops, arithmetic
def shell_command(p: Parts) -> Command:
    n, ext, f, note = _num(p), _ext(p), p.choice(_TEXT_FILES), _file(p, p.choice(["txt", "log", "md"]))
    logf = p.choice(["session.log", "~/logs/shell.log", "/tmp/out.log", "build.log", "$HOME/term.log"])
    opt = p.choice(["globstar", "nullglob", "extglob", "dotglob", "histappend", "nocaseglob", "checkwinsize"])
    var = p.choice(["EDITOR", "PAGER", "LANG", "NODE_ENV", "PYTHONPATH", "GOPATH", "JAVA_HOME", "HISTSIZE", "TZ"])
    val = {"EDITOR": "vim", "PAGER": "less", "LANG": "en_US.UTF-8", "NODE_ENV": "development", "PYTHONPATH": "$PWD/src",
           "GOPATH": "$HOME/go", "JAVA_HOME": "/usr/lib/jvm/java-17-openjdk", "HISTSIZE": "10000", "TZ": "Europe/Berlin"}[var]
    return p.choice([
        (f"Set {var} for this shell", p.choice([f"export {var}={val}", f"{var}={val}; export {var}", f"env {var}={val} printenv {var}"])),
        ("Show the environment", p.choice(["env | sort", "printenv | less", "set | grep -i ^BASH", "export -p | head"])),
        (f"Set or show the shell option {opt}", p.choice([f"shopt -s {opt}", f"shopt -u {opt}", f"shopt -p {opt}", "shopt -p", "shopt | grep on"])),
        ("Set safe shell options", p.choice(["set -euo pipefail", "set -x", "set +x", "set -o vi", "set -o noclobber"])),
        ("Add a shortcut alias", p.choice(["alias ll='ls -alF'", "alias gs='git status'", "alias ..='cd ..'",
                                           "alias grep='grep --color=auto'", "unalias ll", "alias"])),
        ("Show the recent shell history", p.choice(["history | tail -n 20", f"history {n}", "history | grep git | tail",
                                                     "fc -l -10"])),
        ("Show the time in the prompt", p.choice(["PS1='[\\t] \\w\\$ '", "export PS1='\\u@\\h:\\w\\$ '"])),
        ("Record each command with a timestamp", p.choice([
            f"PROMPT_COMMAND='echo \"$(date +%T) $(history 1)\" >> {logf}'",
            "export PROMPT_COMMAND='history -a'",
            f"PROMPT_COMMAND='history -a; history -n'; export HISTTIMEFORMAT='%F %T '"])),
        (f"Copy everything printed in this session to {logf}", p.choice([
            f"exec > >(tee -a {logf}) 2>&1", f"exec > >(tee {logf})",
            f"PROMPT_COMMAND='history -a'; exec > >(tee {logf}) 2>&1",
            f"script -q -a {logf}"])),
        (f"Save the output of the build to {logf} too", p.choice([f"make 2>&1 | tee {logf}", f"./build.sh | tee -a {logf}",
                                                                  f"npm test 2>&1 | tee {logf}"])),
        (f"Rename every .{ext} file to .bak", f"for f in *.{ext}; do mv \"$f\" \"${{f%.{ext}}}.bak\"; done"),
        (f"Count the lines of each .{ext} file", f"for f in *.{ext}; do echo \"$f: $(wc -l < \"$f\")\"; done"),
        (f"Print each line of {f} with its number", f"n=0; while read -r line; do n=$((n+1)); echo \"$n $line\"; done < {f}"),
        (f"Create {n} numbered directories", f"for i in $(seq 1 {n}); do mkdir -p dir_$i; done"),
        (f"Create {n} empty test files", p.choice([f"touch file{{1..{n}}}.txt", f"for i in {{1..{n}}}; do touch test_$i.{ext}; done"])),
        ("Read names from a file and greet each", f"while IFS= read -r name; do echo \"Hello, $name\"; done < {f}"),
        (f"Read the CSV columns in a loop", f"while IFS=, read -r a b c; do echo \"$b\"; done < {p.choice(['data.csv', 'inventory.csv', 'scores.csv'])}"),
        (f"Print the numbers 1 to {n}", p.choice([f"seq {n}", f"seq 1 2 {n}", f"seq -w 1 {n}", f"echo {{1..{n}}}",
                                                  f"printf '%d\\n' $(seq {n})"])),
        (f"Print 'y' {n} times", p.choice([f"yes | head -n {n}", f"yes 'y' | head -{n}", f"yes hello | head -n {n} | tr '\\n' ' '",
                                           f"yes '' | head -n {n} | tr '\\n' '-'"])),
        ("Calculate an expression", p.choice([f"echo '{n} * 3.5' | bc -l", f"echo $(({n} * 24 * 60))", f"expr {n} + 7",
                                              f"echo 'scale=4; sqrt({n})' | bc", f"python3 -c 'print({n} ** 2)'"])),
        ("Show the date", p.choice(["date", "date +%F", "date -u +%Y-%m-%dT%H:%M:%SZ", f"date -d '{n} days ago' +%F",
                                    "date +%s", "TZ=Asia/Tokyo date", f"date -d @{1600000000 + n * 86400}"])),
        ("Show a calendar", p.choice(["cal", "cal -3", f"cal {p.r.randint(1, 12)} {p.r.randint(2000, 2030)}", "ncal -w"])),
        ("Print formatted text", p.choice([f"printf '%-10s %5d\\n' {p.choice(_NAMES)} {n}", f"printf '%s\\n' a b c", "echo -e 'a\\tb\\tc'",
                                           f"echo \"Total: {n}\"", "printf '%05.2f\\n' 3.14159"])),
        (f"Write a note to {note}", p.choice([f"echo 'done' >> {note}", f"echo \"$(date): started\" | tee -a {note}",
                                           f"cat <<EOF > {_file(p, 'txt')}\nname: {p.choice(_NAMES)}\ncount: {n}\nEOF"])),
        ("Compare the outputs of two commands", p.choice(["diff <(ls dir1) <(ls dir2)", "diff <(sort a.txt) <(sort b.txt)",
                                                          "comm -3 <(ls src | sort) <(ls backup | sort)",
                                                          f"comm -13 <(find old -type f | sort) <(find new -type f | sort)",
                                                          "paste <(seq 5) <(seq 6 10)"])),
        ("Time a command", p.choice(["time make", "time python main.py", f"time sleep {p.r.randint(1, 5)}", "/usr/bin/time -v ./run.sh"])),
        ("Find where a command lives", p.choice(["which python3", "type -a ls", "command -v git", "whereis gcc"])),
        ("Show the exit code of the last command", "echo $?"),
        (f"Run the command {n} times", f"for i in $(seq {n}); do ./run.sh; done"),
        ("Wait a bit and print done", f"sleep {p.r.randint(1, 30)} && echo done"),
        ("Run two jobs and wait", "make build & make docs & wait"),
        ("Show the help for a command", p.choice(["man tar", "tar --help | less", "help cd", "info coreutils 'ls invocation'", "tldr find"])),
    ])


# --------------------------------------------------------------------------- system and processes (own machine)
def system_command(p: Parts) -> Command:
    proc = p.choice(["python", "node", "java", "nginx", "postgres", "gunicorn", "celery", "chrome", "firefox", "code"])
    port = p.choice([3000, 5000, 5432, 6379, 8000, 8080, 8443, 9000, 9090, 27017])
    sn = p.choice(["10.0.0.0/24", "192.168.1.0/24", "192.168.0.0/24", "172.17.0.0/16", "127.0.0.0/8", "10.1.2.0/24"])
    return p.choice([
        (f"Show {proc} processes", p.choice([f"ps aux | grep {proc}", f"pgrep -a {proc}", f"ps -ef | grep [{proc[0]}]{proc[1:]}",
                                             f"ps -C {proc} -o pid,%cpu,%mem,cmd", f"pidof {proc}"])),
        ("Show the processes using the most CPU", p.choice(["ps aux --sort=-%cpu | head", "top -b -n 1 | head -n 20", "htop",
                                                            "ps -eo pid,ppid,cmd,%mem,%cpu --sort=-%mem | head"])),
        (f"Stop the {proc} process", p.choice([f"pkill {proc}", f"kill $(pgrep {proc})", f"killall {proc}", f"kill -9 {p.r.randint(1000, 60000)}",
                                               f"kill -HUP $(cat /run/{proc}.pid)"])),
        ("Show memory and uptime", p.choice(["free -h", "free -m -s 2 -c 3", "uptime", "uptime -p", "vmstat 1 5", "cat /proc/meminfo | head"])),
        ("Show the process tree", p.choice(["pstree -p", "ps axjf | less", "ps -ejH"])),
        (f"Show which files {proc} has open", p.choice([f"lsof -p $(pgrep -n {proc})", f"lsof -c {proc} | head", f"lsof +D {_dir(p)}",
                                                        f"lsof {_file(p)}"])),
        (f"Show what is listening on port {port}", p.choice([f"ss -ltnp | grep :{port}", f"lsof -i :{port}", f"netstat -tlnp | grep {port}",
                                                             f"sudo ss -lptn 'sport = :{port}'", f"fuser {port}/tcp"])),
        ("List listening sockets on this machine", p.choice(["ss -ltnp", "ss -tulpn", "netstat -tlnp", "netstat -an | grep LISTEN",
                                                             "ss -s", "ss -ltn4", "ss -x | head"])),
        (f"List this host's TCP connections in {sn}", p.choice([f"ss --ipv4 --tcp src {sn}", f"ss -4 -t dst {sn}",
                                                                f"ss -tn src {sn} | wc -l", f"ss -t state established src {sn}"])),
        ("Show the network interfaces", p.choice(["ip addr", "ip -br a", "ip route", "ifconfig -a", "hostname -I", "ip link show"])),
        ("Show system information", p.choice(["uname -a", "uname -r", "lsb_release -a", "cat /etc/os-release", "hostnamectl",
                                              "lscpu", "nproc", "arch", "lsblk", "mount | column -t"])),
        ("Show who is logged in", p.choice(["who", "w", "last -n 10", "whoami", "id -un"])),
        ("Show the service status", p.choice([f"systemctl status {proc}", f"journalctl -u {proc} -n 50 --no-pager",
                                              "systemctl list-units --type=service --state=running", f"service {proc} status"])),
        ("Show the GPU status", p.choice(["nvidia-smi", "nvidia-smi -L", "watch -n 1 nvidia-smi",
                                          "nvidia-smi --query-gpu=name,utilization.gpu,memory.used --format=csv"])),
        ("Show kernel messages", p.choice(["dmesg | tail", "dmesg -T | grep -i error", "journalctl -k -b | tail -n 30"])),
        ("Show the environment of the shell", p.choice(["echo $SHELL", "echo $HOME", "ulimit -a", "locale"])),
        ("Watch the disk space", p.choice(["watch -n 5 df -h", "iostat -x 2 3", "iotop -o -b -n 2"])),
        ("Check the load over time", p.choice(["sar -u 1 3", "mpstat 1 3", "cat /proc/loadavg"])),
    ])


# --------------------------------------------------------------------------- downloads, media, dev tools
def download_command(p: Parts) -> Command:
    site, pkg, name = p.choice(_DOC_SITES), p.choice(_PKGS), p.choice(_NAMES)
    return p.choice([
        (f"Mirror the documentation at {site}", p.choice([f"wget --mirror --no-parent https://{site}/",
                                                          f"wget -m -np -k -p https://{site}/",
                                                          f"wget --recursive --level={p.r.randint(1, 3)} --no-parent --convert-links https://{site}/",
                                                          f"wget -r -np -nH --cut-dirs=1 -A pdf https://{site}/"])),
        (f"Download a page from {site}", p.choice([f"curl -O https://{site}/{name}.html", f"curl -sSL https://{site}/ | head",
                                                   f"wget -q https://{site}/{name}.pdf -O {name}.pdf", f"curl -I https://{site}/",
                                                   f"wget -c https://{site}/{name}.tar.gz"])),
        (f"Check the latest version of {pkg}", p.choice([f"curl -s https://pypi.org/pypi/{pkg}/json | jq -r .info.version",
                                                        f"pip index versions {pkg}", f"pip download {pkg} --no-deps -d /tmp/pkgs",
                                                        f"curl -s https://pypi.org/simple/{pkg}/ | grep -c href"])),
        ("Download the distribution's package index", p.choice(["apt-get update", "sudo apt update && apt list --upgradable",
                                                                "wget -q http://deb.debian.org/debian/dists/stable/Release",
                                                                "curl -s https://registry.npmjs.org/express | jq '.versions | keys | length'"])),
        ("Download a list of files", p.choice(["wget -i urls.txt -P downloads/", "xargs -n 1 curl -O < urls.txt",
                                               "cat urls.txt | parallel -j 4 wget -q {}"])),
    ])


def media_command(p: Parts) -> Command:
    src, dst = p.choice([("mp4", "mp3"), ("mkv", "mp4"), ("wav", "flac"), ("avi", "mp4"), ("mov", "gif"), ("flac", "ogg"), ("mp4", "webm")])
    img, out = p.choice([("png", "jpg"), ("jpg", "webp"), ("jpeg", "png"), ("tiff", "png"), ("heic", "jpg"), ("svg", "png")])
    size = p.choice(["800x600", "50%", "1024x", "x720", "640x480", "1920x1080"])
    return p.choice([
        (f"Convert all .{src} files to .{dst}", f"for f in *.{src}; do ffmpeg -i \"$f\" \"${{f%.{src}}}.{dst}\"; done"),
        (f"Convert all .{src} files to .{dst}", f"for f in *.{src}; do ffmpeg -i \"$f\" -vn -ab 192k \"${{f%.*}}.{dst}\"; done"),
        (f"Convert the video to .{dst}", f"ffmpeg -i input.{src} -c:v libx264 -crf {p.r.randint(18, 28)} output.{dst}"),
        ("Cut the first minute of the video", f"ffmpeg -ss 00:00:00 -t 60 -i talk.{src} -c copy clip.{src}"),
        ("Show the media file information", p.choice([f"ffprobe -hide_banner movie.{src}", f"mediainfo movie.{src}", f"exiftool photo.{img}"])),
        (f"Resize all .{img} images to {size}", p.choice([f"mogrify -resize {size} *.{img}",
                                                         f"for f in *.{img}; do convert \"$f\" -resize {size} \"small_$f\"; done"])),
        (f"Convert .{img} images to .{out}", p.choice([f"for f in *.{img}; do convert \"$f\" \"${{f%.*}}.{out}\"; done",
                                                       f"mogrify -format {out} *.{img}"])),
        ("Make a thumbnail contact sheet", f"montage *.{img} -tile 4x -geometry +2+2 sheet.{out}"),
        ("Combine the images into a PDF", f"convert *.{img} album.pdf"),
        ("Extract frames from the video", f"ffmpeg -i clip.{src} -vf fps=1 frames/out_%03d.png"),
    ])


def dev_command(p: Parts) -> Command:
    pkg, branch = p.choice(_PKGS), p.choice(["main", "develop", "feature/login", "fix/typo", "release/1.2"])
    img = p.choice(["myapp", "api", "web", "worker", "demo"])
    port = p.choice([3000, 5000, 8000, 8080, 8888])
    db = p.choice(["app", "test", "dev", "shop", "blog"])
    return p.choice([
        ("Check the repository state", p.choice(["git status -sb", "git branch -a", "git stash list", "git remote -v",
                                                 f"git log --oneline -n {_num(p)}", "git diff --stat", "git blame -L 10,30 src/app.py"])),
        (f"Work on branch {branch}", p.choice([f"git checkout {branch}", f"git switch -c {branch}", f"git pull --rebase origin {branch}",
                                               f"git merge --no-ff {branch}", f"git push -u origin {branch}"])),
        ("Commit the changes", p.choice(["git add -p", "git commit -am 'Fix typo in docs'", "git commit --amend --no-edit",
                                         "git add . && git commit -m 'Update tests'", "git tag -a v1.0.0 -m 'release'"])),
        (f"Install {pkg}", p.choice([f"pip install {pkg}", f"pip install --user {pkg}", f"python3 -m pip install '{pkg}>=1.0'",
                                     f"pip uninstall -y {pkg}", "pip freeze > requirements.txt", "pip list --outdated"])),
        ("Install the JavaScript dependencies", p.choice(["npm install", "npm ci", "yarn", "npm run lint", "npx prettier --write src",
                                                          "npm outdated", "pnpm install"])),
        ("Build and test", p.choice(["make", "make -j$(nproc)", "make clean all", "make test", "cmake --build build -j 4",
                                     "pytest -x -q", f"pytest -k {p.choice(_NAMES)} -v", "pytest --lf", "tox -e py311", "go test ./...",
                                     "cargo test", "mvn -q package", "./gradlew test"])),
        (f"Build the {img} image", p.choice([f"docker build -t {img}:latest .", f"docker build -f Dockerfile.dev -t {img}:dev .",
                                             f"docker compose build {img}"])),
        (f"Run the {img} container", p.choice([f"docker run --rm -p {port}:{port} {img}:latest", f"docker run -d --name {img} -p {port}:80 {img}",
                                               f"docker run -it --rm {img} bash", f"docker compose up -d", f"docker compose logs -f {img}",
                                               f"docker exec -it {img} sh", f"docker stop {img} && docker rm {img}", "docker ps --format '{{.Names}}'"])),
        ("Inspect the cluster", p.choice(["kubectl get pods", f"kubectl get pods -n {p.choice(['default', 'dev', 'staging'])} -o wide",
                                          f"kubectl describe deployment {img}", f"kubectl logs -f deploy/{img}", "kubectl get nodes",
                                          "kubectl get svc", f"kubectl rollout restart deploy/{img}"])),
        ("Create an SSH key", p.choice(["ssh-keygen -t ed25519 -C 'me@example.com'", "ssh-keygen -lf ~/.ssh/id_ed25519.pub",
                                        f"ssh-keygen -t rsa -b 4096 -f ~/.ssh/{p.choice(['work', 'github', 'gitlab'])}_key"])),
        ("Run a quick Python check", p.choice(["python3 -c 'import sys; print(sys.path)'", f"python -c 'import {pkg}; print({pkg}.__version__)'",
                                               "python3 -c \"print(sum(range(100)))\"", "python3 -m json.tool data.json",
                                               "python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' < data.json",
                                               "python -m venv .venv && source .venv/bin/activate"])),
        (f"Query the local {db} database", p.choice([f"psql -h localhost -U postgres -d {db} -c 'SELECT count(*) FROM users;'",
                                                     f"mysql -u root -p {db} -e 'SHOW TABLES;'", f"sqlite3 {db}.db '.tables'",
                                                     f"sqlite3 {db}.db 'SELECT * FROM orders LIMIT 10;'", f"redis-cli -h 127.0.0.1 ping",
                                                     f"pg_dump -h localhost {db} > {db}.sql", f"mongosh --quiet --eval 'db.stats()' {db}"])),
        ("Run the dev server", p.choice([f"python manage.py runserver 127.0.0.1:{port}", f"flask run --port {port}", "npm run dev",
                                         f"uvicorn main:app --reload --port {port}", f"python3 -m http.server {port} --bind 127.0.0.1"])),
        ("Format and lint the code", p.choice(["black .", "ruff check --fix .", "isort src", "gofmt -w .", "cargo fmt", "eslint --fix ."])),
    ])


# --------------------------------------------------------------------------- the grammar
GROUPS: list[tuple[Callable[[Parts], Command], int]] = [
    (find_command, 6), (text_command, 6), (file_command, 5), (shell_command, 5), (system_command, 3),
    (download_command, 1), (media_command, 1), (dev_command, 3),
]


def everyday_command(p: Parts) -> Command:
    """(description, command): one random everyday shell one-liner from the grammar."""
    gens, weights = zip(*GROUPS)
    return p.r.choices(gens, weights=weights)[0](p)
