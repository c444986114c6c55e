"""The content catalogue: prompts, answers, provider errors and Hermes tools, drawn seeded.

Every factory that needs realistic text asks here, so what a run, a Result or an event says
comes from one place. All draws come from `seeding` (`rng()` and `faker()`), so
`agentfakes.seed(n)` repeats them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentfakes.models import with_iteration_limit_notice
from agentfakes.seeding import faker, rng

_PROMPTS = (
    "Summarize {path} in three bullet points.",
    "Why does `{test}` fail on main? Fix it if the fix is small.",
    "List the unfinished tasks under {folder} and group them by module.",
    "Draft release notes for version {version}.",
    "Check whether {url} is up and tell me the status code.",
    "Rename `{word}` to `{other}` across the repository and run the tests.",
    "What changed in {path} since the last release?",
    "Write a short reply to {name} about the {word} migration.",
)

_ANSWERS = (
    "Done. {s1}",
    "{s1} {s2}",
    "Here is the summary:\n\n- {s1}\n- {s2}\n- {s3}",
    "I checked {path}. {s1} {s2}",
    "All {n} tests pass now. {s1}",
)


def _fill(template: str) -> str:
    """A template filled with faker content (every key is drawn, so the rng use is fixed)."""
    fake = faker()
    return template.format(
        path=fake.file_path(depth=rng().randint(1, 3), extension="py", absolute=False),
        folder=fake.file_path(depth=2, absolute=False).rsplit("/", 1)[0] + "/",
        test=f"test_{fake.word()}_{fake.word()}",
        version=fake.numerify("#.%.#"),
        url=fake.url(),
        word=fake.word(),
        other=fake.word(),
        name=fake.first_name(),
        n=rng().randint(3, 240),
        s1=fake.sentence(nb_words=rng().randint(5, 12)),
        s2=fake.sentence(nb_words=rng().randint(5, 12)),
        s3=fake.sentence(nb_words=rng().randint(4, 9)),
    )


def prompt() -> str:
    return _fill(rng().choice(_PROMPTS))


def answer() -> str:
    return _fill(rng().choice(_ANSWERS))


def truncated_output() -> str:
    """Hermes' output when the iteration limit ends a run: summary plus notice (spec §9.4)."""
    return with_iteration_limit_notice(f"Progress so far: {faker().sentence(nb_words=10)}")


def _redacted_key() -> str:
    """An API key as Hermes redacts it in errors: first 6 chars, `...`, last 4."""
    prefix = rng().choice(("sk-pro", "sk-ant", "sk-or-", "sk-123"))
    tail = "".join(rng().choice("0123456789abcdefABCDEF") for _ in range(4))
    return f"{prefix}...{tail}"


# (exception class an SDK would raise, the redacted text Hermes reports)
_PROVIDER_ERRORS: tuple[tuple[str, Callable[[], str]], ...] = (
    ("InternalServerError", lambda: "HTTP 500: Internal Server Error"),
    ("AuthenticationError", lambda: f"HTTP 401: Invalid key {_redacted_key()}"),
    ("RateLimitError", lambda: "HTTP 429: Rate limit reached, retry in 20s"),
    ("InternalServerError", lambda: "HTTP 503: Service Unavailable"),
    ("InternalServerError", lambda: "HTTP 502: Bad Gateway"),
    (
        "BadRequestError",
        lambda: f"HTTP 400: maximum context length is {rng().choice((32768, 131072))} tokens",
    ),
    ("APIConnectionError", lambda: "Connection error."),
    ("APITimeoutError", lambda: "Request timed out."),
)


def provider_error() -> tuple[str, str]:
    """(class name, message) of a provider failure like the ones Hermes reports (spec §3)."""
    class_name, message = rng().choice(_PROVIDER_ERRORS)
    return class_name, message()


@dataclass(frozen=True)
class Tool:
    """How one Hermes tool's calls look: arguments, the event preview, a result, an error."""

    name: str
    arguments: Callable[[], dict[str, Any]]
    preview: Callable[[dict[str, Any]], str]
    value: Callable[[dict[str, Any]], Any]
    error: Callable[[dict[str, Any]], str]


def _shell_command() -> str:
    fake = faker()
    path = fake.file_path(depth=2, extension="py", absolute=False)
    return rng().choice(
        (
            "ls -la",
            "git status --short",
            f"pytest -q {path}",
            f"grep -rn '{fake.word()}' src/",
            f"cat {path}",
            "make test",
            f"du -sh {path.rsplit('/', 1)[0]}",
        )
    )


