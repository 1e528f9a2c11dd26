"""No credentials in the repository: the tracked tree and every commit's added lines are scanned
with detect-secrets' detectors (AWS access keys and secret keys, private keys, GitHub and Slack
tokens). The placeholder credentials of local endpoints (``local``/``local``) match none of them.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector
from detect_secrets.plugins.slack import SlackDetector

ROOT = Path(__file__).resolve().parents[1]
PATTERNS: list[re.Pattern[str]] = [
    pattern
    for plugin in (AWSKeyDetector(), PrivateKeyDetector(), GitHubTokenDetector(), SlackDetector())
    for pattern in plugin.denylist
]
MAX_FILE_BYTES = 2 * 1024 * 1024


def find_secrets(text: str) -> list[str]:
    """The matched snippets (shortened), one per hit."""
    hits = []
    for pattern in PATTERNS:
        for match in pattern.finditer(text):
            hits.append(match.group(0)[:12] + "…")
    return hits


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True, errors="replace"
    ).stdout


def test_the_scanner_finds_a_planted_aws_key() -> None:
    """The control: the scan can fail (keys built here, so this file holds none)."""
    key_id = "AKIA" + "Z7" * 8
    secret = "wJalr" + "X" * 35
    planted = f'aws_access_key_id = {key_id}\naws_secret_access_key = "{secret}"\n'
    assert len(find_secrets(planted)) == 2
    assert find_secrets('aws_access_key_id = "local"\naws_secret_access_key = "local"\n') == []


def test_no_secret_in_the_tracked_tree() -> None:
    found: dict[str, list[str]] = {}
    for name in _git("ls-files", "-z").split("\0"):
        path = ROOT / name
        if not name or not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary
        if hits := find_secrets(text):
            found[name] = hits
    assert not found, found


def test_no_secret_in_the_git_history() -> None:
    """Every line any commit on any branch added (a key removed later is still leaked)."""
    log = _git("log", "--all", "-p", "--no-color", "--no-ext-diff", "--format=commit %H")
    commits, found = 0, []
    commit = ""
    for line in log.splitlines():
        if line.startswith("commit "):
            commit, commits = line[7:15], commits + 1
        elif line.startswith("+") and not line.startswith("+++") and (hits := find_secrets(line)):
            found.append((commit, hits))
    assert commits >= 1
    assert not found, found
