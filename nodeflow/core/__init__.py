"""NodeFlow's Qt-free, torch-free core: types, node declarations, registry, graph, workflow files."""

from nodeflow.core.context import CancelToken, ModelStore, RunContext
from nodeflow.core.errors import (
    Cancelled,
    GraphEditError,
    NodeError,
    NodeFlowError,
    Problem,
    ValidationError,
    WorkflowFormatError,
)
from nodeflow.core.graph import Graph, Group, Link, NodeRecord
from nodeflow.core.registry import Registry, RegistryError, default_registry
from nodeflow.core.spec import REQUIRED, Input, Migration, Node, Output

__all__ = [
    "REQUIRED", "CancelToken", "Cancelled", "Graph", "GraphEditError", "Group", "Input", "Link",
    "Migration", "ModelStore", "Node", "NodeError", "NodeFlowError", "NodeRecord", "Output",
    "Problem", "Registry", "RegistryError", "RunContext", "ValidationError", "WorkflowFormatError",
    "default_registry",
]
