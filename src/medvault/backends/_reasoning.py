"""Separate a reasoning model's thoughts from its answer.

Engines deliver reasoning in one of three ways: a `<think>…</think>` block inside `content` (llama.cpp
with DeepSeek-R1 distills, Qwen3), or a separate `reasoning_content` / `reasoning` field (vLLM's reasoning
parsers, depending on the version). Clients always get `reasoning_content` apart from `content`.
"""

from __future__ import annotations

from typing import Any

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest end of `text` that could be the start of `tag` (split across chunks)."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


class ThinkSplitter:
    """Streams text in, gets (content, reasoning) out, even when a tag is cut between two chunks.

    `starts_inside` is for engines whose chat template already opened `<think>` in the prompt (the
    DeepSeek-R1 distills): their output begins with reasoning and only the closing tag appears.
    """

    def __init__(self, *, starts_inside: bool = False) -> None:
        self._inside = starts_inside
        self._buffer = ""

    def feed(self, text: str) -> tuple[str, str]:
        self._buffer += text
        content: list[str] = []
        reasoning: list[str] = []
        while True:
            tag = CLOSE_TAG if self._inside else OPEN_TAG
            sink = reasoning if self._inside else content
            index = self._buffer.find(tag)
            if index >= 0:
                sink.append(self._buffer[:index])
                self._buffer = self._buffer[index + len(tag) :]
                self._inside = not self._inside
                continue
            keep = _partial_suffix(self._buffer, tag)
            sink.append(self._buffer[: len(self._buffer) - keep])
            self._buffer = self._buffer[len(self._buffer) - keep :]
            return "".join(content), "".join(reasoning)

    def flush(self) -> tuple[str, str]:
        """Whatever a stream left in the buffer (an unfinished tag is just text)."""
        rest, self._buffer = self._buffer, ""
        return ("", rest) if self._inside else (rest, "")


def split_message(message: dict[str, Any], *, starts_inside: bool = False) -> dict[str, Any]:
    """Normalise one complete assistant message to `content` + `reasoning_content`."""
    reasoning = message.pop("reasoning", None) or message.get("reasoning_content")
    content = message.get("content")
    if isinstance(content, str) and (CLOSE_TAG in content or OPEN_TAG in content):
        # An answer with a closing tag but no opening one began inside the thoughts.
        inside = starts_inside or (CLOSE_TAG in content and OPEN_TAG not in content)
        splitter = ThinkSplitter(starts_inside=inside)
        answer, thoughts = splitter.feed(content)
        tail_answer, tail_thoughts = splitter.flush()
        content = (answer + tail_answer).lstrip()
        reasoning = (reasoning or "") + thoughts + tail_thoughts
    message["content"] = content
    if reasoning:
        message["reasoning_content"] = reasoning
    return message


def split_delta(delta: dict[str, Any], splitter: ThinkSplitter) -> dict[str, Any]:
    """Normalise one streamed delta in place, keeping the splitter's state across chunks."""
    reasoning = delta.pop("reasoning", None) or delta.get("reasoning_content") or ""
    content = delta.get("content")
    if isinstance(content, str) and content:
        answer, thoughts = splitter.feed(content)
        delta["content"] = answer
        reasoning += thoughts
    if reasoning:
        delta["reasoning_content"] = reasoning
    return delta
