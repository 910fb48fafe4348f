#!/usr/bin/env python3
"""Runs every shell command of README.md and docs/*.md as written (issue 7).

Why: a command in the docs that does not run is a bug. This script extracts the commands,
runs them in order in a scratch copy of the repository and says which ones fail.

Usage (from anywhere; Python 3 standard library only):

    /usr/bin/python3 scripts/check_docs.py --build build/release
    /usr/bin/python3 scripts/check_docs.py --list                 # extract only, run nothing
    /usr/bin/python3 scripts/check_docs.py --build build/release --only docs/cli.md --keep

Extraction
----------
* Fenced blocks: ```bash, ```sh and ```shell blocks are shell; fences in any other language
  (json, c++, bibtex, ...) are skipped; an unlabelled fence is judged like an indented block.
* Indented blocks: a run of lines indented by 4 or more spaces that follows a blank line
  (outside fences), dedented by its first line's indentation.
* A block (indented or unlabelled) is shell when the first token of its first line, after any
  NAME=value assignments, is a command: one of SHELL_COMMANDS below, or a path that starts
  with `build/`, `./`, `scripts/` or `/usr/`, or a program named `bench_*` / `fuzz_*`.
  Anything else is not shell and is skipped (shown by --list): program output such as
  `diffuser: error: ...`, formulas (`gray = round(...)`), JSON, diagrams, file listings.
* In a shell block, a line ending in `\\` continues on the next line; blank lines and lines
  starting with `#` are dropped; every other line is one command.

Classes (in this order)
-----------------------
* synopsis: a command with `[...]` option brackets, `(A | B)` alternatives or CAPITALISED
  placeholders (FILE, DIR, N, G.mtx, runs/NAME/...) is a usage line, not runnable as written.
  It is skipped visibly, and fails the check when the same document has no concrete command
  starting with the same program and sub-command words (its example).
* gpu: needs an NVIDIA GPU (GPU_COMMANDS); skipped unless `nvidia-smi -L` succeeds.
* build: configures, builds or tests a tree from scratch (`cmake ...`, scripts/demo.sh,
  scripts/test.sh). Not run: the prebuilt --build DIR stands in for it (CI's `.ci/run` runs
  `scripts/test.sh` and the `cpu` preset build). Checked statically instead: every `--preset`
  exists in CMakePresets.json, every `--target` is defined in a CMakeLists.txt, every script
  exists. A preset whose build folder is not linked into the scratch copy marks that folder as
  not built; a later command that uses it is skipped, naming the step (link it with --extra).
* self: this script (except with --list) is not run recursively.
* provided: creating build/torchenv when the scratch copy already links one (--torchenv).
* export: `export NAME=value` lines set the environment of the later commands of the same
  document (evaluated by bash in the scratch copy, so `$PWD` is the copy's root).
* run: everything else runs with `bash -c COMMAND` in the scratch copy's root, stdin closed,
  under a time cap (--cap; SLOW_COMMANDS such as the full demo have a longer cap of their own
  and must still finish). Passes on exit status 0.
* long (LONG_COMMANDS, each with its reason): runs under --long-cap and passes when it exits 0
  or is still running without error at the cap ("started", distinct from "ran to completion").

Environment of every command: the caller's, plus `<copy>/build/release/cli` at the front of
PATH (the docs write bare `diffuser`), OMP_WAIT_POLICY=PASSIVE unless set (the machine is
shared; this changes speed, never results), and `sudo` dropped when running as root without a
`sudo` binary (README: "drop sudo when you are root").

Scratch copy: for each document a fresh `git clone --shared` of the repository, with the
working tree's uncommitted and untracked (not ignored) files copied over it, so the check sees
the tree as it is. `build/release` and `build/cpu` are symlinks to --build DIR, `build/torchenv`
to --torchenv DIR (default: the repository's build/torchenv when it exists), and
`build/NAME` to DIR for each --extra NAME=DIR. Each document runs in its own copy, so each must
create what its commands need.

Output: one line per command (file:line, status, seconds, command), then a summary. Exit
status 1 when any command failed, 0 otherwise (--list: 1 when a synopsis has no example).
"""

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SHELL_COMMANDS = {
    "diffuser", "cmake", "ctest", "sudo", "bash", "sh", "export", "python3", "nice", "env",
    "dot", "git", "mkdir", "cp", "rm", "ls", "cat", "time", "make", "ninja", "apt-get", "pip",
}
SHELL_PATH_PREFIXES = ("build/", "./", "scripts/", "/usr/")
SHELL_FENCE_LANGS = {"bash", "sh", "shell"}

