"""Profiles: several named servers in a 0600 TOML file, tokens never printed back, and
which one applies: `--profile`, then TASKHUB_URL / TASKHUB_TOKEN, then TASKHUB_PROFILE,
then the file's current one. Requests carry the chosen token as a Bearer credential."""

from __future__ import annotations

import stat
import tomllib

from .conftest import ADMIN_TOKEN

SECRET = "profile-secret-token-0123456789"


def test_profiles_are_saved_0600_and_never_show_their_token(cli, tmp_path):
    config = tmp_path / "profiles.toml"
    added = cli("profile", "add", "local", "--url", "http://127.0.0.1:8000/", "--token", SECRET)
    assert added.code == 0 and SECRET not in added.out + added.err
    piped = cli(
        "profile", "add", "prod", "--url", "https://taskhub.example.com", input="prod-tok\n"
    )
    assert piped.code == 0
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    saved = tomllib.loads(config.read_text())
    assert saved["current"] == "local"  # the first one, until another is chosen
    assert saved["profiles"]["prod"] == {"url": "https://taskhub.example.com", "token": "prod-tok"}
    assert saved["profiles"]["local"]["url"] == "http://127.0.0.1:8000"
    listed = cli("profile", "list")
    assert "local" in listed.out and "prod" in listed.out and "set" in listed.out
    assert SECRET not in listed.out and "prod-tok" not in listed.out
    as_json = cli("profile", "list", "--json").json()
    assert as_json == [
        {"profile": "local", "url": "http://127.0.0.1:8000", "token": True, "current": True},
        {"profile": "prod", "url": "https://taskhub.example.com", "token": True, "current": False},
    ]
    assert cli("profile", "use", "prod").code == 0
    assert tomllib.loads(config.read_text())["current"] == "prod"
    assert cli("profile", "use", "nope").code == 3


def test_which_profile_applies(cli):
    cli("profile", "add", "a", "--url", "http://a.example:1", "--token", "ta")
    cli("profile", "add", "b", "--url", "http://b.example:2", "--token", "tb")

    def which(*flags, **env):
        done = cli(*flags, "profile", "which", "--json", **env)
        assert done.code == 0, done
        return done.json()

    assert which() == {
        "url": "http://a.example:1",
        "profile": "a",
        "source": "profile a",
        "token": True,
    }
    assert which(TASKHUB_PROFILE="b")["url"] == "http://b.example:2"
    over = which(TASKHUB_PROFILE="b", TASKHUB_URL="http://env.example:3")
    assert (over["url"], over["profile"], over["source"]) == (
        "http://env.example:3",
        "b",
        "TASKHUB_URL",
    )
    assert (
        which("--profile", "b", TASKHUB_URL="http://env.example:3")["url"] == "http://b.example:2"
    )
    missing = cli("--profile", "zzz", "profile", "which")
    assert missing.code == 3 and "no profile 'zzz'" in missing.err
    wrong = cli("profile", "which", TASKHUB_PROFILE="zzz")
    assert wrong.code == 3 and "TASKHUB_PROFILE" in wrong.err


def test_the_chosen_token_is_sent_and_a_bad_one_is_one_clear_line(cli, server):
    cli("profile", "add", "admin", "--url", server.base, "--token", ADMIN_TOKEN)
    cli("profile", "add", "stale", "--url", server.base, "--token", "stale-token-0123456789")
    good = cli("--profile", "admin", "workspace", "export")
    assert good.code == 0 and "users" in good.json()
    bad = cli("--profile", "stale", "workspace", "export")
    assert bad.code == 3 and bad.out == "" and "Traceback" not in bad.err
    assert bad.err.count("\n") == 1
    assert bad.err.startswith("taskhub: 401: the token was refused (")
    assert bad.err.rstrip().endswith("; check `taskhub profile list` or TASKHUB_TOKEN")
    # the environment's token beats the current profile's
    env = cli("workspace", "export", TASKHUB_PROFILE="stale", TASKHUB_TOKEN=ADMIN_TOKEN)
    assert env.code == 0
