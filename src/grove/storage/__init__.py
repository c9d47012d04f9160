"""Deep storage: segment folders on local disk or object stores, reached through fsspec."""

from grove.storage.deep import EMPTY_NAMESPACE_DIR, DeepStorage

__all__ = ["EMPTY_NAMESPACE_DIR", "DeepStorage"]
