"""Apiary: tooling for an open protocol of data, model bounties and compute, checked on Ethereum."""

__version__ = "0.1.0"
