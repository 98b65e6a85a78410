"""Adapters to inference engines that speak the OpenAI API, and the embedded llama.cpp engine."""

from medvault.backends._embedded import OFFLINE_ENV, llama_server_argv
from medvault.backends._managed import Launch, check_replica, launch
from medvault.backends._queue import QueueDepth, waiting_in
from medvault.backends._reasoning import ThinkSplitter, split_delta, split_message
from medvault.backends._router import ModelRouter, health_loop
from medvault.backends._runtime import (
    ModelSpec,
    ReplicaSpec,
    Runtime,
    replica_digest,
    replica_name,
    resolve_runtime,
)
from medvault.backends._upstream import Replica, post_json, stream_batches

__all__ = [
    "OFFLINE_ENV",
    "Launch",
    "ModelRouter",
    "ModelSpec",
    "QueueDepth",
    "Replica",
    "ReplicaSpec",
    "Runtime",
    "ThinkSplitter",
    "check_replica",
    "health_loop",
    "launch",
    "llama_server_argv",
    "post_json",
    "replica_digest",
    "replica_name",
    "resolve_runtime",
    "split_delta",
    "split_message",
    "stream_batches",
    "waiting_in",
]