# Commands that run longer than a check should wait for: (regex on the command, reason).
LONG_COMMANDS = [
    (r"fashion_mnist_diffuser\.json", "Fashion-MNIST training: 8-16 minutes"),
    (r"diffuser train --out runs/fm1 --resume", "continues the 4000-step Fashion-MNIST run"),
    (r"run_experiment\.py --task listops", "six 2000-step ListOps runs: hours"),
    (r"run_experiment\.py --task fashion32_local", "twelve 1200-step 1,024-token runs: ~1 hour"),
    (r"spectral sweep .*65536", "spectra up to n = 65,536: about 15 minutes"),
    (r"bench_patterns", "n = 10^6 pattern, 3 builds and 3 transposes, 4 GB"),
    (r"bench_attention .*--n 16384", "dense attention at n = 16,384: minutes"),
    (r"bench_spectral", "n = 100,000 spectra and SciPy's eigsh: minutes"),
    (r"dglenv/bin/pip install", "downloads torch 2.2.1 and dgl 2.1.0: about 1 GB"),
    (r"bench_seed_dgl\.py", "DGL and bench_attention at n up to 16,384: about 3 minutes"),
    (r"fuzz_\w+ .*-max_total_time", "fuzzes for 600 s"),
    (r"^ctest\b", "the test suite: minutes (scripts/test.sh and CI run it to the end)"),
]

# Commands that must run to completion but need more than --cap: (regex, seconds, reason).
SLOW_COMMANDS = [
    (r"scripts/demo\.py --out demo\b", 600, "the full demo: 1-4 minutes on two shared cores"),
    (r"bench_train_torch\.py", 600, "80 steps in C++, then in PyTorch twice: 1.5-3 minutes"),
]

# Commands that need an NVIDIA GPU: (regex, reason).
GPU_COMMANDS = [
    (r"scripts/gpu_check\.sh", "builds and runs the CUDA tests and benchmark on a GPU"),
    (r"bench_attention_cuda\b", "the CUDA benchmark"),
    (r"--device cuda\b", "runs on the CUDA backend"),
]

# Build steps: (regex on the command after wrappers, reason).
BUILD_COMMANDS = [
    (r"^cmake\b", "configures or builds a tree"),
    (r"^bash scripts/(demo|test)\.sh\b", "sets up the machine and builds a tree"),
    (r"^bash \.ci/run\b", "the CI run"),
]

VENV_CREATE = re.compile(r"-m venv build/torchenv\b")

WRAPPERS = {"sudo", "nice", "env", "time", "/usr/bin/time", "timeout"}


# Command kinds that are reported and counted but never run: kind -> (status text, summary key).
SKIPPED_KINDS = {
    "gpu": ("needs GPU", "GPU"),
    "self": ("self", "self"),
    "provided": ("provided", "provided"),
}

def die(message):
    print(f"check_docs: {message}", file=sys.stderr)
    sys.exit(2)


class Command:
    """One command of a document: where it is, its text, and what the checker makes of it."""

    def __init__(self, doc, line, text):
        self.doc = doc
        self.line = line
        self.text = text
        self.kind = "run"
        self.reason = ""
        self.cap = None  # seconds, when it differs from --cap

    def where(self):
        return f"{self.doc}:{self.line}"


def first_token(text):
    """The first word of a command line after NAME=value assignments (None if empty)."""
    for token in text.split():
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", token):
            continue
        return token
    return None


def is_shell_start(text):
    token = first_token(text)
    if token is None:
        return False
    return (token in SHELL_COMMANDS or token.startswith(SHELL_PATH_PREFIXES)
            or re.match(r"^(bench|fuzz)_\w+$", token) is not None)


