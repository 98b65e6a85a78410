"""Reasoning is split from the answer whatever way the engine delivers it."""

from __future__ import annotations

import pytest

from medvault.backends import ThinkSplitter, split_delta, split_message

CASES = [
    # (chunks, starts_inside, expected content, expected reasoning)
    (["<think>a</think>b"], False, "b", "a"),
    (["<thi", "nk>a</th", "ink>b"], False, "b", "a"),
    (["no tags at all"], False, "no tags at all", ""),
    (["a</think>b"], True, "b", "a"),
    (["x <", "b> y"], False, "x <b> y", ""),
    (["<think>unfinished"], False, "", "unfinished"),
    (["<think>", "</think>"], False, "", ""),
]


@pytest.mark.parametrize(("chunks", "inside", "content", "reasoning"), CASES)
def test_splitter_handles_tags_across_chunks(
    chunks: list[str], inside: bool, content: str, reasoning: str
) -> None:
    """Tags cut between chunks are still recognised, and nothing is lost or duplicated."""
    splitter = ThinkSplitter(starts_inside=inside)
    got_content, got_reasoning = "", ""
    for chunk in chunks:
        answer, thoughts = splitter.feed(chunk)
        got_content += answer
        got_reasoning += thoughts
    answer, thoughts = splitter.flush()
    assert (got_content + answer, got_reasoning + thoughts) == (content, reasoning)


def test_split_message_with_think_block() -> None:
    """A complete message loses its <think> block to `reasoning_content`."""
    message = split_message({"role": "assistant", "content": "<think>check side</think>\n\nLeft lung clear."})
    assert message["content"] == "Left lung clear."
    assert message["reasoning_content"] == "check side"


def test_split_message_with_only_closing_tag() -> None:
    """R1 distills open the block in the prompt: text before a lone </think> is reasoning."""
    message = split_message({"role": "assistant", "content": "thinking</think>answer"})
    assert (message["content"], message["reasoning_content"]) == ("answer", "thinking")


def test_split_message_with_vllm_reasoning_field() -> None:
    """vLLM's `reasoning` field is renamed to `reasoning_content`."""
    message = split_message({"role": "assistant", "content": "answer", "reasoning": "why"})
    assert message == {"role": "assistant", "content": "answer", "reasoning_content": "why"}


def test_split_delta_keeps_state() -> None:
    """Streamed deltas route text by the splitter's state across chunks."""
    splitter = ThinkSplitter()
    first = split_delta({"content": "<think>why"}, splitter)
    second = split_delta({"content": "</think>answer"}, splitter)
    assert first == {"content": "", "reasoning_content": "why"}
    assert second == {"content": "answer"}
