"""The account's state store (see :mod:`evclient.state.base`): in memory, or in a private file."""

from .base import PARTS, AccountStore, MemoryStore
from .file import FileStore, StateFileError, state_dir

__all__ = ["PARTS", "AccountStore", "FileStore", "MemoryStore", "StateFileError", "state_dir"]