def split_commands(doc, lines):
    """Commands of one shell block: (first line number, text) with continuations joined.

    A line continues the previous command when that one ends in a backslash, or when it is
    indented relative to the block (how usage synopses wrap their options).
    """
    commands = []
    pending = None
    continues = False
    for number, raw in lines:
        stripped = raw.strip()
        if pending is not None and (continues or (stripped and raw.startswith(" "))):
            continues = stripped.endswith("\\")
            pending[1] = pending[1] + " " + stripped.rstrip("\\").rstrip()
            continue
        if pending is not None:
            commands.append(Command(doc, pending[0], pending[1]))
            pending = None
        if not stripped or stripped.startswith("#"):
            continue
        continues = stripped.endswith("\\")
        pending = [number, stripped.rstrip("\\").rstrip()]
    if pending is not None:
        commands.append(Command(doc, pending[0], pending[1]))
    return commands


def extract(doc, path):
    """Returns (commands, skipped blocks) of one Markdown file.

    Skipped blocks are (line, why) for --list.
    """
    with open(path, encoding="utf-8") as f:
        text_lines = f.read().split("\n")
    commands, skipped = [], []
    i = 0
    previous_blank = True
    while i < len(text_lines):
        line = text_lines[i]
        fence = re.match(r"^\s*(```+|~~~+)\s*([\w+-]*)", line)
        if fence:
            marker, lang = fence.group(1), fence.group(2).lower()
            start = i + 1
            i += 1
            body = []
            while i < len(text_lines) and not text_lines[i].strip().startswith(marker):
                body.append((i + 1, text_lines[i]))
                i += 1
            i += 1
            previous_blank = False
            if lang in SHELL_FENCE_LANGS:
                commands.extend(split_commands(doc, body))
            elif lang == "":
                first = next((t for _, t in body if t.strip()), "")
                if is_shell_start(first.strip()):
                    commands.extend(split_commands(doc, body))
                else:
                    skipped.append((start, f"unlabelled fence, first token {first_token(first)!r}"))
            else:
                skipped.append((start, f"```{lang} fence"))
            continue
        indent = len(line) - len(line.lstrip(" "))
        if previous_blank and line.strip() and indent >= 4:
            block = []
            while i < len(text_lines):
                current = text_lines[i]
                current_indent = len(current) - len(current.lstrip(" "))
                if current.strip() and current_indent < indent:
                    break
                block.append((i + 1, current[indent:] if current.strip() else ""))
                i += 1
            while block and not block[-1][1].strip():
                block.pop()
            previous_blank = not text_lines[i - 1].strip() if i > 0 else True
            if is_shell_start(block[0][1].strip()):
                commands.extend(split_commands(doc, block))
            else:
                skipped.append((block[0][0], f"not shell, first token {first_token(block[0][1])!r}"))
            continue
        previous_blank = not line.strip()
        i += 1
    return commands, skipped


def unquoted_tokens(text):
    """Tokens of a command with quoted strings left out (their words are not placeholders)."""
    try:
        lexer = shlex.shlex(text, posix=False, punctuation_chars="|&;()")
        lexer.whitespace_split = True
        tokens = list(lexer)
    except ValueError:
        tokens = text.split()
    return [t for t in tokens if not t.startswith(("'", '"'))]


PLACEHOLDER = re.compile(r"^[A-Z][A-Z0-9]*(\.[a-z0-9]+)?(\.\.\.)?$")


def synopsis_reason(text):
    """Why a command is a usage synopsis, or None when it is concrete."""
    tokens = unquoted_tokens(text)
    for token in tokens:
        if token.startswith("[") or token.endswith("]") and "[" not in token:
            return f"option brackets {token!r}"
    if "(" in tokens and "|" in tokens:
        return "alternatives ( ... | ... )"
    for token in tokens:
        token = re.sub(r"^[A-Za-z_][A-Za-z0-9_]*=", "", token)
        token = re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\$\([^)]*\)", "", token)
        if token.startswith("-"):
            continue
        for part in re.split(r"[=,:/]", token):
            if PLACEHOLDER.match(part) and len(part) <= 12:
                return f"placeholder {part!r}"
    return None


