"""Compatibility re-export: use `apiary.deploy.governance`."""

from ..deploy.governance import *  # noqa: F401,F403
from ..deploy.governance import LocalProposalRunner, Proposal, call  # noqa: F401
