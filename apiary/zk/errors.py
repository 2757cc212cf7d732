"""Errors of the ZKML pipeline. Each message says what is wrong and what to do next."""


class ZkError(Exception):
    """Base class: the CLI prints the message on one line and exits non-zero."""


class SrsError(ZkError):
    pass


class ModelError(ZkError):
    """An ONNX file or model that the pipeline cannot use."""


class DataError(ZkError):
    """Test data of the wrong shape or type."""


class ArtefactError(ZkError):
    """A missing or corrupt key, settings, proof or manifest file."""


class ProofError(ZkError):
    """Proving or verification failed."""