def strip_wrappers(text):
    """The command words after env assignments and wrappers (sudo, nice -n N, env, time)."""
    words = text.split()
    i = 0
    while i < len(words):
        word = words[i]
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", word):
            i += 1
        elif word in WRAPPERS:
            i += 1
            while i < len(words) and (words[i].startswith("-") or
                                      re.match(r"^-?\d+$", words[i])):
                i += 1
        else:
            break
    return words[i:]


def command_prefix(text):
    """Program basename and sub-command words: `diffuser graph stats FILE ...` -> (...)."""
    words = strip_wrappers(text)
    if not words:
        return ()
    prefix = [os.path.basename(words[0])]
    for word in words[1:]:
        if re.match(r"^[a-z][a-z0-9-]*$", word):
            prefix.append(word)
        else:
            break
    return tuple(prefix)


def load_presets(repo):
    with open(os.path.join(repo, "CMakePresets.json"), encoding="utf-8") as f:
        presets = json.load(f)
    kinds = {}
    for kind in ("configurePresets", "buildPresets", "testPresets"):
        kinds[kind] = {p["name"]: p for p in presets.get(kind, [])}
    return kinds


def defined_targets(repo):
    """Target names defined in the CMake files of the tree (add_executable and friends)."""
    names = set()
    pattern = re.compile(
        r"\b(add_executable|add_library|add_custom_target|diffuser_add_test|"
        r"diffuser_add_fuzzer)\s*\(\s*([A-Za-z0-9_.-]+)")
    for root, dirs, files in os.walk(repo):
        dirs[:] = [d for d in dirs if d not in (".git", "build", "runs", "bench-out")]
        for name in files:
            if name == "CMakeLists.txt" or name.endswith(".cmake"):
                with open(os.path.join(root, name), encoding="utf-8", errors="replace") as f:
                    code = re.sub(r"#[^\n]*", "", f.read())
                    for function, target in pattern.findall(code):
                        # diffuser_add_fuzzer(NAME) builds fuzz_NAME (fuzz/CMakeLists.txt).
                        prefix = "fuzz_" if function == "diffuser_add_fuzzer" else ""
                        names.add(prefix + target)
    names.update({"all", "clean", "install"})
    return names


def preset_build_dir(preset):
    binary = preset.get("binaryDir", "")
    return binary.replace("${sourceDir}/", "") if binary else None


def check_build_step(command, repo, presets, targets, linked, unbuilt):
    """Static check of a build step. Returns a list of problems (empty: fine)."""
    problems = []
    for part in re.split(r"&&|;", command.text):
        words = strip_wrappers(part)
        if not words:
            continue
        program = words[0]
        if program in ("bash", "sh") and len(words) > 1:
            if not os.path.isfile(os.path.join(repo, words[1])):
                problems.append(f"no script {words[1]}")
            continue
        if program not in ("cmake", "ctest"):
            continue
        is_build = "--build" in words
        for i, word in enumerate(words):
            if word == "--preset" and i + 1 < len(words):
                name = words[i + 1]
                kind = ("testPresets" if program == "ctest" else
                        "buildPresets" if is_build else "configurePresets")
                if name not in presets[kind]:
                    problems.append(f"no {kind[:-7]} preset '{name}' in CMakePresets.json")
                    continue
                configure = presets["configurePresets"].get(
                    presets[kind][name].get("configurePreset", name), {})
                folder = preset_build_dir(configure)
                if folder and folder not in linked and not is_build:
                    unbuilt[folder] = command.where()
            if word == "--target" and i + 1 < len(words):
                for target in words[i + 1].split(","):
                    if target not in targets:
                        problems.append(f"no CMake target '{target}'")
    return problems


