"""The command line's memory between runs is the account's file store (:mod:`evclient.state.file`)."""

from ..state.file import LISTING_MAX_AGE, FileStore, StateFile, StateFileError, merge_budget, state_dir

__all__ = ["LISTING_MAX_AGE", "FileStore", "StateFile", "StateFileError", "merge_budget", "state_dir"]