def _lines(n: int) -> str:
    return "\n".join(faker().sentence(nb_words=rng().randint(3, 8)) for _ in range(n))


_TOOLS: dict[str, Tool] = {
    entry.name: entry
    for entry in (
        Tool(
            "terminal",
            lambda: {"command": _shell_command()},
            lambda a: str(a["command"]),
            lambda a: {"output": _lines(rng().randint(1, 4)), "exit_code": 0},
            lambda a: f"Command exited with status {rng().choice((1, 2, 127))}",
        ),
        Tool(
            "read_file",
            lambda: {"path": faker().file_path(depth=rng().randint(1, 3), absolute=False)},
            lambda a: str(a["path"]),
            lambda a: {
                "content": _lines(rng().randint(2, 6)),
                "total_lines": rng().randint(8, 600),
            },
            lambda a: f"File not found: {a['path']}",
        ),
        Tool(
            "write_file",
            lambda: {
                "path": faker().file_path(depth=2, extension="md", absolute=False),
                "content": _lines(3),
            },
            lambda a: str(a["path"]),
            lambda a: {"bytes_written": len(str(a["content"]).encode())},
            lambda a: f"Permission denied: {a['path']}",
        ),
        Tool(
            "search_files",
            lambda: {"pattern": faker().word(), "path": "."},
            lambda a: str(a["pattern"]),
            lambda a: {
                "matches": [
                    f"{faker().file_path(depth=2, extension='py', absolute=False)}:"
                    f"{rng().randint(1, 400)}: {a['pattern']}"
                    for _ in range(rng().randint(1, 4))
                ]
            },
            lambda a: f"Invalid regex: {a['pattern']}(",
        ),
        Tool(
            "web_search",
            lambda: {"query": " ".join(faker().words(rng().randint(2, 5)))},
            lambda a: str(a["query"]),
            lambda a: {
                "results": [
                    {"title": faker().sentence(nb_words=5), "url": faker().url()}
                    for _ in range(rng().randint(1, 3))
                ]
            },
            lambda a: "Search backend timed out after 30s",
        ),
        Tool(
            "web_extract",
            lambda: {"urls": [faker().url()]},
            lambda a: str(a["urls"][0]),
            lambda a: {"content": faker().paragraph(nb_sentences=3)},
            lambda a: f"Failed to fetch {a['urls'][0]}: HTTP 403",
        ),
        Tool(
            "execute_code",
            lambda: {"code": f"print(sum(range({rng().randint(2, 1000)})))"},
            lambda a: str(a["code"]).splitlines()[0],
            lambda a: {"stdout": f"{rng().randint(1, 500_000)}\n"},
            lambda a: "NameError: name 'data' is not defined",
        ),
    )
}

_GENERIC_TOOL = Tool(
    "tool",
    lambda: {"input": faker().word()},
    lambda a: json.dumps(a)[:60],
    lambda a: {"ok": True},
    lambda a: "tool reported an error",
)


def tool(name: str) -> Tool:
    """The catalogue entry for a tool name; an unknown (custom) tool gets generic content."""
    return _TOOLS.get(name, _GENERIC_TOOL)


def random_tool_name() -> str:
    return rng().choice(tuple(_TOOLS))


# Commands Hermes' terminal guard gates, with the descriptions of what they match (spec §5.4).
_DANGEROUS_COMMANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("rm -rf /tmp/{word}-build", ("delete in root path", "recursive delete")),
    ("chmod -R 777 /var/www/{word}", ("world/other-writable permissions",)),
    ("chown -R root /srv/{word}", ("recursive chown to root",)),
    ("mkfs.ext4 /dev/sdb1", ("format filesystem",)),
    ("dd if=/dev/zero of=/dev/sdb bs=1M", ("disk copy",)),
    ("kill -9 -1", ("kill all processes",)),
)


def gated_command() -> dict[str, Any]:
    """The approval keys of a terminal command that Hermes' guard stops (spec §5.4)."""
    template, findings = rng().choice(_DANGEROUS_COMMANDS)
    return {
        "command": template.format(word=faker().word()),
        "pattern_key": findings[0],
        "pattern_keys": list(findings),
        "description": "; ".join(findings),
        "allow_permanent": True,
    }