def used_build_dirs(command, presets):
    """The build/NAME folders a command uses: paths in it and the folder of a ctest preset."""
    folders = set(re.findall(r"(?:^|[\s=])(?:\./)?(build/[\w.-]+)/", command.text))
    words = strip_wrappers(command.text)
    if words and words[0] == "ctest" and "--preset" in words:
        i = words.index("--preset")
        test = presets["testPresets"].get(words[i + 1] if i + 1 < len(words) else "", {})
        configure = presets["configurePresets"].get(test.get("configurePreset", ""), {})
        folder = preset_build_dir(configure)
        if folder:
            folders.add(folder)
    return folders


def classify(commands, repo, have_gpu, linked, presets, targets):
    """Sets kind and reason of every command of one document (static part)."""
    for command in commands:
        synopsis = synopsis_reason(command.text)
        if synopsis:
            command.kind, command.reason = "synopsis", synopsis
            continue
        gpu = next((r for p, r in GPU_COMMANDS if re.search(p, command.text)), None)
        if gpu and not have_gpu:
            command.kind, command.reason = "gpu", f"needs an NVIDIA GPU ({gpu})"
            continue
        words = strip_wrappers(command.text)
        core = " ".join(words)
        build = next((r for p, r in BUILD_COMMANDS if re.search(p, core)), None)
        if build:
            command.kind, command.reason = "build", build
            continue
        if VENV_CREATE.search(command.text) and "build/torchenv" in linked:
            command.kind = "provided"
            command.reason = "build/torchenv is linked from --torchenv (not recreated)"
            continue
        if words and words[0] == "export":
            command.kind = "export"
            continue
        if re.search(r"scripts/check_docs\.py", core) and "--list" not in words:
            command.kind, command.reason = "self", "this checker: not run recursively"
            continue
        slow = next(((c, r) for p, c, r in SLOW_COMMANDS if re.search(p, core)), None)
        if slow:
            command.cap, command.reason = slow
            continue
        long_reason = next((r for p, r in LONG_COMMANDS if re.search(p, core)), None)
        if long_reason:
            command.kind, command.reason = "long", long_reason
    # Every synopsis needs a concrete example in the same document.
    concrete = [command_prefix(c.text) for c in commands
                if c.kind not in ("synopsis", "export")]
    for command in commands:
        if command.kind != "synopsis":
            continue
        prefix = command_prefix(command.text)
        if not any(p[:len(prefix)] == prefix for p in concrete):
            command.kind = "synopsis-without-example"


def make_scratch(repo, root, doc, links):
    """A clone of the repository's working tree for one document; returns its path."""
    name = doc.replace("/", "_")
    scratch = os.path.join(root, name)
    subprocess.run(["git", "clone", "--quiet", "--shared", repo, scratch], check=True)
    changed = subprocess.run(
        ["git", "-C", repo, "ls-files", "-z", "--modified", "--others", "--exclude-standard"],
        check=True, capture_output=True).stdout.decode().split("\0")
    deleted = set(subprocess.run(
        ["git", "-C", repo, "ls-files", "-z", "--deleted"],
        check=True, capture_output=True).stdout.decode().split("\0"))
    for path in changed:
        if not path or path in deleted:
            continue
        target = os.path.join(scratch, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(repo, path), target)
    for path in deleted:
        if path and os.path.lexists(os.path.join(scratch, path)):
            os.remove(os.path.join(scratch, path))
    os.makedirs(os.path.join(scratch, "build"), exist_ok=True)
    for link, target in links.items():
        os.symlink(target, os.path.join(scratch, link))
    return scratch


def apply_export(command, env, cwd):
    """Evaluates an export line with bash and returns the resulting environment."""
    script = command.text + "\nenv -0"
    result = subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True)
    if result.returncode != 0:
        return None, result.stderr.decode(errors="replace")
    new_env = {}
    for item in result.stdout.decode(errors="replace").split("\0"):
        if "=" in item:
            key, value = item.split("=", 1)
            new_env[key] = value
    for key in ("SHLVL", "_", "PWD", "OLDPWD"):
        new_env.pop(key, None)
        if key in env:
            new_env[key] = env[key]
    return new_env, ""


def run_command(text, cwd, env, cap, log_path):
    """Runs one command under a cap. Returns (exit status or None if still running, seconds)."""
    start = time.monotonic()
    with open(log_path, "wb") as log:
        log.write(f"$ {text}\n".encode())
        log.flush()
        process = subprocess.Popen(["bash", "-c", text], cwd=cwd, env=env,
                                   stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            status = process.wait(timeout=cap)
        except subprocess.TimeoutExpired:
            status = None
            for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
                try:
                    os.killpg(process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    process.wait(timeout=grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
    return status, time.monotonic() - start


def tail(path, lines=12):
    with open(path, "rb") as f:
        content = f.read().decode(errors="replace").rstrip("\n").split("\n")
    return content[-lines:]


def short(text, width=110):
    return text if len(text) <= width else text[:width - 3] + "..."


def report(command, status, seconds=None, detail=""):
    secs = f"{seconds:7.1f}s" if seconds is not None else " " * 8
    print(f"{command.where():<28} {status:<24} {secs}  {short(command.text)}", flush=True)
    if detail:
        for line in detail.rstrip("\n").split("\n"):
            print(f"{'':<28}   | {line}", flush=True)


def main():
    parser = argparse.ArgumentParser(
        description="Run every command of README.md and docs/*.md as written.")
    parser.add_argument("--build", metavar="DIR",
                        help="build folder linked as build/release and build/cpu of the copy "
                             "(e.g. build/release); required unless --list")
    parser.add_argument("--torchenv", metavar="DIR",
                        help="PyTorch venv linked as build/torchenv (default: the "
                             "repository's build/torchenv when it exists)")
    parser.add_argument("--extra", metavar="NAME=DIR", action="append", default=[],
                        help="also link DIR as build/NAME (e.g. fuzz=build/fuzz)")
    parser.add_argument("--only", metavar="FILE", nargs="+",
                        help="documents to check (default: README.md and docs/*.md)")
    parser.add_argument("--list", action="store_true",
                        help="print the extracted commands with file:line; run nothing")
    parser.add_argument("--cap", type=float, default=120.0,
                        help="seconds a command may run (default 120)")
    parser.add_argument("--long-cap", type=float, default=60.0,
                        help="seconds a listed long command runs before it counts as "
                             "started (default 60)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the scratch folder (its path is printed)")
    args = parser.parse_args()

    repo = subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(__file__)),
                           "rev-parse", "--show-toplevel"], check=True,
                          capture_output=True, text=True).stdout.strip()
    if args.only:
        docs = []
        for doc in args.only:
            path = os.path.relpath(os.path.abspath(doc), repo)
            if not os.path.isfile(os.path.join(repo, path)):
                die(f"no such document: {doc}")
            docs.append(path)
    else:
        docs = ["README.md"] + sorted(
            os.path.join("docs", name) for name in os.listdir(os.path.join(repo, "docs"))
            if name.endswith(".md"))

    links = {}
    if args.build:
        build = os.path.abspath(args.build)
        if not os.path.isdir(build):
            die(f"--build {args.build}: no such folder")
        links["build/release"] = build
        links["build/cpu"] = build
    elif not args.list:
        die("--build DIR is required (a built tree: build/release after README command (2))")
    torchenv = args.torchenv or os.path.join(repo, "build", "torchenv")
    if os.path.isdir(torchenv):
        links["build/torchenv"] = os.path.abspath(torchenv)
    elif args.torchenv:
        die(f"--torchenv {args.torchenv}: no such folder")
    for item in args.extra:
        name, _, folder = item.partition("=")
        if not name or not os.path.isdir(folder):
            die(f"--extra {item}: expected NAME=DIR with an existing DIR")
        links[f"build/{name}"] = os.path.abspath(folder)

    have_gpu = shutil.which("nvidia-smi") is not None and subprocess.run(
        ["nvidia-smi", "-L"], capture_output=True).returncode == 0
    presets = load_presets(repo)
    targets = defined_targets(repo)

    plan = []
    for doc in docs:
        commands, skipped = extract(doc, os.path.join(repo, doc))
        classify(commands, repo, have_gpu, links, presets, targets)
        plan.append((doc, commands, skipped))

    if args.list:
        for doc, commands, skipped in plan:
            for command in commands:
                label = command.kind + (f" ({command.reason})" if command.reason else "")
                print(f"{command.where():<28} {label}\n{'':<28}   {command.text}")
            for line, why in skipped:
                print(f"{doc}:{line:<{27 - len(doc)}} skipped block: {why}")
        orphans = [c for _, commands, _ in plan for c in commands
                   if c.kind == "synopsis-without-example"]
        for command in orphans:
            print(f"check_docs: {command.where()}: synopsis without a concrete example",
                  file=sys.stderr)
        return 1 if orphans else 0

    drop_sudo = os.geteuid() == 0 and shutil.which("sudo") is None
    root = tempfile.mkdtemp(prefix="check_docs.")
    counts = {}
    failures = []
    print(f"check_docs: scratch {root}; build {links.get('build/release')}; "
          f"cap {args.cap:g} s, long commands {args.long_cap:g} s; "
          f"GPU {'yes' if have_gpu else 'no'}", flush=True)

    def count(status, command=None):
        counts[status] = counts.get(status, 0) + 1
        if command is not None:
            failures.append(command)

    try:
        for doc, commands, _ in plan:
            if not commands:
                continue
            scratch = make_scratch(repo, root, doc, links)
            logs = os.path.join(scratch, ".check_docs")
            os.makedirs(logs, exist_ok=True)
            env = dict(os.environ)
            env["PATH"] = os.path.join(scratch, "build", "release", "cli") + os.pathsep + \
                env.get("PATH", "")
            env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            env["PWD"] = scratch
            unbuilt = {}
            for command in commands:
                if command.kind == "synopsis":
                    report(command, "synopsis (skipped)", detail="")
                    count("synopsis")
                    continue
                if command.kind == "synopsis-without-example":
                    report(command, "FAIL synopsis", detail="a usage line with no concrete "
                           "example of the same command in this document")
                    count("failed", command)
                    continue
                skip = SKIPPED_KINDS.get(command.kind)
                if skip is not None:
                    report(command, f"skipped: {skip[0]}", detail=command.reason)
                    count(f"skipped ({skip[1]})")
                    continue
                if command.kind == "build":
                    problems = check_build_step(command, scratch, presets, targets,
                                                links, unbuilt)
                    if problems:
                        report(command, "FAIL build step", detail="\n".join(problems))
                        count("failed", command)
                    else:
                        report(command, "build step: checked")
                        count("build steps (checked, not run)")
                    continue
                missing = next((f for f in sorted(used_build_dirs(command, presets))
                                if f in unbuilt), None)
                if missing:
                    report(command, "skipped: not built",
                           detail=f"needs {missing}, built by the step at {unbuilt[missing]} "
                                  f"(link one with --extra {missing.split('/', 1)[1]}=DIR)")
                    count("skipped (not built)")
                    continue
                text, note = command.text, ""
                if drop_sudo and text.startswith("sudo "):
                    text, note = text[len("sudo "):], "ran without sudo (root, no sudo binary)"
                if command.kind == "export":
                    new_env, error = apply_export(command, env, scratch)
                    if new_env is None:
                        report(command, "FAIL export", detail=error)
                        count("failed", command)
                    else:
                        env = new_env
                        report(command, "environment")
                        count("environment")
                    continue
                long = command.kind == "long"
                cap = args.long_cap if long else command.cap or args.cap
                log_path = os.path.join(logs, f"{command.line:05d}.log")
                status, seconds = run_command(text, scratch, env, cap, log_path)
                if status == 0:
                    report(command, "ok", seconds, detail=note)
                    count("ran to completion")
                elif status is None and long:
                    report(command, "started (cap reached)", seconds,
                           detail=f"{command.reason}; no error before the {cap:g} s cap")
                    count("started: no error before the cap")
                else:
                    what = f"FAIL exit {status}" if status is not None else "FAIL timeout"
                    report(command, what, seconds, detail="\n".join(tail(log_path)))
                    count("failed", command)
    finally:
        if args.keep:
            print(f"check_docs: kept the scratch folder {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)

    print("\nsummary: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
    if failures:
        print("failed:")
        for command in failures:
            print(f"  {command.where()}  {short(command.text, 100)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
